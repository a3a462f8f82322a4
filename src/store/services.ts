// Service runs (issue 15, migration v7): what the job service knows of a service job's run beside
// its status. Kept in the store so a restart neither resets the start timeout nor flips a service
// that passed its health check back to `notstarted`, and a finished run still names its endpoint.
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';

type Commit = <T>(body: () => T) => Promise<T>;

/** One service run's state. Times: milliseconds since the epoch. */
export interface ServiceRunState {
  /** When the backend first reported the run's object: the start timeout counts from here. */
  since: number;
  /** When it first passed its health check; null while it has not. */
  readyAt: number | null;
  /** The endpoint it was reached at (the last one the backend reported once ready). */
  endpoint: string | null;
  /** Why the last health check failed; null before any failed. */
  lastCheck: string | null;
}

const int = z.number().int();
const Row = z.object({
  since: int,
  ready_at: int.nullable(),
  endpoint: z.string().nullable(),
  last_check: z.string().nullable(),
});

export class ServiceRuns {
  readonly #commit: Commit;
  readonly #get: Statement<[number]>;
  readonly #seen: Statement<[number, number]>;
  readonly #ready: Statement<[number, string | null, number]>;
  readonly #endpoint: Statement<[string, number]>;
  readonly #check: Statement<[string, number]>;

  constructor(db: Database, commit: Commit) {
    this.#commit = commit;
    this.#get = db.prepare(
      'SELECT since, ready_at, endpoint, last_check FROM service_runs WHERE run_id = ?',
    );
    // The first report wins: a later one never moves the start of the timeout.
    this.#seen = db.prepare('INSERT OR IGNORE INTO service_runs (run_id, since) VALUES (?, ?)');
    // Ready once: the first passing check's time stays.
    this.#ready = db.prepare(
      `UPDATE service_runs SET ready_at = COALESCE(ready_at, ?), endpoint = COALESCE(?, endpoint)
       WHERE run_id = ?`,
    );
    this.#endpoint = db.prepare('UPDATE service_runs SET endpoint = ? WHERE run_id = ?');
    this.#check = db.prepare('UPDATE service_runs SET last_check = ? WHERE run_id = ?');
  }

  /** The run's state; undefined until the backend first reported it. */
  get(runId: number): ServiceRunState | undefined {
    const row = this.#get.get(runId);
    if (row === undefined) return undefined;
    const r = Row.parse(row);
    return { since: r.since, readyAt: r.ready_at, endpoint: r.endpoint, lastCheck: r.last_check };
  }

  /** The backend reported the run (first time: the start timeout begins at `at`). */
  seen(runId: number, at: number): Promise<void> {
    return this.#commit(() => {
      this.#seen.run(runId, at);
    });
  }

  /** It passed its health check at `at`, reached at `endpoint` (when the backend gave one). */
  ready(runId: number, at: number, endpoint: string | undefined): Promise<void> {
    return this.#commit(() => {
      this.#seen.run(runId, at);
      this.#ready.run(at, endpoint ?? null, runId);
    });
  }

  /** The endpoint the backend reports now (a service the engine re-created elsewhere). */
  moved(runId: number, endpoint: string): Promise<void> {
    return this.#commit(() => {
      this.#endpoint.run(endpoint, runId);
    });
  }

  /** Why its last health check failed. */
  failed(runId: number, reason: string): Promise<void> {
    return this.#commit(() => {
      this.#check.run(reason, runId);
    });
  }
}
