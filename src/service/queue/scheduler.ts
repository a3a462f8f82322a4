// The fair queue's scheduler (issue 13): admits queued runs to the engine whenever capacity frees
// (a run's end, DELETE, cancel — all end the run with a terminal event — start-up, and a retry's
// backoff running out). The order and the caps are src/domain/queue-order.ts; the queue itself is
// the store's (src/store/queue.ts), so a restart resumes it. Each pick is synchronous: what it
// admits counts as running at once (#admitting) until the store's dequeue of it has committed.
import { admissible, hasCaps, startOrder } from '../../domain/queue-order.js';
import type { QueueCaps, RunningLoad } from '../../domain/queue-order.js';
import type { Ledger } from '../../store/ledger.js';
import type { QueuedRun } from '../../store/queue.js';

export interface SchedulerDeps {
  ledger: Ledger;
  caps: QueueCaps;
  /** A POST of this jid is under way: it admits its own run (pick(own)), nobody else does. */
  isCreating: (jid: string) => boolean;
  /** Hands an admitted run (dequeued already) to the engine; checks it still names a live run. */
  admit: (run: QueuedRun) => Promise<void>;
  warn: (message: string, err?: unknown) => void;
  now?: () => number;
}

/** A queued run and where it stands. */
export interface QueuePlace extends QueuedRun {
  /** 1 = the next to start. */
  position: number;
}

export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #admitting = new Map<number, QueuedRun>();
  /** When each auid was last served (a counter): the round-robin's memory, kept for the process's
   *  life — after a restart every auid starts even again. */
  readonly #served = new Map<string, number>();
  #serves = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #unsubscribe: (() => void) | undefined;
  #pumpQueued = false;
  /** After stop() (shutdown): nothing wakes it or arms a timer again. A run's end woke a stopped
   *  scheduler, which re-armed its backoff timer and admitted a retry the next process owned. */
  #stopped = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    // Every run's end may free a slot: followed from the start (only with a cap: without one
    // nothing waits for capacity, and the hub need not publish to anyone).
    if (this.capped) {
      this.#unsubscribe = deps.ledger.hub.subscribe((event) => {
        if (event.status === 'finishedSuccessfully' || event.status === 'finishedWithError')
          this.wake();
      });
    }
  }

  /** Whether a cap is set: without one a POST creates its job at once and nothing is queued. */
  get capped(): boolean {
    return hasCaps(this.#deps.caps);
  }

  get caps(): QueueCaps {
    return this.#deps.caps;
  }

  /** Start-up (after the first reconcile pass): admit what the queue holds. */
  start(): void {
    this.#stopped = false;
    this.#safePick();
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Something freed capacity: a pick soon (once per turn however many runs ended in it). */
  wake(): void {
    if (this.#pumpQueued || this.#stopped) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      if (!this.#stopped) this.#safePick();
    });
  }

  #safePick(): void {
    try {
      this.pick();
    } catch (err) {
      this.#deps.warn('queue: could not admit queued runs', err);
    }
  }

  /**
   * Admits every queued run that is due and fits, in start order; each is dequeued and handed to
   * the engine in the background — except `own` (the run of the POST in flight), which its caller
   * admits: the answer is whether it was admitted (then call dequeueOwn).
   */
  pick(own?: number): boolean {
    const { ledger, isCreating } = this.#deps;
    const now = (this.#deps.now ?? Date.now)();
    const queued = ledger.queue.entries().filter((e) => !this.#admitting.has(e.runId));
    const waiting = queued.filter((e) => e.runId === own || !isCreating(e.jid));
    const order = startOrder(waiting, this.#served);
    const picked = admissible(order, this.#load(), this.#deps.caps, now);
    let ownAdmitted = false;
    for (const run of picked) {
      this.#admitting.set(run.runId, run);
      this.#served.set(run.auid, ++this.#serves);
      if (run.runId === own) ownAdmitted = true;
      else void this.#launch(run);
    }
    // Timers also for runs skipped now because a create of theirs is under way (a retry put back).
    this.#arm(
      queued.filter((e) => !picked.includes(e)),
      now,
    );
    return ownAdmitted;
  }

  /** The POST's own run, admitted by pick(own): out of the queue before its engine create. */
  async dequeueOwn(runId: number): Promise<void> {
    try {
      await this.#deps.ledger.queue.dequeue(runId);
    } finally {
      this.#admitting.delete(runId);
    }
  }

  /** The queued runs in the order they will start (admissions under way left out). */
  places(): QueuePlace[] {
    const waiting = this.#deps.ledger.queue.entries().filter((e) => !this.#admitting.has(e.runId));
    return startOrder(waiting, this.#served).map((run, i) => ({ ...run, position: i + 1 }));
  }

  /** Where a run stands in the queue; undefined when it is not queued. */
  place(runId: number): QueuePlace | undefined {
    return this.places().find((p) => p.runId === runId);
  }

  /** Admitted runs still going (admissions under way included). */
  running(): number {
    return this.#load().total;
  }

  #load(): RunningLoad {
    const load = this.#deps.ledger.queue.load();
    const byAuid = new Map(load.byAuid);
    let { total, gpus } = load;
    for (const run of this.#admitting.values()) {
      total++;
      gpus += run.gpus;
      byAuid.set(run.auid, (byAuid.get(run.auid) ?? 0) + 1);
    }
    return { total, byAuid, gpus };
  }

  async #launch(run: QueuedRun): Promise<void> {
    let dequeued: boolean;
    try {
      // Out of the queue first: a crash after this leaves a 'pending' run, which the reconciler
      // creates exactly once; a crash before leaves it queued. Never both.
      dequeued = await this.#deps.ledger.queue.dequeue(run.runId);
    } catch (err) {
      this.#deps.warn(`queue: could not admit job "${run.jid}"`, err);
      return;
    } finally {
      this.#admitting.delete(run.runId);
    }
    // Not there any more: it ended meanwhile (a cancel, a DELETE) and must not start.
    if (!dequeued) return;
    try {
      await this.#deps.admit(run);
    } catch (err) {
      this.#deps.warn(`queue: job "${run.jid}" could not be started`, err);
    }
  }

  /** A timer for the first retry whose backoff runs out (the earliest due entry left). */
  #arm(left: readonly QueuedRun[], now: number): void {
    let next = Infinity;
    for (const e of left) {
      if (e.notBefore !== undefined && e.notBefore > now) next = Math.min(next, e.notBefore);
    }
    if (this.#stopped || next === Infinity || next >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.#safePick();
      },
      Math.max(0, next - now),
    );
    this.#timer.unref();
  }
}
