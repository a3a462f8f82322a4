// The runs and their event log: typed reads and writes over prepared statements built once, each
// write one transaction, rows parsed with zod. SQLite errors leave as StoreError/StoreFullError.
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';
import { JOB_STATUSES, TERMINAL_STATUSES } from '../domain/job.js';
import type { JobStatus } from '../domain/job.js';
import { RunFinalError, storeErrorOf } from './errors.js';

export interface IntakeInput {
  jid: string;
  /** The accepted spec; stored as JSON. */
  spec: unknown;
  /** Hash of the canonical request body. */
  fingerprint: string;
  auid?: string | undefined;
  /** The first status (default notstarted) and its message. */
  status?: JobStatus;
  message?: string;
}

export interface Intake {
  /** The run's id in the store (what appendEvent takes). */
  runId: number;
  /** Its number among the runs of its jid: 1, 2, … */
  run: number;
  /** The seq of its first event. */
  seq: number;
}

const status = z.enum(JOB_STATUSES);
const id = z.number().int();
const time = z.number().int();

const RunRow = z.object({
  id,
  jid: z.string(),
  run_no: id,
  spec: z.string().transform((text): unknown => JSON.parse(text)),
  fingerprint: z.string(),
  auid: z.string().nullable(),
  created: time,
  started: time.nullable(),
  finished: time.nullable(),
  status,
  message: z.string(),
  exit_code: id.nullable(),
  removed: time.nullable(),
});
export type Run = z.infer<typeof RunRow>;

const EventRow = z.object({
  seq: id,
  run_id: id,
  jid: z.string(),
  run_no: id,
  status,
  message: z.string(),
  at: time,
});
export type RunEvent = z.infer<typeof EventRow>;

const Returned = z.object({ value: id });
const Status = z.object({ status });

export interface RunsOptions {
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
}

export class Runs {
  readonly #db: Database;
  readonly #file: string;
  readonly #now: () => number;
  readonly #addJob: Statement<[string]>;
  readonly #nextRunNo: Statement<[string]>;
  readonly #insertRun: Statement<
    [string, number, string, string, string | null, number, JobStatus, string]
  >;
  readonly #setCurrent: Statement<[number, string]>;
  readonly #insertEvent: Statement<[number, JobStatus, string, number]>;
  readonly #statusOf: Statement<[number]>;
  readonly #setStatus: Statement<[StatusChange]>;
  readonly #since: Statement<[number, number]>;
  readonly #runsOf: Statement<[string]>;

  constructor(db: Database, file: string, options: RunsOptions = {}) {
    this.#db = db;
    this.#file = file;
    this.#now = options.now ?? Date.now;
    this.#addJob = db.prepare('INSERT INTO jobs (jid) VALUES (?) ON CONFLICT (jid) DO NOTHING');
    this.#nextRunNo = db.prepare(
      'UPDATE jobs SET last_run_no = last_run_no + 1 WHERE jid = ? RETURNING last_run_no AS value',
    );
    this.#insertRun = db.prepare(
      `INSERT INTO runs (jid, run_no, spec, fingerprint, auid, created, status, message)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS value`,
    );
    this.#setCurrent = db.prepare('UPDATE jobs SET current_run = ? WHERE jid = ?');
    this.#insertEvent = db.prepare(
      'INSERT INTO events (run_id, status, message, at) VALUES (?, ?, ?, ?) RETURNING seq AS value',
    );
    this.#statusOf = db.prepare('SELECT status FROM runs WHERE id = ?');
    // started/finished: the first time the run was seen started (or past it) / terminal.
    this.#setStatus = db.prepare(
      `UPDATE runs SET status = @status, message = @message,
         started = CASE WHEN started IS NULL AND @status <> 'notstarted' AND @status <> 'undefined'
                        THEN @at ELSE started END,
         finished = CASE WHEN @terminal THEN @at ELSE finished END
       WHERE id = @runId`,
    );
    this.#since = db.prepare(
      `SELECT e.seq, e.run_id, r.jid, r.run_no, e.status, e.message, e.at
       FROM events e JOIN runs r ON r.id = e.run_id
       WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
    );
    this.#runsOf = db.prepare('SELECT * FROM runs WHERE jid = ? ORDER BY run_no');
  }

  /** A new run of `jid` (run number last + 1) and its first event, in one transaction. */
  recordIntake(input: IntakeInput): Intake {
    const first = input.status ?? 'notstarted';
    const message = input.message ?? '';
    return this.#write(() => {
      const at = this.#now();
      this.#addJob.run(input.jid);
      const run = Returned.parse(this.#nextRunNo.get(input.jid)).value;
      // undefined (or a function) has no JSON text: refuse it rather than store a NULL.
      const spec = JSON.stringify(input.spec) as string | undefined;
      if (spec === undefined) throw new TypeError(`the spec of "${input.jid}" has no JSON form`);
      const runId = Returned.parse(
        this.#insertRun.get(
          input.jid,
          run,
          spec,
          input.fingerprint,
          input.auid ?? null,
          at,
          first,
          message,
        ),
      ).value;
      this.#setCurrent.run(runId, input.jid);
      const seq = Returned.parse(this.#insertEvent.get(runId, first, message, at)).value;
      if (first !== 'notstarted') this.#setStatus.run(change(runId, first, message, at));
      return { runId, run, seq };
    });
  }

  /**
   * Appends a status change of a run and updates the run, in one transaction; returns the event's
   * seq. After a terminal status every event is refused (RunFinalError).
   */
  appendEvent(runId: number, next: JobStatus, message = ''): number {
    return this.#write(() => {
      const row = this.#statusOf.get(runId);
      if (row === undefined) throw new RangeError(`no run ${runId} in the store`);
      const current = Status.parse(row).status;
      if (TERMINAL_STATUSES.has(current)) throw new RunFinalError(runId, current);
      const at = this.#now();
      // The event first: the trigger that keeps terminal statuses final reads the run's old status.
      const seq = Returned.parse(this.#insertEvent.get(runId, next, message, at)).value;
      this.#setStatus.run(change(runId, next, message, at));
      return seq;
    });
  }

  /** At most `limit` events with a seq above `seq`, in seq order. */
  eventsSince(seq: number, limit: number): RunEvent[] {
    // SQLite reads a negative LIMIT as "no limit": a caller's bug must not read the whole log.
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, not ${limit}`);
    return this.#read(() => this.#since.all(seq, limit).map((row) => EventRow.parse(row)));
  }

  /** Every run of `jid`, oldest first. */
  runsOf(jid: string): Run[] {
    return this.#read(() => this.#runsOf.all(jid).map((row) => RunRow.parse(row)));
  }

  #write<T>(body: () => T): T {
    try {
      // IMMEDIATE: take the write lock first, so a concurrent writer waits instead of failing
      // midway with SQLITE_BUSY on lock upgrade.
      return this.#db.transaction(body).immediate();
    } catch (err) {
      throw storeErrorOf(err, this.#file);
    }
  }

  #read<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      throw storeErrorOf(err, this.#file);
    }
  }
}

/** The named parameters of a status update. */
interface StatusChange {
  runId: number;
  status: JobStatus;
  message: string;
  at: number;
  /** 1 when `status` is terminal (SQLite has no booleans). */
  terminal: number;
}

function change(runId: number, status: JobStatus, message: string, at: number): StatusChange {
  return { runId, status, message, at, terminal: TERMINAL_STATUSES.has(status) ? 1 : 0 };
}
