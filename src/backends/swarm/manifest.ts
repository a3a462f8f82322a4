// toServiceSpec: JobSpec → Swarm ServiceSpec (pure; architecture.md §5.1, the Swarm table).
import path from 'node:path';
import { UnsupportedError } from '../../domain/errors.js';
import type { JobHardening } from '../shared/job-hardening.js';
import type { LimitModes } from '../shared/limit-modes.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../shared/labels.js';
import { SERVICE_PORT_LABEL } from '../shared/service-settings.js';
import type { ServicePublishMode } from './settings.js';
import type { JobSpec } from '../../domain/job.js';

const MIB = 2 ** 20;

/** A bind mount of a host directory, or the tmpfs that replaces /dev/shm (SHM_SIZE). */
export type SwarmMount =
  | { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean }
  | { Type: 'tmpfs'; Target: '/dev/shm'; TmpfsOptions: { SizeBytes: number } };

/** Engine API GenericResource (the dockerode typings flatten it wrongly, so we spell it here). */
export interface DiscreteGenericResource {
  DiscreteResourceSpec: { Kind: string; Value: number };
}

/**
 * The exact subset of the Engine API ServiceSpec we send
 * (https://docs.docker.com/engine/api/v1.41/#operation/ServiceCreate).
 */
export interface SwarmServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Command: string[];
      Env: string[];
      Labels: Record<string, string>;
      /** pman ran Swarm jobs with a TTY; clients see it as `\r\n` line ends in `logs`. */
      TTY: true;
      User?: string;
      Groups?: string[];
      Mounts: SwarmMount[];
      /** API 1.41+. */
      CapabilityDrop?: string[];
      CapabilityAdd?: string[];
      /** API 1.46+ (the backend refuses JOB_NO_NEW_PRIVILEGES=yes on an older engine). */
      Privileges?: { NoNewPrivileges: true };
      /** Nanoseconds between the SIGTERM and the SIGKILL of a stop (a cancel scales to 0). */
      StopGracePeriod?: number;
    };
    /** Batch jobs: none (the one task is the run). Service jobs: any, after Delay (ns), without
     *  end (MaxAttempts 0): the job service stops one that never gets healthy. */
    RestartPolicy: { Condition: 'none' } | { Condition: 'any'; Delay: number; MaxAttempts: 0 };
    /** Batch jobs: JOB_NETWORK; service jobs: SERVICE_NETWORK. Absent: none named (`bridge`). */
    Networks?: { Target: string }[];
    Resources: {
      /** NanoCPUs: 1e9 = one CPU; MemoryBytes: bytes; Pids (API 1.41+): 0 = no limit. */
      Limits: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number };
      Reservations?: { MemoryBytes?: number; GenericResources?: DiscreteGenericResource[] };
    };
  };
  /** 1 at create; a cancel scales it to 0 (the task stops, the service and its log stay). */
  Mode: { Replicated: { Replicas: number } };
  /** Service jobs only: the one published port. No PublishedPort: the swarm picks one (ingress:
   *  from its range; host: a free port of the node), reported back in the service's or the
   *  task's port status. */
  EndpointSpec?: { Ports: [PublishedPortSpec] };
}

export interface PublishedPortSpec {
  Protocol: 'tcp';
  TargetPort: number;
  PublishMode: ServicePublishMode;
  /** Host mode: picked once at create, since the swarm would pick a new port for each task. */
  PublishedPort?: number;
}

/** Seconds the swarm waits before it restarts a service job's task that ended (any reason). */
export const SERVICE_RESTART_DELAY_SECONDS = 3;

/** How service jobs are published (issue 15); swarm.ts passes the backend's settings. */
export interface ServicePublishing {
  publishMode: ServicePublishMode;
  /** SERVICE_NETWORK; `bridge`: no network in the spec. */
  network: string;
  /** Host mode: the node port chosen for this job (swarm.ts asks the OS for a free one). Unset:
   *  the swarm picks one per task (ingress: one for the service, which stays). */
  publishedPort?: number;
}

export interface ServiceSpecOptions {
  /** SWARM_GPU_RESOURCE: the generic-resource kind nodes advertise for GPUs. */
  gpuResource?: string;
  /** PID limit, capabilities and network (issue 10, 9 and 4); unset: none of them. */
  hardening?: JobHardening;
  /** Whether the engine honours Privileges.NoNewPrivileges (API 1.46+); swarm.ts decides. */
  noNewPrivileges?: boolean;
  /** This instance's managed-by value (managedByValue(INSTANCE_ID)); unset: `pman`. */
  managedBy?: string;
  /** MEMORY_LIMIT_MODE / IGNORE_LIMITS (issue 13); unset: hard limits, as before. */
  limits?: LimitModes;
  /** CANCEL_GRACE_SECONDS as the task's StopGracePeriod; unset: Swarm's default (10 s). */
  stopGraceSeconds?: number;
  /** Service jobs' publishing; unset: ingress mode, no network named. */
  service?: ServicePublishing;
}

const DEFAULT_PUBLISHING: ServicePublishing = { publishMode: 'ingress', network: 'bridge' };

/**
 * One replicated service with one replica and restart condition `none`: its single task runs
 * once, as under pman. A service job (spec.service) is the same service restarted on any end
 * after a short delay, with its port published and the port in a label. Everything pman's Swarm backend dropped (limits, user, labels, GPUs, shm)
 * is realized here; what cannot be realized throws UnsupportedError (assertSupported normally
 * refuses it earlier, so this is a second line of defence, not the user-facing check).
 */
