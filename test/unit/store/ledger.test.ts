// Ledger: intake, events, finish with the archived log, removal, reads, the legacy import, and a
// file that is not a store.
import { writeFileSync, readFileSync, truncateSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/store/errors.js';
import { Ledger } from '../../../src/store/ledger.js';
import { clock, ledgerFixtures, spec, T0 } from './ledger-fixtures.js';

const { fresh, memory, onDisk } = ledgerFixtures();

const intake = (jid: string, extra: object = {}) => ({
  jid,
  spec: spec(jid),
  fingerprint: `sha256:${jid}`,
  ...extra,
});

describe('Ledger.intake', () => {
  it('records run 1, notstarted, engine pending, as the current run', async () => {
    const ledger = memory({ now: clock().now });
    const made = await ledger.intake(intake('a', { auid: 'chris', message: 'waits' }));
    expect(made).toEqual({ runId: expect.any(Number) as number, run: 1, seq: 1 });
    expect(ledger.current('a')).toEqual({
      id: made.runId,
      jid: 'a',
      run: 1,
      spec: spec('a'),
      fingerprint: 'sha256:a',
      auid: 'chris',
      created: T0,
      started: null,
      finished: null,
      status: 'notstarted',
      message: 'waits',
      exitCode: null,
      removed: null,
      engine: 'pending',
      stopReason: null,
    });
    expect(ledger.active().map((r) => r.id)).toEqual([made.runId]);
  });

  it('numbers the runs of a jid 1, 2, … and the new one becomes current', async () => {
    const ledger = memory();
    await ledger.intake(intake('a'));
    await ledger.intake(intake('b'));
    const second = await ledger.intake(intake('a'));
    expect(second.run).toBe(2);
    expect(ledger.current('a')?.id).toBe(second.runId);
    expect(ledger.runsOf('a').map((r) => r.run)).toEqual([1, 2]);
    expect(ledger.current('nobody')).toBeUndefined();
  });

  it('markCreated flips engine to created', async () => {
    const ledger = memory();
    const { runId } = await ledger.intake(intake('a'));
    await ledger.markCreated(runId);
    expect(ledger.current('a')?.engine).toBe('created');
  });
});

describe('Ledger.appendEvent', () => {
  it('writes a change, sets started, and skips a repeat', async () => {
    const time = clock();
    const ledger = memory({ now: time.now });
    const { runId, seq } = await ledger.intake(intake('a'));
    time.advance(1000);
    const next = await ledger.appendEvent(runId, 'started', 'running');
    expect(next).toBe(seq + 1);
    expect(await ledger.appendEvent(runId, 'started', 'running')).toBeUndefined();
    expect(ledger.current('a')).toMatchObject({
      status: 'started',
      message: 'running',
      started: T0 + 1000,
    });
  });

  it('writes nothing for a terminal run or an unknown one', async () => {
    const ledger = memory();
    const { runId } = await ledger.intake(intake('a'));
    await ledger.finish(runId, { status: 'finishedSuccessfully', message: 'done', logs: '' });
    expect(await ledger.appendEvent(runId, 'started', 'again')).toBeUndefined();
    expect(await ledger.appendEvent(9999, 'started', 'x')).toBeUndefined();
    expect(ledger.current('a')?.status).toBe('finishedSuccessfully');
  });
});

describe('Ledger.finish', () => {
  it('keeps status, exit code, the engine finish time and the whole log', async () => {
    const time = clock();
    const ledger = memory({ now: time.now });
    const { runId } = await ledger.intake(intake('a'));
    const logs = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('');
    const seq = await ledger.finish(runId, {
      status: 'finishedWithError',
      message: 'exit code 3',
      exitCode: 3,
      logs,
      at: T0 + 5,
    });
    expect(seq).toBe(2);
    expect(ledger.current('a')).toMatchObject({
      status: 'finishedWithError',
      message: 'exit code 3',
      exitCode: 3,
      finished: T0 + 5,
    });
    expect(ledger.log(runId)).toBe(logs);
    expect(ledger.active()).toEqual([]);
  });

  it('the first capture wins: a second finish writes nothing', async () => {
    const ledger = memory();
    const { runId } = await ledger.intake(intake('a'));
    await ledger.finish(runId, { status: 'finishedSuccessfully', message: 'ok', logs: 'one\n' });
    const again = await ledger.finish(runId, {
      status: 'finishedWithError',
      message: 'late',
      logs: 'two\n',
    });
    expect(again).toBeUndefined();
    expect(ledger.current('a')?.status).toBe('finishedSuccessfully');
    expect(ledger.log(runId)).toBe('one\n');
  });

  it('keeps the end of a log above logArchiveMaxBytes, cut at a line start', async () => {
    const ledger = memory({ logArchiveMaxBytes: 1000 });
    const { runId } = await ledger.intake(intake('a'));
    const logs = Array.from({ length: 500 }, (_, i) => `line ${String(i).padStart(4, '0')}\n`).join(
      '',
    );
    await ledger.finish(runId, { status: 'finishedSuccessfully', message: '', logs });
    const kept = ledger.log(runId);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(1000);
    expect(logs.endsWith(kept)).toBe(true);
    expect(kept.startsWith('line ')).toBe(true);
    expect(kept.endsWith('line 0499\n')).toBe(true);
  });

  it('archives 5 MB compressed with its sha256 (the captured bytes, exactly)', async () => {
    const dir = fresh();
    const ledger = onDisk(dir);
    const { runId } = await ledger.intake(intake('big'));
    const logs = Array.from({ length: 50_000 }, (_, i) => `${i} ${'x'.repeat(95)}\n`).join('');
    await ledger.finish(runId, { status: 'finishedWithError', message: '', exitCode: 3, logs });
    ledger.close();
    const reopened = onDisk(dir);
    const kept = reopened.log(runId);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(sha(kept)).toBe(sha(logs));
    // gzip keeps the store small: far less than the 5 MB of text
    expect(statSync(reopened.file).size).toBeLessThan(2_000_000);
  });
});

describe('Ledger.markRemoved', () => {
  it('keeps the run, marked removed, no longer active', async () => {
    const time = clock();
    const ledger = memory({ now: time.now });
    const { runId } = await ledger.intake(intake('a'));
    time.advance(7);
    await ledger.markRemoved(runId);
    expect(ledger.current('a')?.removed).toBe(T0 + 7);
    expect(ledger.active()).toEqual([]);
  });
});

describe('Ledger.importRecord', () => {
  const record = {
    info: {
      name: 'old',
      image: 'busybox',
      command: ['echo', 'hi'],
      status: 'finishedSuccessfully' as const,
      message: 'finished',
      timestamp: '2024-05-01T10:00:00.000Z',
    },
    logs: 'hi\n',
    at: '2024-05-01T10:00:01.000Z',
  };

  it('makes a finished, current run with its log; a second import is skipped', async () => {
    const ledger = memory();
    await ledger.importRecord(record);
    await ledger.importRecord(record);
    const runs = ledger.runsOf('old');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      run: 1,
      status: 'finishedSuccessfully',
      message: 'finished',
      engine: 'created',
      finished: Date.parse('2024-05-01T10:00:00.000Z'),
      spec: { name: 'old', image: 'busybox', command: ['echo', 'hi'] },
    });
    expect(ledger.current('old')?.id).toBe(runs[0]?.id);
    expect(ledger.log(runs[0]?.id ?? 0)).toBe('hi\n');
    const next = await ledger.intake(intake('old'));
    expect(next.run).toBe(2);
  });
});

