// The job ledger (issue 11): every accepted run, its status events, its archived log, and the
// history over them. Writes are group-committed (group-commit.ts); reads are synchronous.
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { JobInfo, JobSpec, JobStatus } from '../domain/job.js';
import { storeErrorOf } from './errors.js';
import { EventHub } from './event-hub.js';
import type { StoreEvent } from './event-hub.js';
import { EventLog } from './event-log.js';
import type { EventFilter } from './event-log.js';
import { GroupCommit } from './group-commit.js';
import { IdempotencyStore } from './idempotency.js';
import { checkLimit, encodeCursor, historyWhere } from './history.js';
import type { HistoryQuery } from './history.js';
import { RUN_COLUMNS, toLedgerRun } from './ledger-rows.js';
import type { LedgerRun } from './ledger-rows.js';
import { archiveLog, LOG_ARCHIVE_MAX_BYTES, readArchiveBytes } from './log-archive.js';
import { migrate } from './migrations.js';
import { openStore } from './open.js';
import { Outbox } from './outbox.js';
import { Retention, RETENTION_DAYS } from './retention.js';
import { Stops } from './stops.js';
import { Attempts } from './attempts.js';
import { Queue } from './queue.js';
import { ServiceRuns } from './services.js';
import type { QueueFields } from './queue.js';
import type { Intake } from './runs.js';

export type { EventListener, StoreEvent } from './event-hub.js';
export type { EventFilter } from './event-log.js';
export type { HistoryQuery } from './history.js';
export type { LedgerRun } from './ledger-rows.js';
export type { Intake } from './runs.js';
export type { Delivery, TargetStatus } from './outbox.js';

export interface LedgerOptions {
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** LOG_ARCHIVE_MAX_BYTES: a longer log keeps its end (default 64 MiB). */
  logArchiveMaxBytes?: number;
  /** HISTORY_RETENTION_DAYS (default 30). */
  retentionDays?: number;
  /** HISTORY_MAX_BYTES (default: unbounded). */
  historyMaxBytes?: number;
}

export interface HistoryPage {
  runs: LedgerRun[];
  /** The cursor of the next page; absent on the last one. */
  next?: string;
}

export interface IntakeRequest {
  jid: string;
  spec: JobSpec;
  fingerprint: string;
  auid?: string | undefined;
  message?: string | undefined;
  /** Over a cap (issue 13): the run joins the queue in the intake's transaction. */
  queued?: QueueFields | undefined;
}

export interface Finish {
  status: 'finishedSuccessfully' | 'finishedWithError';
  message: string;
  exitCode?: number | undefined;
  /** The complete log; the archive keeps its end when it is above logArchiveMaxBytes. */
  logs: string;
  /** The engine's finish time (ms); default now. */
  at?: number | undefined;
}

export interface LegacyRecord {
  info: JobInfo;
  logs: string;
  /** RFC 3339 time the record was pinned. */
  at: string;
}

/** What a run row and an event cost beyond their texts, for HISTORY_MAX_BYTES (an estimate). */
const ROW_BYTES = 128;
const EVENT_BYTES = 48;
/** The fingerprint of an imported legacy record: a second import of the same file is skipped. */
const LEGACY_FINGERPRINT = 'legacy-record:';

/** Events read per query when publishing (a large group commit is published in pieces). */
const PUBLISH_BATCH = 1000;

const TERMINAL_SQL = "('finishedSuccessfully', 'finishedWithError')";

interface RunInsert {
  jid: string;
  run_no: number;
  spec: string;
  fingerprint: string;
  auid: string | null;
  created: number;
  started: number | null;
  finished: number | null;
  status: JobStatus;
  message: string;
  engine: 'pending' | 'created';
  bytes: number;
}

interface StatusUpdate {
  runId: number;
  status: JobStatus;
  message: string;
  at: number;
  bytes: number;
}

interface FinishUpdate extends StatusUpdate {
  exitCode: number | null;
  size: number;
  sha256: string;
}

