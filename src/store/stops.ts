// Stop reasons (issue 13, migration v4): a cancel or a deadline notes why it stops a run before it
// tells the engine, so the run's end carries that message whatever exit code the engine reports
// (143, 137), a restart in between still knows it, and a stopped run is never retried.
import type { Database, Statement } from 'better-sqlite3';

type Commit = <T>(body: () => T) => Promise<T>;

export class Stops {
  readonly #commit: Commit;
  readonly #set: Statement<[string, number]>;
  readonly #clear: Statement<[number, string]>;

  constructor(db: Database, commit: Commit) {
    this.#commit = commit;
    // Only on a run still going: the first reason wins (a cancel after the deadline keeps it).
    this.#set = db.prepare(
      `UPDATE runs SET stop_reason = ? WHERE id = ? AND stop_reason IS NULL
         AND status NOT IN ('finishedSuccessfully', 'finishedWithError')`,
    );
    this.#clear = db.prepare(
      `UPDATE runs SET stop_reason = NULL WHERE id = ? AND stop_reason = ?
         AND status NOT IN ('finishedSuccessfully', 'finishedWithError')`,
    );
  }

  /** Notes why the run is stopped; false when it had a reason already or has ended. */
  note(runId: number, reason: string): Promise<boolean> {
    return this.#commit(() => this.#set.run(reason, runId).changes > 0);
  }

  /** Takes a reason back when the engine refused the stop: the run goes on, and ends as it ends. */
  clear(runId: number, reason: string): Promise<void> {
    return this.#commit(() => {
      this.#clear.run(runId, reason);
    });
  }
}
