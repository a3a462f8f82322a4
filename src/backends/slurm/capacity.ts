// Capabilities from the cluster (GET /nodes): the largest node's CPUs, memory and GPUs, so that a
// job no node can ever hold is refused with a 400 instead of pending forever.
import type { Capabilities } from '../../domain/capabilities.js';
import type { NodeCapacity } from '../backend.js';
import { SLURM_JOB_NAME } from './job-name.js';
import type { SlurmRuntime } from './settings.js';
import { gpusOf, type SlurmNode } from './status.js';

export function nodeCapacities(nodes: readonly SlurmNode[]): NodeCapacity[] {
  return nodes.map((n) => ({
    name: n.name,
    cpuMillicores: n.cpus * 1000,
    memoryMiB: n.real_memory,
    gpus: gpusOf(n.gres),
  }));
}

export function slurmCapabilities(
  nodes: readonly SlurmNode[],
  runtime: SlurmRuntime,
): Capabilities {
  const caps = nodeCapacities(nodes);
  const max = (f: (c: NodeCapacity) => number): number | null =>
    caps.length === 0 ? null : Math.max(...caps.map(f));
  const gpus = (max((c) => c.gpus) ?? 0) > 0;
  return {
    maxWorkers: 1,
    gpus,
    ...(!gpus && { gpuUnavailableReason: 'no node of this Slurm cluster offers gres gpu' }),
    maxCpuMillicores: max((c) => c.cpuMillicores),
    maxMemoryMiB: max((c) => c.memoryMiB),
    // Apptainer runs the image as the submitting user; Docker and Podman take --user.
    runAsUser: runtime === 'docker' || runtime === 'podman',
    mountKinds: ['host'],
    jobName: SLURM_JOB_NAME,
  };
}