export class Ledger {
  readonly file: string;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #maxLog: number;
  readonly #commit: GroupCommit;
  readonly #retention: Retention;
  readonly #history = new Map<string, Statement<unknown[]>>();
  readonly #s: ReturnType<typeof statements>;
  /** Idempotency-Key records and the requests runs were created from (issue 13). */
  readonly idempotency: IdempotencyStore;
  readonly #events: EventLog;
  /** Committed events, live, in seq order (the SSE routes subscribe here). */
  readonly hub = new EventHub();
  /** The webhook deliveries each event queued (issue 12; the service's worker sends them). */
  readonly outbox: Outbox;
  /** Why the service stopped a run (cancel, deadline; issue 13). */
  readonly stops: Stops;
  /** The fair queue and the attempts of retried runs (issue 13). */
  readonly queue: Queue;
  readonly attempts: Attempts;
  /** Service runs' start, readiness and endpoint (issue 15). */
  readonly services: ServiceRuns;

  private constructor(db: Database.Database, file: string, options: LedgerOptions) {
    this.#db = db;
    this.file = file;
    this.#now = options.now ?? Date.now;
    this.#maxLog = options.logArchiveMaxBytes ?? LOG_ARCHIVE_MAX_BYTES;
    this.#events = new EventLog(db);
    this.hub.startAfter(this.#events.last());
    this.#commit = new GroupCommit(db, file, () => this.#publish());
    this.outbox = new Outbox(db, file, (body) => this.#commit.run(body));
    this.stops = new Stops(db, (body) => this.#commit.run(body));
    this.queue = new Queue(db, (body) => this.#commit.run(body));
    this.attempts = new Attempts(
      db,
      (b) => this.#commit.run(b),
      this.queue,
      this.#maxLog,
      this.#now,
    );
    this.#retention = new Retention(db, {
      retentionDays: options.retentionDays ?? RETENTION_DAYS,
      historyMaxBytes: options.historyMaxBytes,
      now: this.#now,
    });
    this.#s = statements(db);
    this.idempotency = new IdempotencyStore(db, (body) => this.#commit.run(body));
    this.services = new ServiceRuns(db, (body) => this.#commit.run(body));
  }

  /** <stateDir>/pman.db, checked and migrated (StoreError on any doubt). */
  static open(stateDir: string, options: LedgerOptions = {}): Ledger {
    const { db, file } = openStore(stateDir);
    return new Ledger(db, file, options);
  }

  /** Tests: the same schema in memory. */
  static inMemory(options: LedgerOptions = {}): Ledger {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, ':memory:');
    return new Ledger(db, ':memory:', options);
  }

  /** Transactions committed so far (tests and the bench: a burst of writes shares one). */
  get commits(): number {
    return this.#commit.commits;
  }

  /** A new run of `jid` (number last + 1), notstarted, engine 'pending', and its first event. */
  intake(input: IntakeRequest): Promise<Intake> {
    return this.#commit.run(() => {
      const at = this.#now();
      const message = input.message ?? '';
      const spec = JSON.stringify(input.spec);
      const auid = input.auid ?? null;
      const bytes =
        ROW_BYTES +
        EVENT_BYTES +
        byteLength(input.jid, spec, input.fingerprint, auid ?? '', message, message);
      const run = this.#nextRunNo(input.jid);
      const runId = this.#s.insertRun.get({
        jid: input.jid,
        run_no: run,
        spec,
        fingerprint: input.fingerprint,
        auid,
        created: at,
        started: null,
        finished: null,
        status: 'notstarted',
        message,
        engine: 'pending',
        bytes,
      }) as number;
      this.#s.setCurrent.run(runId, input.jid);
      if (input.queued !== undefined) this.queue.insertNow(runId, input.queued);
      const seq = this.#s.insertEvent.get(runId, 'notstarted', message, at) as number;
      return { runId, run, seq };
    });
  }

  /** The engine holds the run's object now: a restart must not create it again. */
  markCreated(runId: number): Promise<void> {
    return this.#commit.run(() => {
      this.#s.markCreated.run(runId);
    });
  }

  /**
   * Appends a status change; undefined (nothing written) when it changes nothing, when the run is
   * terminal (terminal statuses are final), or when retention already deleted the run.
   */
  appendEvent(runId: number, status: JobStatus, message: string): Promise<number | undefined> {
    return this.#commit.run(() => {
      const state = this.#s.stateOf.get(runId) as
        { status: JobStatus; message: string } | undefined;
      if (state === undefined || TERMINAL_STATUSES.has(state.status)) return undefined;
      if (state.status === status && state.message === message) return undefined;
      const at = this.#now();
      // The event first: the trigger that keeps terminal statuses final reads the old status.
      const seq = this.#s.insertEvent.get(runId, status, message, at) as number;
      const bytes = EVENT_BYTES + byteLength(message);
      const update: StatusUpdate = { runId, status, message, at, bytes };
      this.#s.setStatus.run({ ...update, terminal: TERMINAL_STATUSES.has(status) ? 1 : 0 });
      return seq;
    });
  }

  /**
   * The terminal event, exit code and archived log of a run, in one savepoint; undefined when it
   * was terminal already (the first capture wins) or is gone.
   */
  finish(runId: number, r: Finish): Promise<number | undefined> {
    // Compressing 64 MiB takes a while: done before the transaction, not while holding the lock.
    const archive = archiveLog(r.logs, this.#maxLog);
    return this.#commit.run(() => {
      const state = this.#s.stateOf.get(runId) as { status: JobStatus } | undefined;
      if (state === undefined || TERMINAL_STATUSES.has(state.status)) return undefined;
      const now = this.#now();
      const seq = this.#s.insertEvent.get(runId, r.status, r.message, now) as number;
      this.#s.putLog.run(runId, archive.encoding, archive.data);
      const update: FinishUpdate = {
        runId,
        status: r.status,
        message: r.message,
        at: r.at ?? now,
        bytes: EVENT_BYTES + byteLength(r.message) + archive.data.length,
        exitCode: r.exitCode ?? null,
        size: archive.size,
        sha256: archive.sha256,
      };
      this.#s.setFinished.run(update);
      return seq;
    });
  }

  /** DELETE removed the engine objects; the run stays until retention. */
  markRemoved(runId: number): Promise<void> {
    return this.#commit.run(() => {
      this.#s.markRemoved.run(this.#now(), runId);
    });
  }

  /** A legacy STATE_DIR record becomes a finished run of its jid (once: a re-import is skipped). */
  importRecord(r: LegacyRecord): Promise<void> {
    const archive = archiveLog(r.logs, this.#maxLog);
    return this.#commit.run(() => {
      const { info } = r;
      const fingerprint = LEGACY_FINGERPRINT + r.at;
      if (this.#s.hasRun.get(info.name, fingerprint) !== undefined) return;
      const at = firstTime(this.#now(), info.timestamp, r.at);
      // Records were pinned only once terminal; anything else cannot be followed any more.
      const terminal = TERMINAL_STATUSES.has(info.status);
      const status: JobStatus = terminal ? info.status : 'finishedWithError';
      const message = terminal
        ? info.message
        : `imported from a record that was "${info.status}" (${info.message})`;
      const spec = JSON.stringify(legacySpec(info));
      const run = this.#nextRunNo(info.name);
      const runId = this.#s.insertRun.get({
        jid: info.name,
        run_no: run,
        spec,
        fingerprint,
        auid: null,
        created: at,
        started: at,
        finished: at,
        status,
        message,
        engine: 'created',
        bytes:
          ROW_BYTES +
          EVENT_BYTES +
          byteLength(info.name, spec, fingerprint, message, message) +
          archive.data.length,
      }) as number;
      this.#s.setCurrentIfNone.run(runId, info.name);
      this.#s.insertEvent.get(runId, status, message, at);
      this.#s.putLog.run(runId, archive.encoding, archive.data);
      this.#s.setLogMeta.run(archive.size, archive.sha256, runId);
    });
  }

  current(jid: string): LedgerRun | undefined {
    return this.#read(() => {
      const row = this.#s.current.get(jid);
      return row === undefined ? undefined : toLedgerRun(row);
    });
  }

  active(): LedgerRun[] {
    return this.#read(() => this.#s.active.all().map(toLedgerRun));
  }

  /** Every jid's current run that DELETE has not removed, any status (the job list). */
  liveRuns(): LedgerRun[] {
    return this.#read(() => this.#s.live.all().map(toLedgerRun));
  }

  log(runId: number): string {
    return this.logBytes(runId).toString('utf8');
  }

  /** The archived log as bytes: a reader that keeps only a tail never decodes the rest. */
  logBytes(runId: number): Buffer {
    return this.#read(() =>
      Buffer.concat(
        (this.#s.log.all(runId) as Array<{ encoding: 'identity' | 'gzip'; data: Buffer }>).map(
          ({ encoding, data }) => readArchiveBytes(data, encoding),
        ),
      ),
    );
  }

  runsOf(jid: string): LedgerRun[] {
    return this.#read(() => this.#s.runsOf.all(jid).map(toLedgerRun));
  }

  /** Newest first (created, then id); `next` resumes right after the page's last run. */
  history(q: HistoryQuery): HistoryPage {
    checkLimit(q.limit);
    const { sql, params } = historyWhere(q);
    return this.#read(() => {
      const rows = this.#historyStatement(sql).all(...params, q.limit + 1);
      const runs = rows.slice(0, q.limit).map(toLedgerRun);
      const last = runs.at(-1);
      if (rows.length <= q.limit || last === undefined) return { runs };
      return { runs, next: encodeCursor({ created: last.created, id: last.id }) };
    });
  }

  /** Replay: at most `limit` events after `seq` that pass `filter`, in seq order. */
  eventsSince(seq: number, limit: number, filter?: EventFilter): StoreEvent[] {
    return this.#read(() => this.#events.since(seq, limit, filter));
  }

  /** The oldest seq retained (undefined: no event) and the last seq ever handed out. */
  eventBounds(): { oldest: number | undefined; last: number } {
    return this.#read(() => ({ oldest: this.#events.oldest(), last: this.#events.last() }));
  }

  /** WEBHOOK_URL of this start (none: empty): every event committed from now on is queued for it. */
  setWebhookTargets(urls: readonly string[]): void {
    // Queued writes first: their events belong to the targets they were written under.
    this.#commit.flush();
    this.outbox.setTargets(urls);
  }

  /** Retention (see retention.ts): the number of runs deleted. */
  prune(): number {
    // Queued writes first: a run finished in this turn must count by its final state.
    this.#commit.flush();
    // Expired idempotency keys go with it (IDEMPOTENCY_TTL_SECONDS).
    return this.#read(() => {
      this.idempotency.prune(this.#now());
      return this.#retention.prune();
    });
  }

  /** Commits what is queued, then closes the file. */
  close(): void {
    if (!this.#db.open) return;
    this.#commit.flush();
    this.#db.close();
  }

  /** After a commit: the events it wrote go to the hub's subscribers (or are only counted). */
  #publish(): void {
    try {
      if (this.hub.subscribers === 0) {
        this.hub.startAfter(this.#events.last());
        return;
      }
      for (;;) {
        const batch = this.#events.since(this.hub.lastPublished, PUBLISH_BATCH);
        this.hub.publish(batch);
        if (batch.length < PUBLISH_BATCH) return;
      }
    } catch {
      // A read that fails right after a commit (a closed file) publishes nothing; a subscriber
      // that missed an event resumes from the store by its seq.
    }
  }

  #nextRunNo(jid: string): number {
    this.#s.addJob.run(jid);
    return this.#s.nextRunNo.get(jid) as number;
  }

  #historyStatement(where: string): Statement<unknown[]> {
    let statement = this.#history.get(where);
    if (statement === undefined) {
      statement = this.#db.prepare<unknown[]>(
        `SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY created DESC, id DESC LIMIT ?`,
      );
      this.#history.set(where, statement);
    }
    return statement;
  }

  #read<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      throw storeErrorOf(err, this.file);
    }
  }
}

