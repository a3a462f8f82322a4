// toContainerCreate(spec, opts): JobSpec → the Engine's container create body (pure).
// The mapping is architecture.md §5.1 ("Docker / Podman"), field by field.
import path from 'node:path';
import type { ContainerCreateOptions, HostConfig } from 'dockerode';
import { UnsupportedError } from '../../domain/errors.js';
import { defaultJobHardening } from '../shared/job-hardening.js';
import type { JobHardening } from '../shared/job-hardening.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../shared/labels.js';
import { SERVICE_PORT_LABEL } from '../shared/service-settings.js';
import { DOCKER_DEFAULT_JOB_NETWORK, serviceSettings } from './settings.js';
import type { ServiceSettings } from './settings.js';
import type { JobSpec, Mount, ServiceSpec } from '../../domain/job.js';

const MIB = 2 ** 20;

export interface ContainerCreateOpts {
  /** IGNORE_LIMITS: set no CPU or memory limit (rootless Podman); GPU requests still apply. */
  ignoreLimits: boolean;
  /** MEMORY_LIMIT_MODE: 'hard' sets Memory and MemoryReservation, 'soft' only the reservation (pman). */
  memoryLimitMode: 'hard' | 'soft';
  /** PID limit, capabilities, no-new-privileges and network (issue 10, 9 and 4); unset: the
   *  defaults, so a caller that forgets it gets a confined job, not an open one. */
  hardening?: JobHardening;
  /** This instance's managed-by value (managedByValue(INSTANCE_ID)); unset: `pman`. */
  managedBy?: string;
  /** Podman (flavour.ts): a PID limit of 0 is sent as -1, else Podman applies its own default. */
  explicitNoPidsLimit?: boolean;
  /** SERVICE_BIND_IP and SERVICE_NETWORK, for service jobs; unset: 127.0.0.1 and `bridge`. */
  service?: ServiceSettings;
  /** A service job's host port, chosen by the backend (host-port.ts); unset: the engine picks
   *  one, a new one at each restart of the container. */
  hostPort?: number;
}

/** `<source>/<subPath>:<containerPath>:ro|rw`; only host directories can be bind-mounted here. */
function toBind(mount: Mount): string {
  if (mount.kind !== 'host') {
    // assertSupported refuses this before any backend call; refusing again keeps the manifest honest.
    throw new UnsupportedError(`this docker backend cannot mount storage of kind "${mount.kind}"`);
  }
  const source = path.posix.join(mount.source, mount.subPath);
  return `${source}:${mount.containerPath}:${mount.readOnly ? 'ro' : 'rw'}`;
}

function limits(spec: JobSpec, opts: ContainerCreateOpts): HostConfig {
  if (opts.ignoreLimits) return {};
  const bytes = spec.resources.memoryMiB * MIB;
  return {
    NanoCpus: spec.resources.cpuMillicores * 1e6,
    // MemorySwap = Memory keeps the hard limit a real one: without it the engine allows as much
    // swap again, and a job over its limit swaps instead of being OOMKilled.
    ...(opts.memoryLimitMode === 'hard' && { Memory: bytes, MemorySwap: bytes }),
    MemoryReservation: bytes,
  };
}

/** What confines a job: each part visible in `docker inspect` (HostConfig). */
function confinement(h: JobHardening, explicitNoPidsLimit = false): HostConfig {
  return {
    ...(h.noNewPrivileges && { SecurityOpt: ['no-new-privileges'] }),
    ...(h.pidsLimit > 0 && { PidsLimit: h.pidsLimit }),
    ...(h.pidsLimit === 0 && explicitNoPidsLimit && { PidsLimit: -1 }),
    ...(h.capDrop.length > 0 && { CapDrop: [...h.capDrop] }),
    ...(h.capAdd.length > 0 && { CapAdd: [...h.capAdd] }),
    // `none`: loopback only; any other name is a network that start-up found on the engine.
    NetworkMode: h.network,
  };
}

/**
 * A service job (issue 15) publishes its port on SERVICE_BIND_IP at the host port the backend
 * chose (host-port.ts; unset: HostPort "", the engine picks), and joins SERVICE_NETWORK instead of JOB_NETWORK (`none` cannot publish). The
 * engine restarts a crashing server itself, with its bounded exponential backoff; `unless-stopped`
 * because a `docker stop` (cancel, start timeout) is a manual stop it then respects.
 */
function serviceParts(
  service: ServiceSpec,
  settings: ServiceSettings,
  hostPort: number | undefined,
): { exposed: ContainerCreateOptions['ExposedPorts']; host: HostConfig } {
  const key = `${service.port}/tcp`;
  const HostPort = hostPort === undefined ? '' : String(hostPort);
  return {
    exposed: { [key]: {} },
    host: {
      PortBindings: { [key]: [{ HostIp: settings.bindIp, HostPort }] },
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: settings.network,
    },
  };
}

/**
 * The create body for one container named after the job. The command replaces the image's
 * ENTRYPOINT and CMD (api.md §6); WorkingDir stays unset so the image's WORKDIR applies, as under
 * pman. Our managed-by label is always set, so list() and a restarted server find the job again.
 */
export function toContainerCreate(
  spec: JobSpec,
  opts: ContainerCreateOpts,
): ContainerCreateOptions {
  const { uid, gid } = spec.user ?? {};
  const service =
    spec.service === undefined
      ? undefined
      : serviceParts(spec.service, opts.service ?? serviceSettings({}), opts.hostPort);
  const hostConfig: HostConfig = {
    Binds: spec.mounts.map(toBind),
    ...limits(spec, opts),
    ...(spec.resources.gpus > 0 && {
      // What `docker run --gpus <n>` sends; needs the NVIDIA Container Toolkit on the host.
      DeviceRequests: [{ Driver: '', Count: spec.resources.gpus, Capabilities: [['gpu']] }],
    }),
    ...(spec.shmMiB !== undefined && { ShmSize: spec.shmMiB * MIB }),
    // pman's Docker mapping of CONTAINER_USER: the GID becomes a supplementary group.
    ...(gid !== undefined && { GroupAdd: [String(gid)] }),
    RestartPolicy: { Name: 'no' },
    ...confinement(
      opts.hardening ?? defaultJobHardening(DOCKER_DEFAULT_JOB_NETWORK),
      opts.explicitNoPidsLimit,
    ),
    ...service?.host,
  };
  return {
    name: spec.name,
    Image: spec.image,
    Entrypoint: [...spec.command],
    Cmd: [],
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: {
      ...spec.labels,
      [DOCKER_MANAGED_BY_LABEL]: opts.managedBy ?? MANAGED_BY_VALUE,
      ...(spec.service !== undefined && { [SERVICE_PORT_LABEL]: String(spec.service.port) }),
    },
    Tty: false,
    ...(service !== undefined && { ExposedPorts: service.exposed }),
    ...(uid !== undefined && { User: String(uid) }),
    HostConfig: hostConfig,
  };
}
