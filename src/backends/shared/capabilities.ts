// Engine facts → Capabilities (architecture.md §5): host capacity from /info (Docker), the biggest
// ready node (Swarm), and the Docker job-name rule. Pure; the callers make the engine calls.
import type { Capabilities, JobNameRule } from '../backend.js';

const MIB = 2 ** 20;

/** The engine's container-name rule (api.md §5.3), with our length cap. */
export const DOCKER_JOB_NAME: JobNameRule = {
  pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/,
  maxLength: 63,
  rule: "2-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
};

/** The parts of GET /info we read. */
export interface EngineInfo {
  NCPU?: number;
  /** Bytes. */
  MemTotal?: number;
}

/** The parts of a Swarm node (GET /nodes) we read. */
export interface EngineNode {
  Status?: { State?: string };
  Spec?: { Availability?: string };
  Description?: { Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
}

export interface Capacity {
  /** Millicores; null when the engine did not say. */
  cpuMillicores: number | null;
  /** MiB; null when the engine did not say. */
  memoryMiB: number | null;
}

function positive(n: number | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/** The host's CPUs and memory as /info reports them. */
export function capacityFromInfo(info: EngineInfo): Capacity {
  return {
    cpuMillicores: positive(info.NCPU) ? Math.floor(info.NCPU * 1000) : null,
    memoryMiB: positive(info.MemTotal) ? Math.floor(info.MemTotal / MIB) : null,
  };
}

/**
 * The largest CPU and memory capacity among ready, active nodes (each dimension on its own: a job
 * bigger than every node in either dimension can never be placed).
 */
export function capacityFromNodes(nodes: readonly EngineNode[]): Capacity {
  let cpu: number | null = null;
  let mem: number | null = null;
  for (const node of nodes) {
    if (node.Status?.State !== 'ready') continue;
    if (node.Spec?.Availability !== undefined && node.Spec.Availability !== 'active') continue;
    const res = node.Description?.Resources;
    if (positive(res?.NanoCPUs)) cpu = Math.max(cpu ?? 0, Math.floor(res.NanoCPUs / 1e6));
    if (positive(res?.MemoryBytes)) mem = Math.max(mem ?? 0, Math.floor(res.MemoryBytes / MIB));
  }
  return { cpuMillicores: cpu, memoryMiB: mem };
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
  };
}
