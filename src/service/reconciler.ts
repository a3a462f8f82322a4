// Reconciler: drives the store's runs to the engine and back. At start-up and after every engine
// outage it compares the two — an accepted run with no engine object is created (exactly once: the
// engine refuses a second object of one name), an engine object of ours with no run is adopted, a
// run whose object vanished ends finishedWithError saying so, an interrupted DELETE is finished.
import type { Backend } from '../backends/backend.js';
import { BackendUnavailableError, NotFoundError } from '../domain/errors.js';
import type { JobInfo } from '../domain/job.js';
import type { Ledger, LedgerRun } from '../store/ledger.js';
import type { RunRecorder } from './run-recorder.js';

/** Between passes while all is well: a cheap list call, the safety net under the engine's events. */
export const RECONCILE_PERIOD_MS = 30_000;
/** After a failed pass (the engine unreachable): first retry, doubling up to the maximum. */
export const RECONCILE_RETRY_MS = 1_000;
export const RECONCILE_RETRY_MAX_MS = 10_000;

export interface ReconcilerDeps {
  ledger: Ledger;
  backend: Backend;
  recorder: RunRecorder;
  /** A create of this jid is under way in this process: it records its own outcome. */
  isCreating: (jid: string) => boolean;
  /** The service's engine create of an accepted run (refusals end the run there). */
  createRun: (run: LedgerRun) => Promise<JobInfo>;
  warn: (message: string, err?: unknown) => void;
  /** After each pass that reached the engine (the deadlines re-arm the runs going on). */
  afterPass?: () => void;
  periodMs?: number;
  now?: () => number;
}

/** What one pass did, for the log and the tests. */
export interface ReconcileReport {
  created: number;
  adopted: number;
  vanished: number;
  resumed: number;
  removed: number;
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  #timer: NodeJS.Timeout | undefined;
  #dueAt = 0;
  #running: Promise<ReconcileReport> | undefined;
  #failures = 0;
  #stopped = true;
  /** Only the first pass resumes: later, a created container may be starting in the background. */
  #resumed = false;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  /** One comparison of the store with the engine. BackendUnavailableError when it cannot list. */
  pass(): Promise<ReconcileReport> {
    // One pass at a time: a wake during a pass is served by that pass's successor.
    this.#running ??= this.#pass()
      .then((report) => {
        this.#deps.afterPass?.();
        return report;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Passes from now on: every period, and with backoff while the engine is unreachable. */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Something suggests the engine was away (a create could not reach it): look again soon. */
  wake(): void {
    if (this.#stopped) return;
    this.#schedule(Math.min(RECONCILE_RETRY_MS * 2 ** this.#failures, RECONCILE_RETRY_MAX_MS));
  }

  /**
   * The next pass in `ms`, unless one is already due sooner: a wake never postpones a pass (a
   * client polling a waiting job wakes it every few hundred milliseconds).
   */
  #schedule(ms: number): void {
    const at = Date.now() + ms;
    if (this.#timer !== undefined && this.#dueAt <= at) return;
    clearTimeout(this.#timer);
    this.#dueAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#tick();
    }, ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      await this.pass();
      this.#failures = 0;
      if (!this.#stopped) this.#schedule(this.#deps.periodMs ?? RECONCILE_PERIOD_MS);
    } catch (err) {
      this.#failures++;
      if (!(err instanceof BackendUnavailableError)) this.#deps.warn('reconcile pass failed', err);
      if (!this.#stopped) this.wake();
    }
  }

  async #pass(): Promise<ReconcileReport> {
    const { ledger, backend, recorder, isCreating } = this.#deps;
    const now = this.#deps.now ?? Date.now;
    const report: ReconcileReport = { created: 0, adopted: 0, vanished: 0, resumed: 0, removed: 0 };
    // Runs accepted after the list began may be missing from it without having vanished.
    const listedAt = now();
    const objects = new Map<string, JobInfo>();
    for (const info of await backend.list()) objects.set(info.name, info);
    const resume = !this.#resumed;
    this.#resumed = true;
    const seen = new Set<string>();
    // Sorted first, so the runs waiting for the engine are created before any slow read (a
    // finished job's log) of the others: a job accepted during an outage starts as soon as it ends.
    const toCreate: LedgerRun[] = [];
    const toObserve: Array<[LedgerRun, JobInfo]> = [];
    const gone: LedgerRun[] = [];
    for (const run of ledger.active()) {
      seen.add(run.jid);
      if (isCreating(run.jid) || run.created >= listedAt) continue;
      // Queued (over a cap, or a retry in its backoff): the scheduler admits it, never the pass.
      if (ledger.queue.has(run.id)) continue;
      const object = objects.get(run.jid);
      if (object !== undefined) toObserve.push([run, object]);
      else if (run.engine === 'pending') toCreate.push(run);
      else gone.push(run);
    }
    for (const run of toCreate) {
      await this.#guard(run.jid, async () => {
        await this.#deps.createRun(run);
        report.created++;
      });
    }
    for (const run of gone) {
      await this.#guard(run.jid, async () => {
        // The list was taken before this loop read the store: a queued run admitted meanwhile
        // has an object the list could not show. Vanishing is final, so look once more.
        const found = await this.#lookAgain(run.jid);
        if (found !== undefined) {
          await recorder.observe(run, { info: found, logs: '' }, false);
          return;
        }
        await recorder.vanished(run);
        report.vanished++;
      });
    }
    for (const [run, object] of toObserve) {
      await this.#guard(run.jid, async () => {
        // At start-up an object is real (no pull of this process can be under way): a run
        // whose creation was not noted before the crash is marked now. Later, a Docker job
        // still pulling is listed too, and only its create's onCreated may mark it.
        if (resume && run.engine === 'pending') await ledger.markCreated(run.id);
        if (resume && (await this.#resume(run, object))) report.resumed++;
        await recorder.observe(run, { info: object, logs: '' }, false);
      });
    }
    for (const [jid, info] of objects) {
      if (seen.has(jid) || isCreating(jid)) continue;
      const run = ledger.current(jid);
      try {
        if (run === undefined) {
          const adopted = await recorder.adopt({ info, logs: '' }, false);
          report.adopted++;
          // Ours but never started, and nobody else will start it (a store lost with a crash).
          if (resume && adopted !== undefined && (await this.#resume(adopted, info)))
            report.resumed++;
        } else if (run.removed !== null && run.created < listedAt) {
          // A DELETE that marked the run removed but was interrupted before the engine call.
          await backend.delete(jid);
          report.removed++;
        }
      } catch (err) {
        if (err instanceof BackendUnavailableError) throw err;
        this.#deps.warn(`reconcile: engine object "${jid}" could not be brought in line`, err);
      }
    }
    return report;
  }

  /** The engine's object of the jid now, or undefined when it has none. */
  async #lookAgain(jid: string): Promise<JobInfo | undefined> {
    try {
      return (await this.#deps.backend.read(jid)).info;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** One run's trouble never stops the others; an unreachable engine ends the pass. */
  async #guard(jid: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (err instanceof BackendUnavailableError) throw err;
      this.#deps.warn(`reconcile: job "${jid}" could not be brought in line`, err);
    }
  }

  /** A Docker container created but never started (a crash between the two) is started now. */
  async #resume(run: LedgerRun, object: JobInfo): Promise<boolean> {
    const { backend } = this.#deps;
    if (backend.resume === undefined || object.status !== 'notstarted') return false;
    await backend.resume(run.jid);
    return true;
  }
}
