// The webhook outbox (issue 12, store v3): each event queues one delivery per target in its own
// transaction, the due ones come out per-job ordered (a jid's next waits for the previous one),
// and acknowledgements, retries and drops are counted per target.
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/store/ledger.js';
import { spec } from '../store/ledger-fixtures.js';

const HOOK = 'http://127.0.0.1:9/hook';
const CALLBACK = 'http://127.0.0.1:9/job';

function ledger(now = () => 1000): Ledger {
  const l = Ledger.inMemory({ now });
  l.setWebhookTargets([HOOK]);
  return l;
}

describe('the outbox', () => {
  it('queues one delivery per target for each event, with its fields', async () => {
    const l = ledger();
    const a = await l.intake({
      jid: 'a',
      spec: spec('a', { callbackUrl: CALLBACK }),
      fingerprint: 'f',
    });
    await l.intake({ jid: 'b', spec: spec('b'), fingerprint: 'f' });
    const due = l.outbox.due(1000, 10, new Set());
    expect(due.map((d) => [d.target, d.jid, d.seq])).toEqual([
      [HOOK, 'a', a.seq],
      [CALLBACK, 'a', a.seq],
      [HOOK, 'b', a.seq + 1],
    ]);
    expect(due[0]).toMatchObject({ run: 1, status: 'notstarted', message: '', attempts: 0 });
    l.close();
  });

  it('hands out only the oldest of each target and jid; the next waits for its acknowledgement', async () => {
    const l = ledger();
    const { runId } = await l.intake({ jid: 'a', spec: spec('a'), fingerprint: 'f' });
    await l.appendEvent(runId, 'started', '');
    await l.finish(runId, { status: 'finishedSuccessfully', message: '', logs: '' });
    const [first, ...rest] = l.outbox.due(1000, 10, new Set());
    expect(rest).toEqual([]);
    if (first === undefined) throw new Error('nothing due');
    expect(first.status).toBe('notstarted');
    // In flight: its successor is not handed out meanwhile.
    expect(l.outbox.due(1000, 10, new Set([first.id]))).toEqual([]);
    await l.outbox.acknowledge(first);
    expect(l.outbox.due(1000, 10, new Set()).map((d) => d.status)).toEqual(['started']);
    l.close();
  });

  it('reschedules a failure (the successor still waits) and counts drops and acknowledgements', async () => {
    const l = ledger();
    const { runId } = await l.intake({ jid: 'a', spec: spec('a'), fingerprint: 'f' });
    await l.appendEvent(runId, 'started', '');
    const [first] = l.outbox.due(1000, 10, new Set());
    if (first === undefined) throw new Error('nothing due');
    await l.outbox.retry(first, 'HTTP 500', 1000, 3000);
    expect(l.outbox.due(2999, 10, new Set())).toEqual([]);
    expect(l.outbox.nextDue(new Set())).toBe(3000);
    const [again] = l.outbox.due(3000, 10, new Set());
    expect(again).toMatchObject({ id: first.id, attempts: 1 });
    if (again === undefined) throw new Error('nothing due');
    await l.outbox.drop(again, 'gone', 4000);
    const [next] = l.outbox.due(4000, 10, new Set());
    expect(next?.status).toBe('started');
    if (next === undefined) throw new Error('nothing due');
    await l.outbox.acknowledge(next);
    expect(l.outbox.status()).toEqual([
      { target: HOOK, pending: 0, delivered: 1, failed: 1, lastError: 'gone', lastErrorAt: 4000 },
    ]);
    l.close();
  });

  it('queues nothing without a target, nor for imported legacy records', async () => {
    const l = Ledger.inMemory();
    await l.intake({ jid: 'a', spec: spec('a'), fingerprint: 'f' });
    expect(l.outbox.due(Number.MAX_SAFE_INTEGER, 10, new Set())).toEqual([]);
    l.setWebhookTargets([HOOK]);
    await l.importRecord({
      info: {
        name: 'old',
        image: 'i',
        command: ['c'],
        status: 'finishedSuccessfully',
        message: 'done',
        timestamp: '2024-01-01T00:00:00Z',
      },
      logs: '',
      at: '2024-01-01T00:00:00Z',
    });
    expect(l.outbox.status()).toEqual([]);
    l.close();
  });
});
