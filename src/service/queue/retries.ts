// Opt-in retries (issue 13): at a run's end, a failed attempt whose exit code the run's `retries`
// covers is recorded as an attempt, its engine object removed, and the run queued again after
// `backoff_seconds` (durably: the store's queue with a not-before time) — the run stays not
// terminal in between. A run stopped by cancel or a deadline (its stop reason) is never retried,
// nor one DELETE ended, nor one that never ran (no exit code).
import type { Backend } from '../../backends/backend.js';
import { NotFoundError } from '../../domain/errors.js';
import type { JobInfo, JobSpec } from '../../domain/job.js';
import type { Ledger, LedgerRun } from '../../store/ledger.js';
import { isTerminal } from '../run-info.js';

export interface RetriesDeps {
  ledger: Ledger;
  backend: Backend;
  /** Something was queued with a not-before time: the scheduler arms its timer. */
  queued: () => void;
  warn: (message: string, err?: unknown) => void;
  now?: () => number;
}

/** How long a retry whose old object is still being removed waits before the next look. */
const NAME_WAIT_MS = 1000;

/** "attempt 2 of 3". */
export function attemptText(attempt: number, total: number): string {
  return `attempt ${attempt} of ${total}`;
}

/** The attempt a retry decision is about: the one that ended, and how many there may be. */
interface Decision {
  attempt: number;
  total: number;
  backoffSeconds: number;
  exitCode: number;
}

export class Retries {
  readonly #deps: RetriesDeps;
  /** Runs whose retry is being recorded: a second capture of the same end is swallowed. */
  readonly #recording = new Set<number>();

  constructor(deps: RetriesDeps) {
    this.#deps = deps;
  }

  /** The number of the attempt now running (1 before any retry). */
  current(run: LedgerRun): number {
    return run.spec.retries === undefined ? 1 : this.#deps.ledger.attempts.count(run.id) + 1;
  }

  /** What a retried run's message says while an attempt after the first runs; else undefined. */
  runningText(run: LedgerRun): string | undefined {
    const policy = run.spec.retries;
    if (policy === undefined) return undefined;
    const attempt = this.current(run);
    return attempt > 1 ? attemptText(attempt, policy.limit + 1) : undefined;
  }

  /** The final message of a retried run: the engine's, with the attempt it came from. */
  finalText(run: LedgerRun, message: string): string {
    const policy = run.spec.retries;
    if (policy === undefined) return message;
    const attempt = this.current(run);
    if (attempt === 1) return message;
    const text = attemptText(attempt, policy.limit + 1);
    return message === '' ? text : `${message} (${text})`;
  }

  /**
   * At a run's end: true when the end was taken as a failed attempt to retry (recorded, queued
   * again), so the caller must not finish the run; false to finish it as usual.
   */
  async intercept(run: LedgerRun, info: JobInfo, logs: string): Promise<boolean> {
    if (this.#recording.has(run.id) || this.#stale(run, info)) return true;
    const decision = this.#decide(run, info);
    if (decision === undefined) return false;
    this.#recording.add(run.id);
    try {
      return await this.#record(run, info, logs, decision);
    } finally {
      this.#recording.delete(run.id);
    }
  }

  /**
   * A look at an attempt that was recorded already: the engine (or a view of it) can still show the
   * ended attempt's object after the next one was made under its name. Its end is no later than
   * the recorded one's, so it is no end of the run.
   */
  #stale(run: LedgerRun, info: JobInfo): boolean {
    if (run.spec.retries === undefined) return false;
    const last = this.#deps.ledger.attempts.of(run.id).at(-1);
    const at = Date.parse(info.timestamp);
    return last !== undefined && Number.isFinite(at) && at <= last.finished;
  }

