// Attempts of retried runs (issue 13, migration v5). A failed attempt that is retried is recorded
// here with its exit code and archived log, and the run goes back to the queue for its backoff —
// in one transaction, so a restart during the backoff still retries, exactly once.
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';
import { JOB_STATUSES, TERMINAL_STATUSES } from '../domain/job.js';
import type { JobStatus } from '../domain/job.js';
import { archiveLog, readArchive } from './log-archive.js';
import type { Queue, QueueFields } from './queue.js';

type Commit = <T>(body: () => T) => Promise<T>;

/** One recorded attempt (its log is read apart). */
export interface Attempt {
  attempt: number;
  status: JobStatus;
  message: string;
  exitCode: number | null;
  /** ms since the epoch; null when unknown. */
  started: number | null;
  finished: number;
  /** When the next attempt was handed to the engine (its start); null until then. */
  retried: number | null;
  logSize: number;
}

/** A failed attempt to record, and what the run says while it waits for the next one. */
export interface RetryRecord extends Pick<
  Attempt,
  'attempt' | 'status' | 'message' | 'exitCode' | 'started' | 'finished'
> {
  logs: string;
  /** The run's status and message until the next attempt starts. */
  waiting: { status: JobStatus; message: string };
  queue: QueueFields;
}

const int = z.number().int();
const Row = z.object({
  attempt: int,
  status: z.enum(JOB_STATUSES),
  message: z.string(),
  exit_code: int.nullable(),
  started: int.nullable(),
  finished: int,
  retried: int.nullable(),
  log_size: int,
});
const LogRow = z.object({ encoding: z.enum(['identity', 'gzip']), log: z.instanceof(Buffer) });

export class Attempts {
  readonly #commit: Commit;
  readonly #queue: Queue;
  readonly #maxLog: number;
  readonly #now: () => number;
  readonly #state: Statement<[number]>;
  readonly #insert: Statement<unknown[]>;
  readonly #event: Statement<[number, JobStatus, string, number]>;
  readonly #wait: Statement<unknown[]>;
  readonly #retried: Statement<[number, number, number]>;
  readonly #list: Statement<[number]>;
  readonly #log: Statement<[number, number]>;
  readonly #count: Statement<[number]>;

  constructor(db: Database, commit: Commit, queue: Queue, maxLog: number, now: () => number) {
    this.#commit = commit;
    this.#queue = queue;
    this.#maxLog = maxLog;
    this.#now = now;
    this.#state = db.prepare('SELECT status FROM runs WHERE id = ? AND removed IS NULL').pluck();
    this.#insert = db.prepare(
      `INSERT OR REPLACE INTO attempts
         (run_id, attempt, status, message, exit_code, started, finished, encoding, log, log_size)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#event = db.prepare(
      'INSERT INTO events (run_id, status, message, at) VALUES (?, ?, ?, ?)',
    );
    // The engine object goes (and is made again), so the run is 'pending' until it is.
    this.#wait = db.prepare(
      `UPDATE runs SET status = ?, message = ?, engine = 'pending', bytes = bytes + ?,
         started = coalesce(started, ?)
       WHERE id = ?`,
    );
    this.#retried = db.prepare(
      'UPDATE attempts SET retried = ? WHERE run_id = ? AND attempt = ? AND retried IS NULL',
    );
    this.#list = db.prepare(
      `SELECT attempt, status, message, exit_code, started, finished, retried, log_size
       FROM attempts WHERE run_id = ? ORDER BY attempt`,
    );
    this.#log = db.prepare('SELECT encoding, log FROM attempts WHERE run_id = ? AND attempt = ?');
    this.#count = db.prepare('SELECT count(*) FROM attempts WHERE run_id = ?').pluck();
  }

  /**
   * Records a failed attempt and queues the run for the next, in one transaction; false (nothing
   * written) when the run ended or was removed meanwhile (a cancel, a DELETE).
   */
  retry(runId: number, r: RetryRecord): Promise<boolean> {
    // Compressing a large log takes a while: before the transaction, not while holding the lock.
    const archive = archiveLog(r.logs, this.#maxLog);
    return this.#commit(() => {
      const status = this.#state.get(runId) as JobStatus | undefined;
      if (status === undefined || TERMINAL_STATUSES.has(status)) return false;
      this.#insert.run(
        runId,
        r.attempt,
        r.status,
        r.message,
        r.exitCode,
        r.started,
        r.finished,
        archive.encoding,
        archive.data,
        archive.size,
      );
      const at = this.#now();
      this.#event.run(runId, r.waiting.status, r.waiting.message, at);
      const bytes = archive.data.length + Buffer.byteLength(r.message) + 64;
      this.#wait.run(r.waiting.status, r.waiting.message, bytes, at, runId);
      this.#queue.insertNow(runId, r.queue);
      return true;
    });
  }

  /** The next attempt after `attempt` was handed to the engine now. */
  markRetried(runId: number, attempt: number): Promise<void> {
    return this.#commit(() => {
      this.#retried.run(this.#now(), runId, attempt);
    });
  }

  /** The recorded attempts of a run, oldest first. */
  of(runId: number): Attempt[] {
    return this.#list.all(runId).map((row) => {
      const r = Row.parse(row);
      return {
        attempt: r.attempt,
        status: r.status,
        message: r.message,
        exitCode: r.exit_code,
        started: r.started,
        finished: r.finished,
        retried: r.retried,
        logSize: r.log_size,
      };
    });
  }

  /** How many attempts of the run were recorded (failed and retried). */
  count(runId: number): number {
    return this.#count.get(runId) as number;
  }

  /** A recorded attempt's log; undefined when there is no such attempt. */
  log(runId: number, attempt: number): string | undefined {
    const row = this.#log.get(runId, attempt);
    if (row === undefined) return undefined;
    const r = LogRow.parse(row);
    return readArchive(r.log, r.encoding);
  }
}
