// Deadlines on every backend (issue 13): one timer per running run, due its deadline after the
// run's `started` time in the store — `timeout_seconds` of its POST, else JOB_DEADLINE_SECONDS.
// Armed when the recorder sees a run start, and by every reconciler pass (so a restart re-arms
// the runs already running, and one overdue while the server was down is stopped at once).
// A due timer stops the run through the cancel path (cancel.ts) with the DeadlineExceeded message.
import type { Ledger, LedgerRun } from '../store/ledger.js';
import { deadlineText } from './cancel.js';
import { isTerminal } from './run-info.js';

/** setTimeout's longest delay (about 24.8 days): a longer deadline is re-armed when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface DeadlineDeps {
  ledger: Ledger;
  /** JOB_DEADLINE_SECONDS; undefined: only runs with their own timeout_seconds have one. */
  defaultSeconds?: number | undefined;
  /** Stops the run with the message (the cancel path). */
  stop: (run: LedgerRun, reason: string) => Promise<unknown>;
  warn: (message: string, err?: unknown) => void;
  now?: () => number;
}

export class Deadlines {
  readonly #deps: DeadlineDeps;
  /** By run id. */
  readonly #timers = new Map<number, NodeJS.Timeout>();
  #closed = false;

  constructor(deps: DeadlineDeps) {
    this.#deps = deps;
  }

  /** The run's deadline in seconds, if it has one. */
  secondsOf(run: LedgerRun): number | undefined {
    return run.spec.timeoutSeconds ?? this.#deps.defaultSeconds;
  }

  /** Arms the run's timer (once) if it runs and has a deadline. */
  arm(run: LedgerRun): void {
    if (this.#closed || this.#timers.has(run.id)) return;
    if (run.removed !== null || isTerminal(run) || run.started === null) return;
    const seconds = this.secondsOf(run);
    if (seconds === undefined) return;
    const now = (this.#deps.now ?? Date.now)();
    const delay = Math.max(0, run.started + seconds * 1000 - now);
    const timer = setTimeout(
      () => {
        this.#timers.delete(run.id);
        if (delay > MAX_DELAY_MS) this.#rearm(run.jid, run.id);
        else this.#fire(run.jid, run.id, seconds);
      },
      Math.min(delay, MAX_DELAY_MS),
    );
    timer.unref();
    this.#timers.set(run.id, timer);
  }

  /** The runs going on now (a reconciler pass): each has its timer. */
  armAll(): void {
    for (const run of this.#deps.ledger.active()) this.arm(run);
  }

  /** Timers of runs that ended go (the set never outgrows the runs going on). */
  disarm(runId: number): void {
    clearTimeout(this.#timers.get(runId));
    this.#timers.delete(runId);
  }

  /** Runs with a timer armed (tests). */
  get armed(): number {
    return this.#timers.size;
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #rearm(jid: string, runId: number): void {
    const run = this.#deps.ledger.current(jid);
    if (run?.id === runId) this.arm(run);
  }

  #fire(jid: string, runId: number, seconds: number): void {
    const run = this.#deps.ledger.current(jid);
    if (run === undefined || run.id !== runId || isTerminal(run) || run.removed !== null) return;
    this.#deps.stop(run, deadlineText(seconds)).catch((err: unknown) => {
      this.#deps.warn(`could not stop job "${jid}" at its deadline`, err);
      // Tried again by the next reconciler pass (the run has no timer any more).
    });
  }
}
