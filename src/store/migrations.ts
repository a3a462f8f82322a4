// The store's schema, versioned in code: each migration runs in its own transaction and records its
// version in PRAGMA user_version, so a crash between two migrations leaves a consistent version.
import type { Database } from 'better-sqlite3';
import { JOB_STATUSES } from '../domain/job.js';
import { StoreError } from './errors.js';

/** PRAGMA application_id of a pman-ts store: the bytes "pman". A file with another is refused. */
export const APPLICATION_ID = 0x706d616e;

export interface Migration {
  /** 1, 2, 3…: applied in order, each once. */
  readonly version: number;
  readonly sql: string;
}

const STATUSES = JOB_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * v1, the job ledger (issue 11). Times are milliseconds since the epoch (UTC): cheap to compare
 * for `since`/`until`, formatted on the wire. STRICT tables so a wrong type is an error, not a
 * silent conversion.
 */
const V1 = `
CREATE TABLE jobs (
  jid TEXT PRIMARY KEY NOT NULL,
  -- the run a GET of the jid reports; deferred because a job and its first run are inserted together
  current_run INTEGER REFERENCES runs(id) DEFERRABLE INITIALLY DEFERRED,
  -- the last run number given to this jid (runs are numbered 1, 2, … per jid)
  last_run_no INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  jid TEXT NOT NULL REFERENCES jobs(jid),
  run_no INTEGER NOT NULL CHECK (run_no >= 1),
  spec TEXT NOT NULL CHECK (json_valid(spec)),
  -- hash of the canonical request body: tells a retried POST from a different one
  fingerprint TEXT NOT NULL,
  auid TEXT,
  created INTEGER NOT NULL,
  started INTEGER,
  finished INTEGER,
  status TEXT NOT NULL CHECK (status IN (${STATUSES})),
  message TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  -- when DELETE removed the engine objects; the run stays until retention
  removed INTEGER,
  UNIQUE (jid, run_no)
) STRICT;

CREATE INDEX runs_by_created ON runs (created, id);

-- seq: global and strictly increasing (AUTOINCREMENT never reuses a number, even after deletes),
-- so "events since seq" is a range scan of the primary key.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN (${STATUSES})),
  message TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
) STRICT;

CREATE INDEX events_by_run ON events (run_id, seq);

-- Terminal statuses are final (api.md §9), also for a writer that forgets to check.
CREATE TRIGGER events_after_terminal BEFORE INSERT ON events
WHEN (SELECT status FROM runs WHERE id = NEW.run_id) IN ('finishedSuccessfully', 'finishedWithError')
  AND EXISTS (SELECT 1 FROM events WHERE run_id = NEW.run_id)
BEGIN
  SELECT RAISE(ABORT, 'run status is final');
END;

-- The captured log of a run, in chunks (appended while it runs, archived at the end).
CREATE TABLE logs (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  chunk INTEGER NOT NULL CHECK (chunk >= 0),
  encoding TEXT NOT NULL DEFAULT 'identity' CHECK (encoding IN ('identity', 'gzip')),
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, chunk)
) STRICT;
`;

/**
 * v2, what the Ledger needs beyond v1: whether the engine holds the run's object yet (a crash
 * between intake and create leaves 'pending', which the reconciler creates exactly once), the
 * archived log's size and sha256, each run's byte footprint kept summed in store_stats by triggers
 * (HISTORY_MAX_BYTES without scanning), the end time retention goes by, and the indexes of the
 * history filters (each ends in created, id: the order of a page and of its cursor).
 */
