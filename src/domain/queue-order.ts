// The fair queue's rules (issue 13), pure: the order queued runs start in, and which of them start
// now under MAX_RUNNING, MAX_RUNNING_PER_AUID and MAX_GPUS. Higher priority first; within a
// priority, round-robin across auids (each auid's k-th waiting run before any auid's (k+1)-th), FIFO
// within an auid and between auids of one round. A run that does not fit now is skipped, not waited
// for: it never holds back the runs behind it (no head-of-line blocking).

/** The caps in force; an absent cap is unlimited. */
export interface QueueCaps {
  maxRunning?: number | undefined;
  maxRunningPerAuid?: number | undefined;
  maxGpus?: number | undefined;
}

/** A queued run, as the ordering sees it. */
export interface QueueEntry {
  runId: number;
  priority: number;
  auid: string;
  gpus: number;
  /** Enqueue order: smaller was queued earlier. */
  seq: number;
  /** A retry waiting out its backoff: not to be started before this time (ms since the epoch). */
  notBefore?: number | undefined;
}

/** What runs now (admitted, not terminal): the budget the caps leave. */
export interface RunningLoad {
  total: number;
  byAuid: ReadonlyMap<string, number>;
  gpus: number;
}

/** Whether any cap is set (none: nothing is ever held back by capacity). */
export function hasCaps(caps: QueueCaps): boolean {
  return (
    caps.maxRunning !== undefined ||
    caps.maxRunningPerAuid !== undefined ||
    caps.maxGpus !== undefined
  );
}

/** The start order of the queued runs (position 1 first). Does not change its input. */
export function startOrder<E extends QueueEntry>(entries: readonly E[]): E[] {
  // Each run's round: how many runs of its auid at its priority were queued before it.
  const bySeq = [...entries].sort((a, b) => a.seq - b.seq);
  const seen = new Map<string, number>();
  const round = new Map<E, number>();
  for (const entry of bySeq) {
    const key = `${entry.priority}\u0000${entry.auid}`;
    const k = seen.get(key) ?? 0;
    round.set(entry, k);
    seen.set(key, k + 1);
  }
  return bySeq.sort(
    (a, b) => b.priority - a.priority || (round.get(a) ?? 0) - (round.get(b) ?? 0) || a.seq - b.seq,
  );
}

/**
 * The runs to start now, in start order: each one that is due and fits the caps given what runs
 * plus what was admitted before it in this pass. A run that does not fit is skipped.
 */
export function admissible<E extends QueueEntry>(
  ordered: readonly E[],
  load: RunningLoad,
  caps: QueueCaps,
  now: number,
): E[] {
  let total = load.total;
  let gpus = load.gpus;
  const byAuid = new Map(load.byAuid);
  const admitted: E[] = [];
  for (const entry of ordered) {
    if (caps.maxRunning !== undefined && total >= caps.maxRunning) break;
    if (entry.notBefore !== undefined && entry.notBefore > now) continue;
    const mine = byAuid.get(entry.auid) ?? 0;
    if (caps.maxRunningPerAuid !== undefined && mine >= caps.maxRunningPerAuid) continue;
    if (caps.maxGpus !== undefined && gpus + entry.gpus > caps.maxGpus) continue;
    admitted.push(entry);
    total++;
    gpus += entry.gpus;
    byAuid.set(entry.auid, mine + 1);
  }
  return admitted;
}

/**
 * Whether a run could ever start under the caps (it asks for more GPUs than MAX_GPUS: never).
 * The create refuses such a run rather than queue it forever.
 */
export function canEverFit(gpus: number, caps: QueueCaps): boolean {
  return caps.maxGpus === undefined || gpus <= caps.maxGpus;
}
