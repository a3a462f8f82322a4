// Opens the job store, <STATE_DIR>/pman.db: a private directory and file, WAL, checked before use
// (ours, undamaged, not newer than this code) and migrated. Any doubt stops start-up; never a reset.
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { damaged, StoreError, storeErrorOf } from './errors.js';
import { APPLICATION_ID, migrate, MIGRATIONS } from './migrations.js';
import type { Migration, MigrationResult } from './migrations.js';

export const DB_FILE = 'pman.db';

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

export interface OpenOptions {
  /**
   * FULL (default) fsyncs the WAL at every commit, so a 201 survives a power cut, not only a crash
   * of this process (NORMAL would keep the file consistent but may lose the last commits). Its cost
   * is one fsync per transaction: writers batch intakes into one transaction (group commit).
   */
  synchronous?: 'FULL' | 'NORMAL';
  busyTimeoutMs?: number;
  /** Tests only: another list of migrations. */
  migrations?: readonly Migration[];
}

export interface OpenedStore {
  readonly db: Db;
  readonly file: string;
  readonly migration: MigrationResult;
}

/** Opens (creating if needed) the store in `stateDir`; throws StoreError with what to do. */
export function openStore(stateDir: string, options: OpenOptions = {}): OpenedStore {
  const file = path.join(path.resolve(stateDir), DB_FILE);
  privateDirectory(path.dirname(file), file);
  privateFile(file);
  let db: Db | undefined;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS });
    // One server per store: the file stays locked while this connection is open (set before WAL,
    // so the WAL index lives in this process's memory and no other process can attach).
    db.pragma('locking_mode = EXCLUSIVE');
    checkIdentity(db, file);
    checkIntegrity(db, file);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal')
      throw new StoreError(
        file,
        `the job store ${file} cannot use WAL (journal_mode stays "${String(mode)}"): put STATE_DIR on a local file system`,
      );
    // The exclusive lock is taken by the first write: take it now, not at the first POST.
    db.exec('BEGIN IMMEDIATE; COMMIT');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    const migration = migrate(db, file, options.migrations ?? MIGRATIONS);
    return { db, file, migration };
  } catch (err) {
    db?.close();
    if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_BUSY'))
      throw new StoreError(
        file,
        `the job store ${file} is in use by another process (another pman-ts on the same ` +
          'STATE_DIR?): one server per store — stop the other one, or point STATE_DIR elsewhere',
        { cause: err },
      );
    throw storeErrorOf(err, file);
  }
}

/** STATE_DIR created 0700, or tightened to 0700: the store holds every job's spec and logs. */
function privateDirectory(dir: string, file: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (err) {
    throw new StoreError(
      file,
      `cannot make STATE_DIR ${dir} a private directory (0700) for the job store ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * The database file created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
 * database file's mode), or an existing one tightened to 0600.
 */
function privateFile(file: string): void {
  try {
    closeSync(openSync(file, 'a', 0o600));
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch (err) {
    throw new StoreError(
      file,
      `cannot create the job store ${file} with mode 0600: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Ours (APPLICATION_ID), or new and empty; a file of another application is refused. */
function checkIdentity(db: Db, file: string): void {
  // The first read of the header: a file that is not SQLite at all fails here (SQLITE_NOTADB).
  const id = db.pragma('application_id', { simple: true });
  if (id === APPLICATION_ID) return;
  const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
  if (id === 0 && objects === 0) return;
  throw new StoreError(
    file,
    `${file} is an SQLite database of another application (application_id ${String(id)}, ` +
      `expected ${APPLICATION_ID}); it was left untouched: point STATE_DIR at a folder of its own`,
  );
}

/** PRAGMA quick_check: a damaged file stops start-up instead of failing later mid-request. */
function checkIntegrity(db: Db, file: string): void {
  const problems = db.prepare('PRAGMA quick_check(5)').pluck().all();
  if (problems.length === 1 && problems[0] === 'ok') return;
  throw damaged(file, `quick_check: ${problems.map(String).join('; ')}`);
}