const V2 = `
ALTER TABLE runs ADD COLUMN engine TEXT NOT NULL DEFAULT 'created'
  CHECK (engine IN ('pending', 'created'));
-- the archived log: bytes before compression, and the sha256 (hex) of exactly those bytes
ALTER TABLE runs ADD COLUMN log_size INTEGER;
ALTER TABLE runs ADD COLUMN log_sha256 TEXT;
-- what the run (row, events, archived log) costs the store, counted against HISTORY_MAX_BYTES
ALTER TABLE runs ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
-- when the run left the engine for good: removed (DELETE) if ever, else finished; retention's clock
ALTER TABLE runs ADD COLUMN ended INTEGER GENERATED ALWAYS AS (coalesce(removed, finished)) VIRTUAL;

CREATE TABLE store_stats (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  run_bytes INTEGER NOT NULL
) STRICT;
INSERT INTO store_stats (id, run_bytes) SELECT 1, coalesce(sum(bytes), 0) FROM runs;

CREATE TRIGGER runs_bytes_insert AFTER INSERT ON runs BEGIN
  UPDATE store_stats SET run_bytes = run_bytes + NEW.bytes WHERE id = 1;
END;
CREATE TRIGGER runs_bytes_update AFTER UPDATE OF bytes ON runs BEGIN
  UPDATE store_stats SET run_bytes = run_bytes + NEW.bytes - OLD.bytes WHERE id = 1;
END;
CREATE TRIGGER runs_bytes_delete AFTER DELETE ON runs BEGIN
  UPDATE store_stats SET run_bytes = run_bytes - OLD.bytes WHERE id = 1;
END;

CREATE INDEX runs_by_jid ON runs (jid, created, id);
CREATE INDEX runs_by_status ON runs (status, created, id);
CREATE INDEX runs_by_auid ON runs (auid, created, id);
CREATE INDEX runs_by_ended ON runs (ended, id) WHERE ended IS NOT NULL;
CREATE INDEX runs_by_removed ON runs (removed, id) WHERE removed IS NOT NULL;
-- retention unsets the current run of a jid before deleting it (and foreign keys look it up)
CREATE INDEX jobs_by_current_run ON jobs (current_run);
CREATE INDEX runs_active ON runs (id)
  WHERE removed IS NULL AND status NOT IN ('finishedSuccessfully', 'finishedWithError');
`;

/**
 * v3, the webhook outbox (issue 12). A trigger on events queues one delivery per target in the
 * same transaction as the event, so a crash never loses one: WEBHOOK_URL (kept in webhook_targets,
 * rewritten at each start) and the run's own callback_url (in its spec). The event's fields are
 * copied: retention may delete the run before its deliveries are done. Imported legacy records
 * are history, not news: they queue nothing.
 */
const V3 = `
CREATE TABLE webhook_targets (
  url TEXT PRIMARY KEY NOT NULL
) STRICT;

CREATE TABLE webhook_outbox (
  id INTEGER PRIMARY KEY,
  target TEXT NOT NULL,
  seq INTEGER NOT NULL,
  jid TEXT NOT NULL,
  run_no INTEGER NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  at INTEGER NOT NULL,
  -- when it was queued (its age counts against WEBHOOK_MAX_AGE), attempts so far, next try
  queued INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  UNIQUE (target, seq)
) STRICT;

-- a target's jid's next delivery is the smallest id: per-job order
CREATE INDEX webhook_outbox_by_job ON webhook_outbox (target, jid, id);

CREATE TABLE webhook_stats (
  target TEXT PRIMARY KEY NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  last_error_at INTEGER
) STRICT;

CREATE TRIGGER events_webhooks AFTER INSERT ON events
WHEN (SELECT fingerprint FROM runs WHERE id = NEW.run_id) NOT LIKE 'legacy-record:%'
BEGIN
  INSERT OR IGNORE INTO webhook_outbox (target, seq, jid, run_no, status, message, at, queued, next_at)
  SELECT t.url, NEW.seq, r.jid, r.run_no, NEW.status, NEW.message, NEW.at, NEW.at, NEW.at
  FROM runs r, (SELECT url FROM webhook_targets
                UNION SELECT json_extract(spec, '$.callbackUrl') FROM runs WHERE id = NEW.run_id) t
  WHERE r.id = NEW.run_id AND t.url IS NOT NULL;
END;
`;

/**
 * v4, cancel and deadlines (issue 13): why the service stopped a run, written before the engine is
 * told, so the run's end says so whatever exit code the engine reports, and is never retried.
 */
const V4_STOP_REASON = `ALTER TABLE runs ADD COLUMN stop_reason TEXT;`;

/**
 * v5, the fair queue and retries (issue 13). `queue`: runs accepted but not admitted to the engine
 * (over a cap), and retries waiting out their backoff (`not_before`); a run that ends or is removed
 * leaves it in the same transaction (cancel, DELETE), so nothing ended is ever admitted.
 * `attempts`: each failed attempt of a run that was retried, with its exit code and archived log;
 * `retried` is when the next attempt was handed to the engine (that attempt's start).
 */
