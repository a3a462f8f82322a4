// The fair queue's rules (issue 13), pure: the order queued runs start in, and which of them start
// now under MAX_RUNNING, MAX_RUNNING_PER_AUID and MAX_GPUS. Higher priority first; within a
// priority, round-robin across auids (the auid served least recently goes next), FIFO within an
// auid. A run that does not fit now is skipped, not waited for: it never holds back the runs
// behind it (no head-of-line blocking).

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

/**
 * The start order of the queued runs (position 1 first), by simulating the service: the highest
 * priority first; within it, the auid served least recently (`lastServed`: a counter per auid,
 * larger = more recent; never served = first), its oldest run; ties by enqueue order. So auids at
 * one priority take turns, and a newcomer's one run goes next, before a flood's second. Does not
 * change its inputs.
 */
export function startOrder<E extends QueueEntry>(
  entries: readonly E[],
  lastServed: ReadonlyMap<string, number> = new Map(),
): E[] {
  const served = new Map(lastServed);
  let clock = Math.max(0, ...served.values());
  const levels = new Map<number, Map<string, E[]>>();
  for (const entry of [...entries].sort((a, b) => a.seq - b.seq)) {
    let level = levels.get(entry.priority);
    if (level === undefined) {
      level = new Map<string, E[]>();
      levels.set(entry.priority, level);
    }
    const fifo = level.get(entry.auid);
    if (fifo === undefined) level.set(entry.auid, [entry]);
    else fifo.push(entry);
  }
  const order: E[] = [];
  for (const priority of [...levels.keys()].sort((a, b) => b - a)) {
    const level = levels.get(priority) ?? new Map<string, E[]>();
    for (;;) {
      let best: { auid: string; head: E; at: number } | undefined;
      for (const [auid, fifo] of level) {
        const head = fifo[0];
        if (head === undefined) continue;
        const at = served.get(auid) ?? -Infinity;
        if (best === undefined || at < best.at || (at === best.at && head.seq < best.head.seq))
          best = { auid, head, at };
      }
      if (best === undefined) break;
      level.get(best.auid)?.shift();
      served.set(best.auid, ++clock);
      order.push(best.head);
    }
  }
  return order;
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
