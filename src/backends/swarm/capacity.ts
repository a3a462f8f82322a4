// What the swarm engine tells us at start-up: whether it can run services, and its biggest ready node (pure).
import { z } from 'zod';
import { BackendRefusedError } from '../../errors.js';

const infoSchema = z.object({
  Swarm: z
    .object({
      LocalNodeState: z.string().default(''),
      ControlAvailable: z.boolean().default(false),
    })
    .default({ LocalNodeState: '', ControlAvailable: false }),
});

/**
 * Services can only be created on an active swarm manager; anything else is a start-up error
 * (pman found out at the first create, as a 500/503).
 */
export function assertSwarmManager(info: unknown): void {
  const swarm = infoSchema.parse(info).Swarm;
  if (swarm.LocalNodeState !== 'active') {
    throw new BackendRefusedError(
      'docker swarm is not active on this engine: run docker swarm init',
    );
  }
  if (!swarm.ControlAvailable) {
    throw new BackendRefusedError(
      'this docker engine is a swarm worker: run pman on a swarm manager node',
    );
  }
}

const nodesSchema = z.array(
  z.object({
    Status: z.object({ State: z.string().default('') }).default({ State: '' }),
    Description: z
      .object({
        Resources: z
          .object({ NanoCPUs: z.number().default(0), MemoryBytes: z.number().default(0) })
          .default({ NanoCPUs: 0, MemoryBytes: 0 }),
      })
      .default({ Resources: { NanoCPUs: 0, MemoryBytes: 0 } }),
  }),
);

export interface NodeCapacity {
  /** Largest ready node's CPUs in millicores; null when no ready node reports it. */
  maxCpuMillicores: number | null;
  /** Largest ready node's memory in MiB; null when no ready node reports it. */
  maxMemoryMiB: number | null;
}

/** The biggest ready node, per resource: a job can never fit on a node smaller than its limits. */
export function largestReadyNode(nodes: unknown): NodeCapacity {
  let cpu = 0;
  let mem = 0;
  for (const node of nodesSchema.parse(nodes)) {
    if (node.Status.State !== 'ready') continue;
    cpu = Math.max(cpu, Math.floor(node.Description.Resources.NanoCPUs / 1e6));
    mem = Math.max(mem, Math.floor(node.Description.Resources.MemoryBytes / 2 ** 20));
  }
  return { maxCpuMillicores: cpu > 0 ? cpu : null, maxMemoryMiB: mem > 0 ? mem : null };
}