const V5_QUEUE = `
CREATE TABLE queue (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  -- enqueue order (FIFO): larger than every entry present when it was queued
  seq INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  auid TEXT NOT NULL,
  gpus INTEGER NOT NULL CHECK (gpus >= 0),
  not_before INTEGER
) STRICT;

CREATE TRIGGER queue_leave_on_end AFTER UPDATE OF status, removed ON runs
WHEN NEW.removed IS NOT NULL OR NEW.status IN ('finishedSuccessfully', 'finishedWithError')
BEGIN
  DELETE FROM queue WHERE run_id = NEW.id;
END;

CREATE TABLE attempts (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL CHECK (attempt >= 1),
  status TEXT NOT NULL CHECK (status IN (${STATUSES})),
  message TEXT NOT NULL,
  exit_code INTEGER,
  started INTEGER,
  finished INTEGER NOT NULL,
  retried INTEGER,
  encoding TEXT NOT NULL CHECK (encoding IN ('identity', 'gzip')),
  log BLOB NOT NULL,
  log_size INTEGER NOT NULL,
  PRIMARY KEY (run_id, attempt)
) STRICT;
`;

/**
 * v6, idempotent submit (issue 13). `idempotency_keys`: an Idempotency-Key's request (canonical
 * JSON and its hash) and its first answer, kept until `expires`; `status` is NULL while the first
 * request is in flight (a restart finds it so and looks at the jid's run). `run_requests`: the
 * canonical request each run was created from, so a POST with a different body can be told which
 * fields differ.
 */
const V6_IDEMPOTENCY = `
CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY NOT NULL,
  jid TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  request TEXT NOT NULL CHECK (json_valid(request)),
  status INTEGER,
  answer TEXT CHECK (answer IS NULL OR json_valid(answer)),
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL
) STRICT;

CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires);

CREATE TABLE run_requests (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  request TEXT NOT NULL CHECK (json_valid(request))
) STRICT;
`;

/**
 * Issue 15: what the job service knows of a service run beside its status — when the backend
 * first reported it (the start timeout counts from there, across restarts), when it passed its
 * health check (it stays `started` after a restart), the endpoint it was reached at (kept for
 * history), and the last failed check (the timeout's reason).
 */
const V7_SERVICES = `
CREATE TABLE service_runs (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  since INTEGER NOT NULL,
  ready_at INTEGER,
  endpoint TEXT,
  last_check TEXT
) STRICT;
`;

/** Every migration, in order. Append only: a released migration is never edited. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, sql: V1 },
  { version: 2, sql: V2 },
  { version: 3, sql: V3 },
  { version: 4, sql: V4_STOP_REASON },
  { version: 5, sql: V5_QUEUE },
  { version: 6, sql: V6_IDEMPOTENCY },
  { version: 7, sql: V7_SERVICES },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** What migrate() did. */
export interface MigrationResult {
  from: number;
  to: number;
}

/** PRAGMA user_version: the last migration applied (0 for a new file). */
export function schemaVersion(db: Database): number {
  const value = db.pragma('user_version', { simple: true });
  if (typeof value !== 'number') throw new TypeError(`user_version is ${typeof value}`);
  return value;
}

/**
 * Brings `db` up to the last migration. A file written by a newer pman-ts is refused (it may hold
 * what this code cannot read), never downgraded. The first migration also stamps APPLICATION_ID.
 */
export function migrate(
  db: Database,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): MigrationResult {
  checkOrder(migrations);
  const latest = migrations.length;
  const from = schemaVersion(db);
  if (from > latest)
    throw new StoreError(
      file,
      `the job store ${file} has schema version ${from}, written by a newer pman-ts; this one ` +
        `knows up to version ${latest}. Run the newer pman-ts, or point STATE_DIR elsewhere; the ` +
        'file was left untouched',
    );
  for (const migration of migrations.slice(from)) {
    db.transaction(() => {
      if (migration.version === 1) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec(migration.sql);
      // Integers only (checkOrder): nothing to escape in the pragma.
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return { from, to: latest };
}

/** Versions must be 1, 2, 3… in order: a gap or a duplicate is a programming error. */
function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1)
      throw new Error(`migration ${index} has version ${migration.version}, expected ${index + 1}`);
  });
}
