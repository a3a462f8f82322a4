// What the swarm engine tells us at start-up: whether it can run services, and its biggest ready node (pure).
import { z } from 'zod';
import { BackendRefusedError } from '../../domain/errors.js';
import { capacityFromNodes } from '../shared/capabilities.js';

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

/** The parts of GET /nodes we read; capacityFromNodes decides which nodes count. */
const nodesSchema = z.array(
  z.object({
    Status: z.object({ State: z.string().optional() }).optional(),
    Spec: z.object({ Availability: z.string().optional() }).optional(),
    Description: z
      .object({
        Resources: z
          .object({ NanoCPUs: z.number().optional(), MemoryBytes: z.number().optional() })
          .optional(),
      })
      .optional(),
  }),
);

export interface NodeCapacity {
  /** Largest ready node's CPUs in millicores; null when no ready node reports it. */
  maxCpuMillicores: number | null;
  /** Largest ready node's memory in MiB; null when no ready node reports it. */
  maxMemoryMiB: number | null;
}

/** The biggest ready, active node, per resource: a job can never fit on a node smaller than its limits. */
export function largestReadyNode(nodes: unknown): NodeCapacity {
  const capacity = capacityFromNodes(nodesSchema.parse(nodes));
  return { maxCpuMillicores: capacity.cpuMillicores, maxMemoryMiB: capacity.memoryMiB };
}
