// The live event hub: committed events reach subscribers in seq order after the group commit, and
// the replay reads (eventsSince with filters, eventBounds) see the same events.
import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../../src/store/ledger.js';
import { ledgerFixtures, spec } from './ledger-fixtures.js';

const { memory } = ledgerFixtures();

const intake = (jid: string) => ({ jid, spec: spec(jid), fingerprint: `sha256:${jid}` });

describe('Ledger.hub', () => {
  it('publishes what a commit wrote, in seq order, after it committed', async () => {
    const ledger = memory();
    const seen: StoreEvent[] = [];
    ledger.hub.subscribe((event) => seen.push(event));
    const a = ledger.intake(intake('a'));
    const b = ledger.intake(intake('b'));
    expect(seen).toEqual([]);
    const [ra, rb] = await Promise.all([a, b]);
    expect(seen.map((e) => [e.seq, e.jid, e.run, e.status])).toEqual([
      [1, 'a', 1, 'notstarted'],
      [2, 'b', 1, 'notstarted'],
    ]);
    await Promise.all([
      ledger.appendEvent(ra.runId, 'started', 'running'),
      ledger.finish(rb.runId, { status: 'finishedWithError', message: 'exit 3', logs: 'x\n' }),
      // Changes nothing: no event, nothing published.
      ledger.appendEvent(ra.runId, 'started', 'running'),
    ]);
    expect(seen.map((e) => [e.seq, e.jid, e.status, e.message])).toEqual([
      [1, 'a', 'notstarted', ''],
      [2, 'b', 'notstarted', ''],
      [3, 'a', 'started', 'running'],
      [4, 'b', 'finishedWithError', 'exit 3'],
    ]);
    expect(ledger.hub.lastPublished).toBe(4);
  });

  it('stops calling a listener that unsubscribed, and counts seqs while nobody listens', async () => {
    const ledger = memory();
    await ledger.intake(intake('a'));
    expect(ledger.hub.lastPublished).toBe(1);
    const seen: number[] = [];
    const stop = ledger.hub.subscribe((event) => seen.push(event.seq));
    await ledger.intake(intake('b'));
    stop();
    await ledger.intake(intake('c'));
    expect(seen).toEqual([2]);
    expect(ledger.hub.lastPublished).toBe(3);
  });
});

describe('Ledger.eventsSince / eventBounds', () => {
  it('replays after a seq, filtered by jid, status or run, bounded by limit', async () => {
    const ledger = memory();
    const a = await ledger.intake(intake('a'));
    const b = await ledger.intake(intake('b'));
    await ledger.appendEvent(a.runId, 'started', '');
    await ledger.appendEvent(b.runId, 'started', '');
    await ledger.finish(a.runId, { status: 'finishedSuccessfully', message: '', logs: '' });
    const seqs = (events: StoreEvent[]) => events.map((e) => e.seq);
    expect(seqs(ledger.eventsSince(0, 100))).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(ledger.eventsSince(2, 2))).toEqual([3, 4]);
    expect(seqs(ledger.eventsSince(0, 100, { jids: ['b'] }))).toEqual([2, 4]);
    expect(seqs(ledger.eventsSince(0, 100, { statuses: ['started'] }))).toEqual([3, 4]);
    expect(seqs(ledger.eventsSince(0, 100, { jids: ['a', 'b'], statuses: ['started'] }))).toEqual([
      3, 4,
    ]);
    expect(seqs(ledger.eventsSince(0, 100, { runId: a.runId }))).toEqual([1, 3, 5]);
    expect(() => ledger.eventsSince(0, 0)).toThrow(RangeError);
    expect(ledger.eventBounds()).toEqual({ oldest: 1, last: 5 });
  });

  it('an empty store has no oldest seq and last 0', () => {
    expect(memory().eventBounds()).toEqual({ oldest: undefined, last: 0 });
  });
});
