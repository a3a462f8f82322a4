// Retention: ended runs older than the days go; then the oldest (removed first) while the bytes
// exceed the bound; active runs stay; a pruned current run leaves the jid's run numbers going on.
import { describe, expect, it } from 'vitest';
import { PRUNE_BATCH } from '../../../src/store/retention.js';
import type { Ledger } from '../../../src/store/ledger.js';
import { clock, ledgerFixtures, spec } from './ledger-fixtures.js';

const { memory } = ledgerFixtures();
const DAY = 24 * 60 * 60 * 1000;

async function finished(ledger: Ledger, jid: string, logs = ''): Promise<number> {
  const { runId } = await ledger.intake({ jid, spec: spec(jid), fingerprint: 'f' });
  await ledger.finish(runId, { status: 'finishedSuccessfully', message: '', logs });
  return runId;
}

describe('Ledger.prune', () => {
  it('deletes ended runs older than retentionDays, keeps the rest and the active ones', async () => {
    const time = clock();
    const ledger = memory({ now: time.now, retentionDays: 30 });
    await finished(ledger, 'old');
    const removed = (await ledger.intake({ jid: 'gone', spec: spec('gone'), fingerprint: 'f' }))
      .runId;
    await ledger.markRemoved(removed);
    const running = (await ledger.intake({ jid: 'run', spec: spec('run'), fingerprint: 'f' }))
      .runId;
    time.advance(20 * DAY);
    await finished(ledger, 'recent');
    time.advance(11 * DAY);
    expect(ledger.prune()).toBe(2);
    expect(ledger.runsOf('old')).toEqual([]);
    expect(ledger.runsOf('gone')).toEqual([]);
    expect(ledger.runsOf('recent')).toHaveLength(1);
    expect(ledger.active().map((r) => r.id)).toEqual([running]);
    // the jid keeps its numbering: the next run of "old" is run 2
    expect(ledger.current('old')).toBeUndefined();
    const next = await ledger.intake({ jid: 'old', spec: spec('old'), fingerprint: 'f' });
    expect(next.run).toBe(2);
  });

  it('prunes more than one batch', async () => {
    const time = clock();
    const ledger = memory({ now: time.now, retentionDays: 1 });
    const n = PRUNE_BATCH * 2 + 3;
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const { runId } = await ledger.intake({
          jid: `j${i}`,
          spec: spec(`j${i}`),
          fingerprint: 'f',
        });
        await ledger.finish(runId, { status: 'finishedWithError', message: '', logs: '' });
      }),
    );
    time.advance(2 * DAY);
    expect(ledger.prune()).toBe(n);
    expect(ledger.history({ limit: 10 }).runs).toEqual([]);
  });

  it('bounds by bytes: removed runs go first, then the oldest finished', async () => {
    const time = clock();
    const big = 'x'.repeat(10_000);
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    // random-ish text so gzip cannot shrink it to nothing
    const noisy = () => Array.from({ length: 2000 }, () => random().toString(36)).join('\n');
    const ledger = memory({ now: time.now, historyMaxBytes: 45_000 });
    const a = await finished(ledger, 'a', noisy());
    time.advance(1);
    const b = await finished(ledger, 'b', noisy());
    time.advance(1);
    const c = await finished(ledger, 'c', noisy());
    time.advance(1);
    await ledger.markRemoved(c);
    const d = await finished(ledger, 'd', noisy());
    const running = (await ledger.intake({ jid: 'r', spec: spec('r'), fingerprint: big })).runId;
    const deleted = ledger.prune();
    expect(deleted).toBeGreaterThanOrEqual(2);
    const left = new Set(ledger.history({ limit: 100 }).runs.map((r) => r.id));
    // the deletion order: c (removed, though the newest finished), then a, b, d by age;
    // the active run stays whatever it costs
    expect([c, a, b, d].filter((id) => !left.has(id))).toEqual([c, a, b, d].slice(0, deleted));
    expect(left.has(running)).toBe(true);
    expect(ledger.prune()).toBe(0);
  });
});
