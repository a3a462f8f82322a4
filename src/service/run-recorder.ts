// RunRecorder: turns what the engine shows about a job into the run's history in the store — a
// status event, or at the end its outcome and complete log — and adopts engine objects of ours
// that have no run. Every look (a GET, the backend's watch, the reconciler) goes through here.
import type { Backend, JobRead } from '../backends/backend.js';
import type { JobInfo, LogLimits } from '../domain/job.js';
import type { Ledger, LedgerRun } from '../store/ledger.js';
import type { Retries } from './queue/retries.js';
import { ADOPTED_FINGERPRINT, adoptedSpec, isTerminal, isTerminalStatus } from './run-info.js';
import type { TerminalStatus } from './run-info.js';

/** The message of a run whose engine object disappeared while nobody was watching. */
export const VANISHED_TEXT =
  'the engine no longer has this job (removed while pman-ts was not watching it); its outcome is unknown';

export interface RunRecorderDeps {
  ledger: Ledger;
  backend: Backend;
  /** LOG_ARCHIVE_MAX_BYTES, every line: the complete log a finished run keeps. */
  archive: LogLimits;
  /** A run's status changed (the deadlines arm a run that started). */
  onChange?: (jid: string) => void;
  /** Opt-in retries (issue 13): an end taken as a failed attempt to retry is not the run's end. */
  retries?: Retries;
  /** What a look at a running job says as answered (issue 15: a service waiting for its health
   *  check is `notstarted`): the status recorded is the one answered. */
  present?: (run: LedgerRun, info: JobInfo) => JobInfo;
}

export class RunRecorder {
  readonly #deps: RunRecorderDeps;
  /** Terminal captures under way, by run id: a second look waits for it instead of reading the
   *  whole log again (two 64 MiB reads at once would double the memory they take). */
  readonly #capturing = new Map<number, Promise<void>>();

  constructor(deps: RunRecorderDeps) {
    this.#deps = deps;
  }

  /**
   * Records one look at the engine. `complete`: the snapshot's logs are the whole log within the
   * archive bounds (the watch reads them so); otherwise a terminal look reads them first — before
   * anything may remove the object.
   */
  async observe(run: LedgerRun, snapshot: JobRead, complete: boolean): Promise<void> {
    const { ledger } = this.#deps;
    if (run.removed !== null || isTerminal(run)) return;
    // Queued (over a cap, or a retry waiting out its backoff): what the engine may still show is
    // an ended attempt's object, whose end is recorded already.
    if (ledger.queue.has(run.id)) return;
    const { info } = snapshot;
    if (isTerminalStatus(info.status)) {
      const inFlight = this.#capturing.get(run.id);
      if (inFlight !== undefined && !complete) return inFlight;
      const capture = (async () => {
        const final = complete ? snapshot : await this.#completeRead(run.jid, snapshot);
        await this.finish(run, final.info, final.logs);
      })();
      this.#capturing.set(run.id, capture);
      try {
        await capture;
      } finally {
        if (this.#capturing.get(run.id) === capture) this.#capturing.delete(run.id);
      }
      return;
    }
    const shown = this.#deps.present?.(run, info) ?? info;
    // An attempt after the first says which it is ("attempt 2 of 3").
    const message = this.#deps.retries?.runningText(run) ?? shown.message;
    if (shown.status !== run.status || message !== run.message) {
      await ledger.appendEvent(run.id, shown.status, message);
      this.#deps.onChange?.(run.jid);
    }
  }

  /** The capture of this run's end under way, if any. */
  capturing(runId: number): Promise<void> | undefined {
    return this.#capturing.get(runId);
  }

  /** The run's outcome and complete log, once (a second finish of a run changes nothing). */
  async finish(run: LedgerRun, info: JobInfo, logs: string, final = false): Promise<void> {
    // `final`: DELETE ends it — never retried; nor is a service job (issue 15: the engine restarts
    // it, and the wire refuses `retries` with `service`).
    if (
      !final &&
      run.spec.service === undefined &&
      (await this.#deps.retries?.intercept(run, info, logs)) === true
    )
      return;
    const status: TerminalStatus = isTerminalStatus(info.status)
      ? info.status
      : 'finishedWithError';
    const at = Date.parse(info.timestamp);
    // A run the service stopped (cancel, deadline) ends with that reason, whatever its exit code.
    const stopReason = this.#stopReasonOf(run);
    await this.#deps.ledger.finish(run.id, {
      status: stopReason === null ? status : 'finishedWithError',
      message: stopReason ?? this.#deps.retries?.finalText(run, info.message) ?? info.message,
      ...(info.exitCode !== undefined && { exitCode: info.exitCode }),
      logs,
      ...(Number.isFinite(at) && { at }),
    });
  }

  /** The stop reason as the store has it now (noted maybe after `run` was read). */
  #stopReasonOf(run: LedgerRun): string | null {
    const now = this.#deps.ledger.current(run.jid);
    return now?.id === run.id ? now.stopReason : run.stopReason;
  }

  /** Ends a run whose engine object is gone and was never seen finishing. */
  async vanished(run: LedgerRun, message = VANISHED_TEXT): Promise<void> {
    await this.#deps.ledger.finish(run.id, {
      status: 'finishedWithError',
      message: this.#stopReasonOf(run) ?? message,
      logs: this.#deps.ledger.log(run.id),
    });
  }

  /**
   * A run for an engine object of ours that the store does not know (made before the store
   * existed, or by a server that crashed between the engine create and its own bookkeeping).
   */
  async adopt(snapshot: JobRead, complete: boolean): Promise<LedgerRun | undefined> {
    const { ledger } = this.#deps;
    const { info } = snapshot;
    await ledger.intake({
      jid: info.name,
      spec: adoptedSpec(info),
      fingerprint: ADOPTED_FINGERPRINT,
      message: 'adopted from the engine',
    });
    const run = ledger.current(info.name);
    if (run === undefined) return undefined;
    await ledger.markCreated(run.id);
    await this.observe(run, snapshot, complete);
    return ledger.current(info.name);
  }

  async #completeRead(jid: string, seen: JobRead): Promise<JobRead> {
    try {
      const read = await this.#deps.backend.read(jid, { logs: this.#deps.archive });
      return isTerminalStatus(read.info.status) ? read : { info: seen.info, logs: read.logs };
    } catch {
      // Gone (or unreachable) since the look: what the look had is all there is.
      return seen;
    }
  }
}
