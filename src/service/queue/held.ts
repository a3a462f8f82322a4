// What a GET answers for a run the queue holds (issue 13): the store's state, never the engine's
// (there is no object, or only the ended attempt's, about to go). A run over a cap says where it
// stands ("queued (position n)", current at each GET); a retry waiting out its backoff says which
// attempt comes next, with the log of the attempt that failed.
import type { JobRead } from '../../backends/backend.js';
import { boundLogText } from '../../domain/logs.js';
import type { LogLimits } from '../../domain/job.js';
import type { Ledger, LedgerRun } from '../../store/ledger.js';
import { infoOfRun } from '../run-info.js';
import type { Scheduler } from './scheduler.js';

/** The message of a run waiting for capacity. */
export function queuedText(position: number): string {
  return `queued (position ${position})`;
}

/** The answer for a run the queue holds; undefined when it does not hold it. */
export function heldRead(
  run: LedgerRun,
  ledger: Ledger,
  scheduler: Scheduler,
  limits: LogLimits,
): JobRead | undefined {
  if (!ledger.queue.has(run.id)) return undefined;
  const info = infoOfRun(run);
  const done = ledger.attempts.count(run.id);
  if (done > 0) {
    // A retry waiting: its message says which attempt comes next and why.
    return { info, logs: boundLogText(ledger.attempts.log(run.id, done) ?? '', limits) };
  }
  const place = scheduler.place(run.id);
  if (place !== undefined) info.message = queuedText(place.position);
  return { info, logs: '' };
}
