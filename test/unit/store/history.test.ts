// History pages: newest first, filters, the limit, and a cursor that stays stable while inserts
// go on; a cursor the server never handed out is a ValidationError naming the parameter.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { decodeCursor, encodeCursor } from '../../../src/store/history.js';
import type { Ledger } from '../../../src/store/ledger.js';
import { clock, ledgerFixtures, spec, T0 } from './ledger-fixtures.js';

const { memory } = ledgerFixtures();

async function add(ledger: Ledger, jid: string, auid = 'chris'): Promise<number> {
  return (await ledger.intake({ jid, spec: spec(jid), fingerprint: 'f', auid })).runId;
}

describe('Ledger.history', () => {
  it('pages newest first; the cursor is stable while new runs arrive', async () => {
    const time = clock();
    const ledger = memory({ now: time.now });
    for (let i = 0; i < 25; i++) {
      await add(ledger, `j${i}`);
      time.advance(i % 3 === 0 ? 0 : 1); // equal created times too: id breaks the tie
    }
    const first = ledger.history({ limit: 10 });
    expect(first.runs.map((r) => r.jid)).toEqual(
      Array.from({ length: 10 }, (_, i) => `j${24 - i}`),
    );
    for (let i = 0; i < 5; i++) {
      time.advance(1);
      await add(ledger, `new${i}`);
    }
    const seen = [...first.runs.map((r) => r.jid)];
    let next = first.next;
    while (next !== undefined) {
      const page = ledger.history({ limit: 10, cursor: next });
      seen.push(...page.runs.map((r) => r.jid));
      next = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `j${24 - i}`));
  });

  it('the last page has no next', async () => {
    const ledger = memory();
    await add(ledger, 'a');
    await add(ledger, 'b');
    expect(ledger.history({ limit: 2 }).next).toBeUndefined();
    expect(ledger.history({ limit: 1 }).next).toBeDefined();
  });

  it('filters by jid, status, auid, since and until', async () => {
    const time = clock();
    const ledger = memory({ now: time.now });
    const a1 = await add(ledger, 'a', 'alice');
    time.advance(1000);
    const b1 = await add(ledger, 'b', 'bob');
    time.advance(1000);
    const a2 = await add(ledger, 'a', 'bob');
    await ledger.finish(a1, { status: 'finishedSuccessfully', message: '', logs: '' });
    const ids = (q: Parameters<Ledger['history']>[0]) => ledger.history(q).runs.map((r) => r.id);
    expect(ids({ limit: 10, jid: 'a' })).toEqual([a2, a1]);
    expect(ids({ limit: 10, status: 'finishedSuccessfully' })).toEqual([a1]);
    expect(ids({ limit: 10, auid: 'bob' })).toEqual([a2, b1]);
    expect(ids({ limit: 10, since: T0 + 1000 })).toEqual([a2, b1]);
    expect(ids({ limit: 10, until: T0 + 1000 })).toEqual([a1]);
    expect(ids({ limit: 10, jid: 'a', auid: 'bob', since: T0, until: T0 + 5000 })).toEqual([a2]);
  });

  it('refuses a limit outside 1..1000', () => {
    const ledger = memory();
    expect(() => ledger.history({ limit: 0 })).toThrow(RangeError);
    expect(() => ledger.history({ limit: 1001 })).toThrow(RangeError);
  });

  it('refuses a cursor it did not hand out', () => {
    const ledger = memory();
    for (const cursor of ['', 'garbage', Buffer.from('r1.x.1').toString('base64url')]) {
      expect(() => ledger.history({ limit: 1, cursor })).toThrow(ValidationError);
    }
    expect(decodeCursor(encodeCursor({ created: T0, id: 7 }))).toEqual({ created: T0, id: 7 });
  });
});
