// What the Docker engine tells us at start-up (GET /info) as Capabilities (pure; architecture.md §5).
import { z } from 'zod';
import type { Capabilities, NodeCapacity } from '../backend.js';
import { DOCKER_JOB_NAME } from './job-name.js';

const MIB = 2 ** 20;

/** The parts of GET /info we read; an engine that leaves them out has no limits checked. */
const infoSchema = z.object({
  NCPU: z.number().optional(),
  /** Bytes. */
  MemTotal: z.number().optional(),
  /** The host's name (GET /api/v1/capacity/ names the node by it). */
  Name: z.string().optional(),
  /** Resources advertised to swarm (`--node-generic-resource gpu=…`): GPUs show here if at all. */
  GenericResources: z
    .array(
      z.object({
        DiscreteResourceSpec: z.object({ Kind: z.string(), Value: z.number() }).optional(),
        NamedResourceSpec: z.object({ Kind: z.string(), Value: z.string() }).optional(),
      }),
    )
    .nullable()
    .optional(),
});

export type EngineInfo = z.infer<typeof infoSchema>;

export interface Capacity {
  /** Millicores; null when the engine did not say. */
  cpuMillicores: number | null;
  /** MiB; null when the engine did not say. */
  memoryMiB: number | null;
}

function positive(n: number | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/** Narrows a GET /info answer (unknown from the client library). */
export function parseInfo(raw: unknown): EngineInfo {
  return infoSchema.parse(raw ?? {});
}

/** The host's CPUs and memory as /info reports them. */
export function capacityFromInfo(info: EngineInfo): Capacity {
  return {
    cpuMillicores: positive(info.NCPU) ? Math.floor(info.NCPU * 1000) : null,
    memoryMiB: positive(info.MemTotal) ? Math.floor(info.MemTotal / MIB) : null,
  };
}

type GenericResources = EngineInfo['GenericResources'];

/** GPUs among generic resources: a discrete count, or one per named device, of a kind naming them. */
export function gpusOf(resources: GenericResources): number {
  let gpus = 0;
  for (const r of resources ?? []) {
    if (r.DiscreteResourceSpec !== undefined && /gpu/i.test(r.DiscreteResourceSpec.Kind))
      gpus += Math.max(0, r.DiscreteResourceSpec.Value);
    if (r.NamedResourceSpec !== undefined && /gpu/i.test(r.NamedResourceSpec.Kind)) gpus += 1;
  }
  return gpus;
}

/** The engine's host as GET /api/v1/capacity/ shows it (0 for what the engine did not say). */
export function nodeFromInfo(info: EngineInfo): NodeCapacity {
  const capacity = capacityFromInfo(info);
  return {
    name: info.Name ?? 'docker',
    cpuMillicores: capacity.cpuMillicores ?? 0,
    memoryMiB: capacity.memoryMiB ?? 0,
    gpus: gpusOf(info.GenericResources),
  };
}

/**
 * Docker / Podman capabilities. With IGNORE_LIMITS no CPU or memory limit is set, so none is
 * checked either. GPUs are declared available: whether the engine really has them shows only when
 * a container starts, and that start failure is answered 400 (api.md §16 row 4).
 */
export function dockerCapabilities(
  info: EngineInfo,
  opts: { ignoreLimits: boolean },
): Capabilities {
  const capacity = capacityFromInfo(info);
  return {
    maxWorkers: 1,
    gpus: true,
    maxCpuMillicores: opts.ignoreLimits ? null : capacity.cpuMillicores,
    maxMemoryMiB: opts.ignoreLimits ? null : capacity.memoryMiB,
    runAsUser: true,
    mountKinds: ['host'],
    jobName: DOCKER_JOB_NAME,
    // Service jobs publish a host port (issue 15); NodePort is a Kubernetes Service type.
    services: { nodePort: false },
  };
}