  #decide(stale: LedgerRun, info: JobInfo): Decision | undefined {
    const policy = stale.spec.retries;
    if (policy === undefined || policy.limit < 1) return undefined;
    if (info.status !== 'finishedWithError') return undefined;
    const code = info.exitCode;
    if (code === undefined || code === 0) return undefined;
    if (policy.onExitCodes !== undefined && !policy.onExitCodes.includes(code)) return undefined;
    // The store's word, read now: a cancel or deadline notes its reason before it stops the run.
    const run = this.#deps.ledger.current(stale.jid);
    if (run?.id !== stale.id || run.removed !== null || isTerminal(run)) return undefined;
    if (run.stopReason !== null) return undefined;
    if (this.#deps.ledger.queue.has(run.id)) return undefined;
    const attempt = this.current(run);
    if (attempt > policy.limit) return undefined;
    return {
      attempt,
      total: policy.limit + 1,
      backoffSeconds: policy.backoffSeconds,
      exitCode: code,
    };
  }

  async #record(run: LedgerRun, info: JobInfo, logs: string, d: Decision): Promise<boolean> {
    const { ledger } = this.#deps;
    const now = (this.#deps.now ?? Date.now)();
    const parsed = Date.parse(info.timestamp);
    const finished = Number.isFinite(parsed) ? parsed : now;
    const previous = ledger.attempts.of(run.id).at(-1);
    // The run's start is when it was first seen started, which a short attempt may pass unseen.
    const began = previous?.retried ?? run.started;
    const next = attemptText(d.attempt + 1, d.total);
    const recorded = await ledger.attempts.retry(run.id, {
      attempt: d.attempt,
      status: info.status,
      message: info.message,
      exitCode: d.exitCode,
      started: began === null ? null : Math.min(began, finished),
      finished,
      logs,
      waiting: {
        status: 'started',
        message: `${next} (retrying in ${d.backoffSeconds}s after exit code ${d.exitCode})`,
      },
      queue: queueFields(run.spec, run.auid, now + d.backoffSeconds * 1000),
    });
    if (!recorded) return false;
    // The ended attempt's object goes, so the next one can take its name; if the engine cannot be
    // reached now, the admission of the next attempt removes it first.
    await this.removeObject(run.jid);
    this.#deps.queued();
    return true;
  }

  /** The previous attempt's engine object (its end is recorded), gone before the next create. */
  async removeObject(jid: string): Promise<void> {
    try {
      await this.#deps.backend.delete(jid);
    } catch (err) {
      if (!(err instanceof NotFoundError))
        this.#deps.warn(`retry: could not remove the ended attempt of job "${jid}"`, err);
    }
  }

  /**
   * Before an attempt after the first is created: the old object gone, its start noted. false when
   * the old object is still there (a Kubernetes Job still being deleted, an engine that could not
   * be reached): the run goes back to the queue for another look shortly, rather than being
   * refused for a name that is still taken.
   */
  async beforeAttempt(run: LedgerRun): Promise<boolean> {
    const { ledger } = this.#deps;
    const done = run.spec.retries === undefined ? 0 : ledger.attempts.count(run.id);
    if (done === 0) return true;
    await this.removeObject(run.jid);
    if (await this.#stillThere(run.jid)) {
      const now = (this.#deps.now ?? Date.now)();
      await ledger.queue.enqueue(run.id, queueFields(run.spec, run.auid, now + NAME_WAIT_MS));
      this.#deps.queued();
      return false;
    }
    await ledger.attempts.markRetried(run.id, done);
    return true;
  }

  async #stillThere(jid: string): Promise<boolean> {
    try {
      await this.#deps.backend.read(jid);
      return true;
    } catch (err) {
      return !(err instanceof NotFoundError);
    }
  }
}

/** The queue row of a run: its priority, auid, GPUs, and (a retry) when it may start. */
export function queueFields(spec: JobSpec, auid: string | null, notBefore?: number) {
  return {
    priority: spec.priority ?? 0,
    auid: auid ?? '',
    gpus: spec.resources.gpus,
    ...(notBefore !== undefined && { notBefore }),
  };
}