function statements(db: Database.Database) {
  return {
    addJob: db.prepare<[string]>('INSERT INTO jobs (jid) VALUES (?) ON CONFLICT (jid) DO NOTHING'),
    nextRunNo: db
      .prepare<[string]>(
        'UPDATE jobs SET last_run_no = last_run_no + 1 WHERE jid = ? RETURNING last_run_no',
      )
      .pluck(),
    insertRun: db
      .prepare<[RunInsert]>(
        `INSERT INTO runs (jid, run_no, spec, fingerprint, auid, created, started, finished,
           status, message, engine, bytes)
         VALUES (@jid, @run_no, @spec, @fingerprint, @auid, @created, @started, @finished,
           @status, @message, @engine, @bytes)
         RETURNING id`,
      )
      .pluck(),
    setCurrent: db.prepare<[number, string]>('UPDATE jobs SET current_run = ? WHERE jid = ?'),
    setCurrentIfNone: db.prepare<[number, string]>(
      'UPDATE jobs SET current_run = ? WHERE jid = ? AND current_run IS NULL',
    ),
    insertEvent: db
      .prepare<[number, JobStatus, string, number]>(
        'INSERT INTO events (run_id, status, message, at) VALUES (?, ?, ?, ?) RETURNING seq',
      )
      .pluck(),
    stateOf: db.prepare<[number]>('SELECT status, message FROM runs WHERE id = ?'),
    // started: the first time the run was seen started (or past it); finished: terminal.
    setStatus: db.prepare<[StatusUpdate & { terminal: number }]>(
      `UPDATE runs SET status = @status, message = @message, bytes = bytes + @bytes,
         started = CASE WHEN started IS NULL AND @status <> 'notstarted' AND @status <> 'undefined'
                        THEN @at ELSE started END,
         finished = CASE WHEN @terminal THEN @at ELSE finished END
       WHERE id = @runId`,
    ),
    setFinished: db.prepare<[FinishUpdate]>(
      `UPDATE runs SET status = @status, message = @message, exit_code = @exitCode,
         finished = @at, started = coalesce(started, @at), log_size = @size,
         log_sha256 = @sha256, bytes = bytes + @bytes
       WHERE id = @runId`,
    ),
    putLog: db.prepare<[number, 'identity' | 'gzip', Buffer]>(
      'INSERT OR REPLACE INTO logs (run_id, chunk, encoding, data) VALUES (?, 0, ?, ?)',
    ),
    setLogMeta: db.prepare<[number, string, number]>(
      'UPDATE runs SET log_size = ?, log_sha256 = ? WHERE id = ?',
    ),
    markCreated: db.prepare<[number]>("UPDATE runs SET engine = 'created' WHERE id = ?"),
    markRemoved: db.prepare<[number, number]>(
      'UPDATE runs SET removed = ? WHERE id = ? AND removed IS NULL',
    ),
    hasRun: db.prepare<[string, string]>('SELECT 1 FROM runs WHERE jid = ? AND fingerprint = ?'),
    current: db.prepare<[string]>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE id = (SELECT current_run FROM jobs WHERE jid = ?)`,
    ),
    active: db.prepare<[]>(
      `SELECT ${RUN_COLUMNS} FROM runs
       WHERE removed IS NULL AND status NOT IN ${TERMINAL_SQL} ORDER BY id`,
    ),
    live: db.prepare<[]>(
      `SELECT ${RUN_COLUMNS} FROM runs
       WHERE id IN (SELECT current_run FROM jobs) AND removed IS NULL ORDER BY id`,
    ),
    log: db.prepare<[number]>('SELECT encoding, data FROM logs WHERE run_id = ? ORDER BY chunk'),
    runsOf: db.prepare<[string]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE jid = ? ORDER BY run_no`),
  };
}

function byteLength(...texts: string[]): number {
  return texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
}

/** The first of the times that parses (ms), else `fallback`. */
function firstTime(fallback: number, ...times: string[]): number {
  for (const time of times) {
    const ms = Date.parse(time);
    if (Number.isFinite(ms)) return ms;
  }
  return fallback;
}

/** A legacy record kept only name, image and command: the rest of the spec is unknown. */
function legacySpec(info: JobInfo): JobSpec {
  return {
    name: info.name,
    image: info.image,
    command: [...info.command],
    env: {},
    resources: { workers: 1, cpuMillicores: 0, memoryMiB: 0, gpus: 0 },
    mounts: [],
    labels: {},
  };
}
