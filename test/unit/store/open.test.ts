// openStore: WAL and the pragmas, private modes, migration from empty and idempotent re-open, and
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
// the files it must refuse — newer, foreign, random bytes, truncated — left byte for byte untouched.
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/store/errors.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../../src/store/migrations.js';
import { DB_FILE, openStore } from '../../../src/store/open.js';
import { Runs } from '../../../src/store/runs.js';
import { storeFixtures } from './fixtures.js';

const { fresh, open } = storeFixtures();

const modeOf = (file: string): number => statSync(file).mode & 0o777;

/** Runs `act`, expecting a StoreError naming `file`; returns its message. */
function refusal(act: () => unknown, file: string): string {
  let caught: unknown;
  try {
    act();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StoreError);
  const error = caught as StoreError;
  expect(error.file).toBe(file);
  expect(error.message).toContain(file);
  return error.message;
}

/** A database file at <dir>/pman.db written by someone else. */
function foreignFile(dir: string, write: (db: Database.Database) => void): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, DB_FILE);
  const db = new Database(file);
  write(db);
  db.close();
  return file;
}

describe('openStore', () => {
  it('opens in WAL with FULL sync, foreign keys and a busy timeout', () => {
    const { db } = open(fresh());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('takes synchronous=NORMAL when asked', () => {
    const { db } = open(fresh(), { synchronous: 'NORMAL' });
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('creates STATE_DIR 0700 and the database and its WAL 0600 (no shared memory: one server per store)', () => {
    const dir = fresh();
    const { db, file } = open(dir);
    new Runs(db, file).recordIntake({ jid: 'j', spec: {}, fingerprint: 'f' });
    expect(file).toBe(path.join(dir, DB_FILE));
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(`${file}-wal`)).toBe(0o600);
    // locking_mode=EXCLUSIVE keeps the WAL index in the process's heap: no -shm file to share.
    expect(existsSync(`${file}-shm`)).toBe(false);
  });

  it('tightens an existing STATE_DIR and database file that others could read', () => {
    const dir = fresh();
    open(dir).db.close();
    chmodSync(dir, 0o755);
    chmodSync(path.join(dir, DB_FILE), 0o644);
    const { file } = open(dir);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
  });

  it('migrates a new file to the current schema and stamps it as ours', () => {
    const { db, migration } = open(fresh());
    expect(migration).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(expect.arrayContaining(['events', 'jobs', 'logs', 'runs']));
  });

  it('re-opens idempotently: no migration runs again, the data is kept', () => {
    const dir = fresh();
    const first = open(dir);
    new Runs(first.db, first.file).recordIntake({ jid: 'kept', spec: { a: 1 }, fingerprint: 'f' });
    first.db.close();
    const again = open(dir);
    expect(again.migration).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(new Runs(again.db, again.file).runsOf('kept')).toHaveLength(1);
  });

  it('refuses a store written by a newer pman-ts and leaves it untouched', () => {
    const dir = fresh();
    const { db, file } = open(dir);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = readFileSync(file);
    const message = refusal(() => open(dir), file);
    expect(message).toMatch(/newer pman-ts/);
    expect(message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses an SQLite file of another application and leaves it untouched', () => {
    const dir = fresh();
    const file = foreignFile(dir, (db) => {
      db.pragma('application_id = 1234');
      db.exec('CREATE TABLE theirs (x INTEGER)');
    });
    const before = readFileSync(file);
    expect(refusal(() => open(dir), file)).toMatch(/another application \(application_id 1234/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses an SQLite file with tables but no application_id (not a new file)', () => {
    const dir = fresh();
    const file = foreignFile(dir, (db) => db.exec('CREATE TABLE theirs (x INTEGER)'));
    expect(refusal(() => open(dir), file)).toMatch(/another application \(application_id 0/);
  });

  it('refuses a file of random bytes with a clear message and leaves it untouched', () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, DB_FILE);
    const junk = randomBytes(16 * 1024);
    writeFileSync(file, junk);
    const message = refusal(() => open(dir), file);
    expect(message).toMatch(/is corrupt or not a pman-ts store/);
    expect(message).toMatch(/restore it from a backup, or move it away/);
    expect(readFileSync(file).equals(junk)).toBe(true);
  });

  it('refuses a truncated store instead of resetting it', () => {
    const dir = fresh();
    const { db, file } = open(dir);
    const runs = new Runs(db, file);
    for (let i = 0; i < 200; i += 1)
      runs.recordIntake({ jid: `j${i}`, spec: { pad: 'x'.repeat(2000) }, fingerprint: `f${i}` });
    db.close(); // checkpoints the WAL into the file
    truncateSync(file, Math.floor(statSync(file).size / 2));
    expect(refusal(() => open(dir), file)).toMatch(/is corrupt or not a pman-ts store/);
  });

  it('names the file when STATE_DIR cannot be created', () => {
    const root = fresh();
    mkdirSync(path.dirname(root), { recursive: true });
    writeFileSync(root, 'a file where the directory should be');
    const file = path.join(root, 'state', DB_FILE);
    expect(refusal(() => open(path.join(root, 'state')), file)).toMatch(/cannot make STATE_DIR/);
  });
});

describe('one server per store', () => {
  it('refuses a second open of a store in use, naming the file; free again once closed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pman-ts-lock-'));
    try {
      const first = openStore(dir);
      expect(() => openStore(dir, { busyTimeoutMs: 50 })).toThrow(/is in use by another process/);
      expect(() => openStore(dir, { busyTimeoutMs: 50 })).toThrow(path.join(dir, 'pman.db'));
      first.db.close();
      openStore(dir).db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
