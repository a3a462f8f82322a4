// Migrations: applied in order on a later open, each in its own transaction (a failing one leaves
// the file at the previous version with nothing of it), and a list out of order is a bug.
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, schemaVersion } from '../../../src/store/migrations.js';
import type { Migration } from '../../../src/store/migrations.js';
import { Ledger } from '../../../src/store/ledger.js';
import { Runs } from '../../../src/store/runs.js';
import { storeFixtures } from './fixtures.js';
import { spec } from './ledger-fixtures.js';

const { fresh, open } = storeFixtures();

const LATEST = MIGRATIONS.length;
/** A migration after the last one this code has. */
const NEXT: Migration = { version: LATEST + 1, sql: 'CREATE TABLE extra (x INTEGER) STRICT;' };

const tableNames = (db: ReturnType<typeof open>['db']): unknown[] =>
  db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();

describe('migrate', () => {
  it('lists versions 1, 2, 3… in order', () => {
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
  });

  it('applies only the migrations a store does not have yet', () => {
    const dir = fresh();
    open(dir).db.close();
    const { db, migration } = open(dir, { migrations: [...MIGRATIONS, NEXT] });
    expect(migration).toEqual({ from: LATEST, to: LATEST + 1 });
    expect(schemaVersion(db)).toBe(LATEST + 1);
    expect(tableNames(db)).toContain('extra');
  });

  it('rolls a failing migration back whole and keeps the previous version', () => {
    const dir = fresh();
    open(dir).db.close();
    const broken: Migration = {
      version: LATEST + 1,
      sql: 'CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);',
    };
    expect(() => open(dir, { migrations: [...MIGRATIONS, broken] })).toThrow(/no_such_table/);
    const { db } = open(dir);
    expect(schemaVersion(db)).toBe(LATEST);
    expect(tableNames(db)).not.toContain('half');
  });

  it('refuses a list with a gap or out of order', () => {
    const { db, file } = open(fresh());
    expect(() => migrate(db, file, [...MIGRATIONS, { ...NEXT, version: LATEST + 2 }])).toThrow(
      `has version ${LATEST + 2}, expected ${LATEST + 1}`,
    );
  });

  it('v2 upgrades a v1 store with runs: engine created, byte totals started, Ledger reads it', () => {
    const dir = fresh();
    const v1 = open(dir, { migrations: MIGRATIONS.slice(0, 1) });
    new Runs(v1.db, v1.file).recordIntake({ jid: 'a', spec: spec('a'), fingerprint: 'f' });
    v1.db.close();
    const { db } = open(dir);
    expect(schemaVersion(db)).toBe(LATEST);
    expect(db.prepare('SELECT run_bytes FROM store_stats').pluck().get()).toBe(0);
    db.close();
    const ledger = Ledger.open(dir);
    try {
      expect(ledger.current('a')).toMatchObject({ run: 1, engine: 'created', spec: spec('a') });
    } finally {
      ledger.close();
    }
  });
});
