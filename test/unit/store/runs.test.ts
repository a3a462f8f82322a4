// Runs: intake and events are one transaction each (a failure midway leaves nothing), seq is global
// and strictly increasing, terminal statuses are final, eventsSince pages in order, and a full disk
// is a StoreFullError with nothing half-written.
import { describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { RunFinalError, StoreFullError } from '../../../src/store/errors.js';
import { Runs } from '../../../src/store/runs.js';
import { storeFixtures } from './fixtures.js';

const { fresh, open } = storeFixtures();

/** A store in a fresh STATE_DIR with a clock that ticks 1 ms per reading (no real time). */
function ledger(): { db: Database; runs: Runs; dir: string } {
  const dir = fresh();
  const { db, file } = open(dir);
  let clock = 1_700_000_000_000;
  return { db, runs: new Runs(db, file, { now: () => (clock += 1) }), dir };
}

/** Row counts of every table, and the AUTOINCREMENT counter: "nothing written" means unchanged. */
function footprint(db: Database): Record<string, unknown> {
  const count = (table: string): unknown =>
    db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
  return {
    jobs: count('jobs'),
    runs: count('runs'),
    events: count('events'),
    logs: count('logs'),
    sequence: db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().get('events'),
  };
}

const intake = (jid: string, extra: object = {}) => ({
  jid,
  spec: { image: 'busybox', args: ['true'] },
  fingerprint: `sha256:${jid}`,
  ...extra,
});

describe('Runs.recordIntake', () => {
  it('records run 1 of a jid with its spec, fingerprint, auid, time and first event', () => {
    const { runs } = ledger();
    const made = runs.recordIntake(intake('a', { auid: 'chris', message: 'waits for the engine' }));
    expect(made).toEqual({ runId: expect.any(Number) as number, run: 1, seq: 1 });
    const [run] = runs.runsOf('a');
    expect(run).toMatchObject({
      id: made.runId,
      jid: 'a',
      run_no: 1,
      spec: { image: 'busybox', args: ['true'] },
      fingerprint: 'sha256:a',
      auid: 'chris',
      status: 'notstarted',
      message: 'waits for the engine',
      started: null,
      finished: null,
    });
    expect(runs.eventsSince(0, 10)).toEqual([
      expect.objectContaining({ seq: 1, run_id: made.runId, jid: 'a', run_no: 1 }),
    ]);
  });

  it('numbers the runs of one jid 1, 2, 3 and keeps them all', () => {
    const { runs } = ledger();
    expect([1, 2, 3].map(() => runs.recordIntake(intake('same')).run)).toEqual([1, 2, 3]);
    expect(runs.recordIntake(intake('other')).run).toBe(1);
    expect(runs.runsOf('same').map((r) => r.run_no)).toEqual([1, 2, 3]);
    expect(runs.runsOf('nobody')).toEqual([]);
  });

  it('leaves nothing when it fails midway (after the job and run rows, at the event)', () => {
    const { db, runs } = ledger();
    runs.recordIntake(intake('before'));
    const before = footprint(db);
    db.exec(
      "CREATE TEMP TRIGGER fail BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected'); END",
    );
    expect(() => runs.recordIntake(intake('midway'))).toThrow(/injected/);
    expect(() => runs.recordIntake(intake('before'))).toThrow(/injected/);
    expect(footprint(db)).toEqual(before);
    expect(runs.runsOf('midway')).toEqual([]);
    db.exec('DROP TRIGGER temp.fail');
    // The counter was rolled back too: the next run of "before" is 2, the next seq 2.
    expect(runs.recordIntake(intake('before'))).toMatchObject({ run: 2, seq: 2 });
  });

  it('refuses a spec that is not JSON-serializable before writing anything', () => {
    const { db, runs } = ledger();
    const before = footprint(db);
    expect(() => runs.recordIntake(intake('bad', { spec: { n: 1n } }))).toThrow(TypeError);
    expect(() => runs.recordIntake(intake('none', { spec: undefined }))).toThrow(/no JSON form/);
    expect(footprint(db)).toEqual(before);
  });
});

describe('Runs.appendEvent', () => {
  it('gives a global, strictly increasing seq across interleaved runs', () => {
    const { runs } = ledger();
    const a = runs.recordIntake(intake('a'));
    const b = runs.recordIntake(intake('b'));
    const seqs = [
      a.seq,
      b.seq,
      runs.appendEvent(a.runId, 'started'),
      runs.appendEvent(b.runId, 'started'),
      runs.recordIntake(intake('c')).seq,
      runs.appendEvent(b.runId, 'finishedWithError', 'exit 3'),
      runs.appendEvent(a.runId, 'finishedSuccessfully'),
    ];
    seqs.slice(1).forEach((seq, i) => expect(seq).toBeGreaterThan(seqs[i] ?? Infinity));
    expect(runs.eventsSince(0, 100).map((e) => e.seq)).toEqual(seqs);
  });

  it('updates the run: status, message, started once, finished at the terminal event', () => {
    const { runs } = ledger();
    const { runId } = runs.recordIntake(intake('a'));
    runs.appendEvent(runId, 'started', 'running');
    const started = runs.runsOf('a')[0]?.started;
    expect(started).toEqual(expect.any(Number));
    runs.appendEvent(runId, 'undefined', 'engine did not say');
    runs.appendEvent(runId, 'finishedWithError', 'exit 3');
    const [run] = runs.runsOf('a');
    expect(run).toMatchObject({ status: 'finishedWithError', message: 'exit 3', started });
    expect(run?.finished).toBeGreaterThan(started ?? Infinity);
  });

  it('refuses any event after a terminal one and writes nothing', () => {
    const { db, runs } = ledger();
    const { runId } = runs.recordIntake(intake('a'));
    runs.appendEvent(runId, 'finishedSuccessfully');
    const before = footprint(db);
    for (const status of ['started', 'finishedWithError', 'finishedSuccessfully'] as const)
      expect(() => runs.appendEvent(runId, status)).toThrow(RunFinalError);
    expect(footprint(db)).toEqual(before);
    expect(runs.runsOf('a')[0]?.status).toBe('finishedSuccessfully');
  });

  it('keeps a terminal status final in the schema too (a writer that skips the check)', () => {
    const { db, runs } = ledger();
    const { runId } = runs.recordIntake(intake('a', { status: 'finishedWithError' }));
    expect(() =>
      db
        .prepare("INSERT INTO events (run_id, status, message, at) VALUES (?, 'started', '', 0)")
        .run(runId),
    ).toThrow(/run status is final/);
  });

  it('refuses an event for a run that does not exist', () => {
    const { runs } = ledger();
    expect(() => runs.appendEvent(42, 'started')).toThrow(/no run 42/);
  });
});

describe('Runs.eventsSince', () => {
  it('returns the events after a seq, in order, at most `limit`', () => {
    const { runs } = ledger();
    const { runId } = runs.recordIntake(intake('a'));
    runs.appendEvent(runId, 'started');
    runs.recordIntake(intake('b'));
    runs.appendEvent(runId, 'finishedSuccessfully');
    const all = runs.eventsSince(0, 100);
    expect(all.map((e) => [e.seq, e.jid, e.status])).toEqual([
      [1, 'a', 'notstarted'],
      [2, 'a', 'started'],
      [3, 'b', 'notstarted'],
      [4, 'a', 'finishedSuccessfully'],
    ]);
    expect(runs.eventsSince(1, 2).map((e) => e.seq)).toEqual([2, 3]);
    expect(runs.eventsSince(3, 2).map((e) => e.seq)).toEqual([4]);
    expect(runs.eventsSince(4, 10)).toEqual([]);
  });

  it('refuses a limit that SQLite would read as "no limit"', () => {
    const { runs } = ledger();
    for (const limit of [0, -1, 1.5]) expect(() => runs.eventsSince(0, limit)).toThrow(RangeError);
  });
});

describe('a full store', () => {
  it('answers StoreFullError and keeps nothing of the write that did not fit', () => {
    const { db, runs, dir } = ledger();
    const { runId } = runs.recordIntake(intake('fits'));
    const before = footprint(db);
    // The file may not grow: the next write that needs a page fails with SQLITE_FULL.
    const pages = db.pragma('page_count', { simple: true });
    db.pragma(`max_page_count = ${String(pages)}`);
    const big = { pad: 'x'.repeat(256 * 1024) };
    let caught: unknown;
    try {
      runs.recordIntake(intake('big', { spec: big }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreFullError);
    expect((caught as StoreFullError).message).toContain(dir);
    expect((caught as StoreFullError).retryAfterSeconds).toBeGreaterThan(0);
    expect(footprint(db)).toEqual(before);
    expect(runs.runsOf('big')).toEqual([]);
    // The store still works for what fits, and when space returns.
    expect(runs.appendEvent(runId, 'started')).toBe(2);
    db.pragma('max_page_count = 1073741823');
    expect(runs.recordIntake(intake('big', { spec: big }))).toMatchObject({ run: 1, seq: 3 });
  });
});