export function toServiceSpec(spec: JobSpec, opts: ServiceSpecOptions): SwarmServiceSpec {
  const { workers, cpuMillicores, memoryMiB, gpus } = spec.resources;
  if (workers !== 1) {
    throw new UnsupportedError(
      `Compute environment only supports number_of_workers=1, got number_of_workers=${workers}`,
    );
  }
  const containerSpec: SwarmServiceSpec['TaskTemplate']['ContainerSpec'] = {
    Image: spec.image,
    Command: [...spec.command],
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: labels(spec, opts),
    TTY: true,
    Mounts: toMounts(spec),
  };
  const h = opts.hardening;
  if (h !== undefined && h.capDrop.length > 0) containerSpec.CapabilityDrop = [...h.capDrop];
  if (h !== undefined && h.capAdd.length > 0) containerSpec.CapabilityAdd = [...h.capAdd];
  if (opts.noNewPrivileges === true) containerSpec.Privileges = { NoNewPrivileges: true };
  if (spec.user?.uid !== undefined) containerSpec.User = String(spec.user.uid);
  if (spec.user?.gid !== undefined) containerSpec.Groups = [String(spec.user.gid)];
  if (opts.stopGraceSeconds !== undefined)
    containerSpec.StopGracePeriod = opts.stopGraceSeconds * 1e9;

  const resources = limitsOf(cpuMillicores, memoryMiB, opts.limits);
  if (h !== undefined && h.pidsLimit > 0) resources.Limits.Pids = h.pidsLimit;
  if (gpus > 0) {
    if (opts.gpuResource === undefined) {
      throw new UnsupportedError(
        `gpu_limit=${gpus} but this swarm backend has no GPU resource configured (set SWARM_GPU_RESOURCE)`,
      );
    }
    resources.Reservations = {
      ...resources.Reservations,
      GenericResources: [{ DiscreteResourceSpec: { Kind: opts.gpuResource, Value: gpus } }],
    };
  }

  const service = spec.service;
  if (service === undefined) {
    return {
      Name: spec.name,
      Labels: labels(spec, opts),
      TaskTemplate: {
        ContainerSpec: containerSpec,
        RestartPolicy: { Condition: 'none' },
        ...(h !== undefined && h.network !== 'bridge' && { Networks: [{ Target: h.network }] }),
        Resources: resources,
      },
      Mode: { Replicated: { Replicas: 1 } },
    };
  }
  // A service never joins JOB_NETWORK: on the internal overlay a host-mode port is not published.
  const publishing = opts.service ?? DEFAULT_PUBLISHING;
  return {
    Name: spec.name,
    Labels: labels(spec, opts),
    TaskTemplate: {
      ContainerSpec: containerSpec,
      RestartPolicy: {
        Condition: 'any',
        Delay: SERVICE_RESTART_DELAY_SECONDS * 1e9,
        MaxAttempts: 0,
      },
      ...(publishing.network !== 'bridge' && { Networks: [{ Target: publishing.network }] }),
      Resources: resources,
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: {
      Ports: [
        {
          Protocol: 'tcp',
          TargetPort: service.port,
          PublishMode: publishing.publishMode,
          ...(publishing.publishedPort !== undefined && {
            PublishedPort: publishing.publishedPort,
          }),
        },
      ],
    },
  };
}

/**
 * The CPU and memory part of the task's resources by MEMORY_LIMIT_MODE / IGNORE_LIMITS: hard =
 * both limits (the default); soft = the CPU limit and a memory reservation only (as pman's Docker
 * backend); IGNORE_LIMITS = none (as pman's Swarm backend, which set no limits at all).
 */
export function limitsOf(
  cpuMillicores: number,
  memoryMiB: number,
  modes: LimitModes = { ignoreLimits: false, memoryLimitMode: 'hard' },
): SwarmServiceSpec['TaskTemplate']['Resources'] {
  if (modes.ignoreLimits) return { Limits: {} };
  const bytes = memoryMiB * MIB;
  if (modes.memoryLimitMode === 'soft') {
    return { Limits: { NanoCPUs: cpuMillicores * 1e6 }, Reservations: { MemoryBytes: bytes } };
  }
  return { Limits: { NanoCPUs: cpuMillicores * 1e6, MemoryBytes: bytes } };
}

/** JOB_LABELS plus our managed-by label (ours wins): list() and get() only see services carrying
 *  it; a service job's port too, so status and a restarted server know it for one. */
function labels(spec: JobSpec, opts: ServiceSpecOptions): Record<string, string> {
  // Only a service job carries the port label: a user label of that key must not turn a batch
  // job into one.
  const own = Object.entries(spec.labels).filter(([k]) => k !== SERVICE_PORT_LABEL);
  return {
    ...Object.fromEntries(own),
    ...(spec.service !== undefined && { [SERVICE_PORT_LABEL]: String(spec.service.port) }),
    [DOCKER_MANAGED_BY_LABEL]: opts.managedBy ?? MANAGED_BY_VALUE,
  };
}

function toMounts(spec: JobSpec): SwarmMount[] {
  const mounts: SwarmMount[] = spec.mounts.map((m) => {
    if (m.kind !== 'host') {
      throw new UnsupportedError(`this swarm backend cannot mount storage of kind "${m.kind}"`);
    }
    return {
      Type: 'bind',
      Source: path.posix.join(m.source, m.subPath),
      Target: m.containerPath,
      ReadOnly: m.readOnly,
    };
  });
  if (spec.shmMiB !== undefined) {
    mounts.push({
      Type: 'tmpfs',
      Target: '/dev/shm',
      TmpfsOptions: { SizeBytes: spec.shmMiB * MIB },
    });
  }
  return mounts;
}
