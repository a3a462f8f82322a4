// Stopping a run without removing it (issue 13): POST /api/v1/<jid>/cancel/ and the deadlines take
// this one path. The reason is noted in the store BEFORE the engine is told, so the run's end says
// it (whatever exit code the engine reports: 143 after SIGTERM, 137 after SIGKILL), a restart in
// between still knows it, and a stopped run is never retried. A run that has no engine object yet
// (queued, or accepted while the engine was down) ends at once without starting.
import type { Backend } from '../backends/backend.js';
import { ConflictError, NotFoundError, UnsupportedError } from '../domain/errors.js';
import type { Ledger, LedgerRun } from '../store/ledger.js';
import { isTerminal } from './run-info.js';

/** The message of a cancelled run (the issue asks for one that starts with `cancelled`). */
export const CANCELLED_TEXT = 'cancelled by request';
/** The message of a run cancelled before the engine had an object of it. */
export const CANCELLED_EARLY_TEXT = 'cancelled before it started';

/** The message of a run stopped by its deadline. */
export function deadlineText(seconds: number): string {
  return `DeadlineExceeded: ran longer than ${seconds} s`;
}

export interface StopperDeps {
  ledger: Ledger;
  backend: Backend;
  /** CANCEL_GRACE_SECONDS. */
  graceSeconds: number;
  /** Whether the engine holds no object of the run yet (the service's view: queued, pending). */
  notCreated: (run: LedgerRun) => boolean;
  warn: (message: string, err?: unknown) => void;
}

export type StopOutcome =
  /** The engine was told (SIGTERM now, SIGKILL after the grace); its end is recorded as usual. */
  | 'signalled'
  /** It never had an engine object: ended at once. */
  | 'ended';

export class Stopper {
  readonly #deps: StopperDeps;

  constructor(deps: StopperDeps) {
    this.#deps = deps;
  }

  get graceSeconds(): number {
    return this.#deps.graceSeconds;
  }

  /** A backend that cannot stop a job refuses the cancel (4xx) rather than pretend. */
  assertSupported(): void {
    const { backend } = this.#deps;
    if (backend.stop === undefined) {
      throw new UnsupportedError(
        `the ${backend.name} backend cannot stop a job without removing it; use DELETE`,
      );
    }
  }

  /**
   * Stops the run for `reason` (the message its end will carry). ConflictError when it has ended
   * already. A second stop of a run being stopped signals again (harmless) and keeps the first
   * reason.
   */
  async stop(run: LedgerRun, reason: string, early = CANCELLED_EARLY_TEXT): Promise<StopOutcome> {
    const { ledger, backend } = this.#deps;
    if (isTerminal(run)) throw finished(run);
    this.assertSupported();
    const noted = await ledger.stops.note(run.id, reason);
    const now = ledger.current(run.jid);
    if (!noted && (now === undefined || now.id !== run.id || isTerminal(now))) throw finished(run);
    if (this.#deps.notCreated(run)) {
      // Between two attempts (a retry's backoff) the job did run: it ends with the reason, not
      // "cancelled before it started" (the attempt that never began has no log of its own; the
      // earlier attempts keep theirs in the history).
      const between = ledger.attempts.count(run.id) > 0;
      await ledger.finish(run.id, {
        status: 'finishedWithError',
        message: between ? reason : early,
        logs: '',
      });
      // A pull or a create may still be under way at the engine: nothing of it may start.
      await backend.delete(run.jid).catch(() => undefined);
      return 'ended';
    }
    try {
      await backend.stop?.(run.jid, this.#deps.graceSeconds);
    } catch (err) {
      if (!(err instanceof NotFoundError)) {
        // Refused or unreachable: the run goes on, so it must not end saying it was stopped.
        // (A deadline is tried again by the next reconciler pass.)
        if (noted) await ledger.stops.clear(run.id, reason);
        throw err;
      }
      // The object is gone already: the run ends with the reason and what it had written.
      await ledger.finish(run.id, {
        status: 'finishedWithError',
        message: reason,
        logs: ledger.log(run.id),
      });
      return 'ended';
    }
    return 'signalled';
  }

  /** A run whose create answered after a cancel: the object it made must not run on. */
  async stopLate(jid: string): Promise<void> {
    const run = this.#deps.ledger.current(jid);
    if (run?.stopReason === null || run === undefined) return;
    await this.#deps.backend.delete(jid).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) this.#deps.warn(`could not stop job "${jid}"`, err);
    });
  }
}

function finished(run: LedgerRun): ConflictError {
  return new ConflictError(
    `job "${run.jid}" has already finished (${run.status}); nothing to cancel`,
  );
}
