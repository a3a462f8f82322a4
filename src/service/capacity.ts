// GET /api/v1/capacity/ (issue 13): what the backend offers (its nodes, with CPU, memory and
// GPUs), what runs and waits now, and the caps in force — what container-broker's /status told
// its users. The nodes come from the backend (Port `capacity`); a backend that cannot list them
// (no such call, or a Kubernetes service account without the right to list nodes) answers
// without them and says why, since the counts and caps are still worth having.
import type { Backend, NodeCapacity } from '../backends/backend.js';
import { BackendUnavailableError } from '../domain/errors.js';
import type { QueueCaps } from '../domain/queue-order.js';
import type { Ledger } from '../store/ledger.js';

export interface CapacityReport {
  backend: string;
  /** undefined when the backend could not say (`nodesUnavailable` says why). */
  nodes?: NodeCapacity[];
  nodesUnavailable?: string;
  /** Runs admitted to the engine and not ended, and the GPUs they hold. */
  running: number;
  runningGpus: number;
  /** Runs waiting in the queue (over a cap, or a retry in its backoff). */
  queued: number;
  caps: QueueCaps;
  /** CANCEL_GRACE_SECONDS and JOB_DEADLINE_SECONDS, the other limits a run meets. */
  cancelGraceSeconds: number;
  jobDeadlineSeconds?: number;
}

export interface CapacityDeps {
  backend: Backend;
  ledger: Ledger;
  caps: QueueCaps;
  cancelGraceSeconds: number;
  jobDeadlineSeconds?: number | undefined;
}

export async function capacityReport(deps: CapacityDeps): Promise<CapacityReport> {
  const { backend, ledger } = deps;
  const load = ledger.queue.load();
  const report: CapacityReport = {
    backend: backend.name,
    running: load.total,
    runningGpus: load.gpus,
    queued: ledger.queue.entries().length,
    caps: deps.caps,
    cancelGraceSeconds: deps.cancelGraceSeconds,
    ...(deps.jobDeadlineSeconds !== undefined && { jobDeadlineSeconds: deps.jobDeadlineSeconds }),
  };
  if (backend.capacity === undefined) {
    return { ...report, nodesUnavailable: `the ${backend.name} backend does not report its nodes` };
  }
  try {
    return { ...report, nodes: await backend.capacity() };
  } catch (err) {
    // An engine that cannot be reached is a 503 like every other route's; anything else (the
    // right to list nodes missing) still answers the counts.
    if (err instanceof BackendUnavailableError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    return { ...report, nodesUnavailable: reason };
  }
}
