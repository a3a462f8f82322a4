// What the swarm engine tells us at start-up: whether it can run services, and its biggest ready
// node, as Capabilities (pure; architecture.md §5).
import { z } from 'zod';
import { BackendRefusedError } from '../../domain/errors.js';
import type { Capabilities, NodeCapacity as PortNodeCapacity } from '../backend.js';
import { SWARM_JOB_NAME } from './job-name.js';

const MIB = 2 ** 20;

const GPU_UNAVAILABLE =
  'this swarm backend has no GPU resource configured (set SWARM_GPU_RESOURCE)';

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

type EngineNode = z.infer<typeof nodesSchema>[number];

function positive(n: number | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/**
 * The largest CPU and memory capacity among ready, active nodes (each dimension on its own: a job
 * bigger than every node in either dimension can never be placed).
 */
export function capacityFromNodes(nodes: readonly EngineNode[]): NodeCapacity {
  let cpu: number | null = null;
  let mem: number | null = null;
  for (const node of nodes) {
    if (node.Status?.State !== 'ready') continue;
    if (node.Spec?.Availability !== undefined && node.Spec.Availability !== 'active') continue;
    const res = node.Description?.Resources;
    if (positive(res?.NanoCPUs)) cpu = Math.max(cpu ?? 0, Math.floor(res.NanoCPUs / 1e6));
    if (positive(res?.MemoryBytes)) mem = Math.max(mem ?? 0, Math.floor(res.MemoryBytes / MIB));
  }
  return { maxCpuMillicores: cpu, maxMemoryMiB: mem };
}

/** The biggest ready, active node, per resource: a job can never fit on a node smaller than its limits. */
export function largestReadyNode(nodes: unknown): NodeCapacity {
  return capacityFromNodes(nodesSchema.parse(nodes));
}

/** The parts of a node GET /api/v1/capacity/ shows. */
const capacityNodesSchema = z.array(
  z.object({
    ID: z.string().default(''),
    Status: z.object({ State: z.string().optional() }).optional(),
    Description: z
      .object({
        Hostname: z.string().optional(),
        Resources: z
          .object({
            NanoCPUs: z.number().optional(),
            MemoryBytes: z.number().optional(),
            GenericResources: z
              .array(
                z.object({
                  DiscreteResourceSpec: z
                    .object({ Kind: z.string(), Value: z.number() })
                    .optional(),
                  NamedResourceSpec: z.object({ Kind: z.string(), Value: z.string() }).optional(),
                }),
              )
              .nullable()
              .optional(),
          })
          .optional(),
      })
      .optional(),
  }),
);

/**
 * Every ready node with its CPUs, memory and GPUs (the generic resource of kind
 * SWARM_GPU_RESOURCE: a discrete count, or one per named device; none configured: 0).
 */
export function nodeCapacities(nodes: unknown, gpuResource?: string): PortNodeCapacity[] {
  return capacityNodesSchema
    .parse(nodes)
    .filter((node) => node.Status?.State === 'ready')
    .map((node) => {
      const res = node.Description?.Resources;
      let gpus = 0;
      for (const g of res?.GenericResources ?? []) {
        if (gpuResource === undefined) break;
        const discrete = g.DiscreteResourceSpec;
        if (discrete?.Kind === gpuResource) gpus += discrete.Value;
        if (g.NamedResourceSpec?.Kind === gpuResource) gpus += 1;
      }
      return {
        name: node.Description?.Hostname ?? node.ID,
        cpuMillicores: positive(res?.NanoCPUs) ? Math.floor(res.NanoCPUs / 1e6) : 0,
        memoryMiB: positive(res?.MemoryBytes) ? Math.floor(res.MemoryBytes / MIB) : 0,
        gpus,
      };
    });
}

/** Swarm capabilities: one worker, the biggest node, GPUs only through SWARM_GPU_RESOURCE;
 *  service jobs with a published port (no Kubernetes NodePort). */
export function swarmCapabilities(capacity: NodeCapacity, gpuResource?: string): Capabilities {
  return {
    maxWorkers: 1,
    gpus: gpuResource !== undefined,
    ...(gpuResource === undefined && { gpuUnavailableReason: GPU_UNAVAILABLE }),
    maxCpuMillicores: capacity.maxCpuMillicores,
    maxMemoryMiB: capacity.maxMemoryMiB,
    runAsUser: true,
    mountKinds: ['host'],
    jobName: SWARM_JOB_NAME,
    services: { nodePort: false },
  };
}