describe('Ledger.open', () => {
  it('keeps everything across a reopen', async () => {
    const dir = fresh();
    const first = onDisk(dir);
    const { runId } = await first.intake(intake('a'));
    first.close();
    expect(onDisk(dir).current('a')?.id).toBe(runId);
  });

  it('refuses a truncated file with a StoreError naming it', async () => {
    const dir = fresh();
    const ledger = onDisk(dir);
    for (let i = 0; i < 50; i++) await ledger.intake(intake(`job-${i}`));
    ledger.close();
    const file = path.join(dir, 'pman.db');
    // fold the WAL into the file, then cut the file mid-page
    const size = statSync(file).size;
    truncateSync(file, Math.floor(size / 2) + 100);
    let thrown: unknown;
    try {
      Ledger.open(dir).close();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).message).toContain(file);
    expect((thrown as StoreError).file).toBe(file);
  });

  it('refuses a file that is not a database, leaving it untouched', () => {
    const dir = fresh();
    onDisk(dir).close();
    const file = path.join(dir, 'pman.db');
    writeFileSync(file, 'not a database at all, just some text that is long enough'.repeat(100));
    const before = readFileSync(file);
    expect(() => Ledger.open(dir)).toThrow(StoreError);
    expect(readFileSync(file)).toEqual(before);
  });
});
