// EventFeed: one client's status feed over the ledger — replay in pages then live with no gap and
// no duplicate even when events commit mid-replay, reset when retention deleted what `since`
// needs, the bound that drops a client that does not read, and close.
import { describe, expect, it } from 'vitest';
import { EventFeed, FeedOverflowError, REPLAY_PAGE } from '../../src/service/event-feed.js';
import type { FeedItem } from '../../src/service/event-feed.js';
import { clock, ledgerFixtures, spec } from './store/ledger-fixtures.js';

const { memory } = ledgerFixtures();
const intake = (jid: string) => ({ jid, spec: spec(jid), fingerprint: 'f' });
const seqs = (items: FeedItem[]) => items.map((i) => (i.kind === 'status' ? i.event.seq : -1));

describe('EventFeed', () => {
  it('replays in pages, then live, each seq once, also what commits during the replay', async () => {
    const ledger = memory();
    const n = REPLAY_PAGE + 10;
    await Promise.all(Array.from({ length: n }, (_, i) => ledger.intake(intake(`j${i}`))));
    const feed = new EventFeed(ledger, { since: 0, maxBuffered: 5 });
    const seen: number[] = [];
    seen.push(...seqs(await feed.next()));
    // Committed mid-replay: the replay reads it from the store, the live buffer skips it.
    await ledger.intake(intake('late'));
    for (;;) {
      seen.push(...seqs(await feed.next()));
      if (seen.length === n + 1) break;
    }
    const live = ledger.intake(intake('live'));
    await live;
    seen.push(...seqs(await feed.next()));
    expect(seen).toEqual(Array.from({ length: n + 2 }, (_, i) => i + 1));
    feed.close();
    expect(await feed.next()).toEqual([]);
    expect(ledger.hub.subscribers).toBe(0);
  });

  it('starts with reset when retention deleted events after since', async () => {
    const time = clock();
    const ledger = memory({ now: time.now, retentionDays: 1 });
    const a = await ledger.intake(intake('a'));
    await ledger.finish(a.runId, { status: 'finishedSuccessfully', message: '', logs: '' });
    time.advance(2 * 24 * 3600 * 1000);
    await ledger.intake(intake('b'));
    expect(ledger.prune()).toBe(1);
    const feed = new EventFeed(ledger, { since: 1, maxBuffered: 5 });
    expect(await feed.next()).toEqual([{ kind: 'reset', oldest: 3, last: 3 }]);
    expect(seqs(await feed.next())).toEqual([3]);
    // Since the last event before the oldest retained: nothing is missing, no reset.
    const fine = new EventFeed(ledger, { since: 2, maxBuffered: 5 });
    expect(seqs(await fine.next())).toEqual([3]);
    feed.close();
    fine.close();
  });

  it('drops a client more than maxBuffered live events behind', async () => {
    const ledger = memory();
    let overflowed = 0;
    const feed = new EventFeed(ledger, { maxBuffered: 3, onOverflow: () => overflowed++ });
    await Promise.all(['a', 'b', 'c', 'd'].map((jid) => ledger.intake(intake(jid))));
    expect(overflowed).toBe(1);
    await expect(feed.next()).rejects.toBeInstanceOf(FeedOverflowError);
    expect(ledger.hub.subscribers).toBe(0);
  });
});
