// Group commit: a burst of writes in one turn shares one transaction and all resolve after it;
// one failing write rejects alone; a commit that fails rejects the whole batch.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { StoreFullError } from '../../../src/store/errors.js';
import { GroupCommit } from '../../../src/store/group-commit.js';
import { clock, ledgerFixtures, spec } from './ledger-fixtures.js';

const { memory, fresh, onDisk } = ledgerFixtures();

const intake = (jid: string) => ({ jid, spec: spec(jid), fingerprint: `sha256:${jid}` });

describe('group commit', () => {
  it('200 concurrent intakes → one transaction, every promise resolved', async () => {
    const ledger = onDisk(fresh(), { now: clock().now });
    const before = ledger.commits;
    const made = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ledger.intake(intake(`j${i}`))),
    );
    expect(ledger.commits - before).toBe(1);
    expect(new Set(made.map((m) => m.runId)).size).toBe(200);
    expect(made.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(ledger.active()).toHaveLength(200);
  });

  it('resolves only once committed: nothing is visible before', async () => {
    const ledger = memory();
    const pending = ledger.intake(intake('a'));
    expect(ledger.current('a')).toBeUndefined();
    await pending;
    expect(ledger.current('a')).toBeDefined();
  });

  it('writes of a later turn go into a later transaction', async () => {
    const ledger = memory();
    const before = ledger.commits;
    await ledger.intake(intake('a'));
    await ledger.intake(intake('b'));
    expect(ledger.commits - before).toBe(2);
  });

  it('one failing call rejects alone and leaves nothing of itself', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x INTEGER NOT NULL)');
    const group = new GroupCommit(db, ':memory:');
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    const results = await Promise.allSettled([
      group.run(() => insert.run(1)),
      group.run(() => {
        insert.run(2);
        insert.run(null); // NOT NULL: the savepoint rolls back 2 as well
      }),
      group.run(() => insert.run(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT x FROM t ORDER BY x').pluck().all()).toEqual([1, 3]);
    expect(group.commits).toBe(1);
    db.close();
  });

  it('a commit that fails rejects every call of the batch, each with the mapped error', async () => {
    const db = new Database(':memory:');
    db.exec('PRAGMA foreign_keys = ON');
    db.exec(
      'CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)',
    );
    const group = new GroupCommit(db, ':memory:');
    // a deferred foreign key fails only at COMMIT: the whole batch is lost, so all must reject
    const results = await Promise.allSettled([
      group.run(() => db.prepare('INSERT INTO p (id) VALUES (1)').run()),
      group.run(() => db.prepare('INSERT INTO c (p) VALUES (42)').run()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(db.prepare('SELECT count(*) FROM p').pluck().get()).toBe(0);
    db.close();
  });

  it('a full store (page limit) rejects what does not fit with StoreFullError, alone', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x TEXT NOT NULL)');
    const group = new GroupCommit(db, '/state/pman.db');
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    await group.run(() => insert.run('small'));
    const pages = db.pragma('page_count', { simple: true });
    db.pragma(`max_page_count = ${String(pages)}`);
    const results = await Promise.allSettled([group.run(() => insert.run('x'.repeat(64 * 1024)))]);
    expect(results[0]?.status).toBe('rejected');
    const reason = (results[0] as PromiseRejectedResult).reason as unknown;
    expect(reason).toBeInstanceOf(StoreFullError);
    expect((reason as StoreFullError).message).toContain('/state/pman.db');
    db.pragma('max_page_count = 1073741823');
    await group.run(() => insert.run('later'));
    expect(db.prepare('SELECT x FROM t').pluck().all()).toEqual(['small', 'later']);
    db.close();
  });
});
