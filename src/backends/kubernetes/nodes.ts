// GET /api/v1/capacity/ on Kubernetes: the cluster's nodes with their allocatable CPU, memory and
// GPUs (GPU_RESOURCE_NAME), from the node list (pure). Listing nodes is cluster-scoped: the
// service account needs a ClusterRole with `list` on `nodes` (kubernetes/README.md); without it
// the route answers without nodes and says why.
import type { NodeCapacity } from '../backend.js';
import type { V1Node } from '@kubernetes/client-node';

const MIB = 2 ** 20;
const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity ("3500m", "16393116Ki", "1e9", "4") as a number; undefined if unreadable. */
export function quantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(text.trim());
  const factor = m === null ? undefined : SUFFIXES[m[2] ?? ''];
  if (m === null || factor === undefined) return undefined;
  const value = Number(m[1]) * factor;
  return Number.isFinite(value) ? value : undefined;
}

/** Every node with what it can give pods (allocatable, else capacity). */
export function nodeCapacities(nodes: readonly V1Node[], gpuResourceName: string): NodeCapacity[] {
  return nodes.map((node) => {
    const res = node.status?.allocatable ?? node.status?.capacity ?? {};
    const cpu = quantity(res.cpu);
    const memory = quantity(res.memory);
    const gpus = quantity(res[gpuResourceName]);
    return {
      name: node.metadata?.name ?? '',
      cpuMillicores: cpu === undefined ? 0 : Math.floor(cpu * 1000),
      memoryMiB: memory === undefined ? 0 : Math.floor(memory / MIB),
      gpus: gpus === undefined ? 0 : Math.floor(gpus),
    };
  });
}
