// The queue and attempts tables (store v5): enqueue order, a run that ends or is removed leaves the
// queue in the same transaction, what counts as running, the retry transaction (attempt, event,
// queue row at once; nothing once the run ended), and both surviving a reopen of the file.
import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../../src/store/ledger.js';
import { ledgerFixtures, spec } from './ledger-fixtures.js';

const { fresh, memory, onDisk } = ledgerFixtures();

async function accepted(ledger: Ledger, jid: string, auid = 'cube', gpus = 0, queued = true) {
  const { runId } = await ledger.intake({
    jid,
    spec: spec(jid, { resources: { workers: 1, cpuMillicores: 1000, memoryMiB: 100, gpus } }),
    fingerprint: 'f',
    auid,
    ...(queued && { queued: { priority: 0, auid, gpus } }),
  });
  return runId;
}

describe('the queue table', () => {
  it('keeps enqueue order, with the run number and auid', async () => {
    const ledger = memory();
    await accepted(ledger, 'a', 'x');
    await accepted(ledger, 'b', 'y', 2);
    const entries = ledger.queue.entries();
    expect(entries.map((e) => [e.jid, e.run, e.auid, e.gpus])).toEqual([
      ['a', 1, 'x', 0],
      ['b', 1, 'y', 2],
    ]);
    expect(entries[0]!.seq).toBeLessThan(entries[1]!.seq);
  });

  it('a run that ends or is removed leaves the queue in the same transaction', async () => {
    const ledger = memory();
    const a = await accepted(ledger, 'a');
    const b = await accepted(ledger, 'b');
    await ledger.finish(a, { status: 'finishedWithError', message: 'cancelled', logs: '' });
    await ledger.markRemoved(b);
    expect(ledger.queue.entries()).toEqual([]);
    expect(ledger.queue.has(a)).toBe(false);
  });

  it('counts as running the admitted runs still going, not the queued ones', async () => {
    const ledger = memory();
    await accepted(ledger, 'q1', 'x');
    await accepted(ledger, 'r1', 'x', 1, false);
    await accepted(ledger, 'r2', 'y', 2, false);
    const done = await accepted(ledger, 'r3', 'y', 0, false);
    await ledger.finish(done, { status: 'finishedSuccessfully', message: '', logs: '' });
    const load = ledger.queue.load();
    expect(load.total).toBe(2);
    expect(load.gpus).toBe(3);
    expect([...load.byAuid]).toEqual([
      ['x', 1],
      ['y', 1],
    ]);
    const q1 = ledger.current('q1')!.id;
    expect(await ledger.queue.dequeue(q1)).toBe(true);
    expect(await ledger.queue.dequeue(q1)).toBe(false);
    expect(ledger.queue.load().total).toBe(3);
  });
});

describe('the attempts table', () => {
  const retry = {
    attempt: 1,
    status: 'finishedWithError' as const,
    message: 'exited with code 1',
    exitCode: 1,
    started: 1000,
    finished: 2000,
    logs: 'first try\n',
    waiting: {
      status: 'started' as const,
      message: 'attempt 2 of 3 (retrying in 5s after exit code 1)',
    },
    queue: { priority: 0, auid: 'cube', gpus: 0, notBefore: 99_000 },
  };

  it('records the attempt, the waiting event and the queue row at once; survives a reopen', async () => {
    const dir = fresh();
    const ledger = onDisk(dir);
    const runId = await accepted(ledger, 'r', 'cube', 0, false);
    await ledger.markCreated(runId);
    expect(await ledger.attempts.retry(runId, retry)).toBe(true);
    ledger.close();
    const again = onDisk(dir);
    const run = again.current('r')!;
    expect(run).toMatchObject({
      status: 'started',
      engine: 'pending',
      message: retry.waiting.message,
    });
    expect(again.attempts.of(runId)).toEqual([
      {
        attempt: 1,
        status: 'finishedWithError',
        message: 'exited with code 1',
        exitCode: 1,
        started: 1000,
        finished: 2000,
        retried: null,
        logSize: 10,
      },
    ]);
    expect(again.attempts.log(runId, 1)).toBe('first try\n');
    expect(again.queue.entries()[0]).toMatchObject({ jid: 'r', notBefore: 99_000 });
    const events = again.eventsSince(0, 10).map((e) => e.message);
    expect(events.at(-1)).toBe(retry.waiting.message);
    await again.attempts.markRetried(runId, 1);
    expect(again.attempts.of(runId)[0]?.retried).not.toBeNull();
  });

  it('writes nothing for a run that ended meanwhile', async () => {
    const ledger = memory();
    const runId = await accepted(ledger, 'r', 'cube', 0, false);
    await ledger.finish(runId, { status: 'finishedWithError', message: 'cancelled', logs: '' });
    expect(await ledger.attempts.retry(runId, retry)).toBe(false);
    expect(ledger.attempts.count(runId)).toBe(0);
    expect(ledger.queue.entries()).toEqual([]);
  });
});
