// The fair queue's pure rules (src/domain/queue-order.ts), as properties over random queues: no cap
// is ever exceeded, priority first, FIFO within an auid, round-robin across auids, and no run that
// fits is left waiting behind one that does not (no head-of-line blocking).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admissible, canEverFit, hasCaps, startOrder } from '../../src/domain/queue-order.js';
import type { QueueCaps, QueueEntry, RunningLoad } from '../../src/domain/queue-order.js';

const AUIDS = ['alice', 'bob', 'carol'];

const entriesArb = fc
  .array(
    fc.record({
      priority: fc.integer({ min: -2, max: 2 }),
      auid: fc.constantFrom(...AUIDS),
      gpus: fc.integer({ min: 0, max: 3 }),
    }),
    { maxLength: 40 },
  )
  .map((rows) => rows.map((row, i): QueueEntry => ({ ...row, runId: 100 + i, seq: i + 1 })));

/** When each auid was last served (the scheduler's memory): any, or never. */
const servedArb = fc
  .subarray(AUIDS)
  .chain((auids) => fc.tuple(...auids.map((auid) => fc.tuple(fc.constant(auid), fc.nat(50)))))
  .map((pairs) => new Map<string, number>(pairs));

const capsArb: fc.Arbitrary<QueueCaps> = fc.record(
  {
    maxRunning: fc.integer({ min: 1, max: 12 }),
    maxRunningPerAuid: fc.integer({ min: 1, max: 6 }),
    maxGpus: fc.integer({ min: 0, max: 8 }),
  },
  { requiredKeys: [] },
);

const loadArb: fc.Arbitrary<RunningLoad> = fc
  .record({ alice: fc.nat(3), bob: fc.nat(3), carol: fc.nat(3), gpus: fc.nat(4) })
  .map(({ gpus, ...byAuid }) => ({
    total: byAuid.alice + byAuid.bob + byAuid.carol,
    byAuid: new Map(Object.entries(byAuid)),
    gpus,
  }));

function fits(e: QueueEntry, load: RunningLoad, caps: QueueCaps): boolean {
  return (
    (caps.maxRunning === undefined || load.total < caps.maxRunning) &&
    (caps.maxRunningPerAuid === undefined ||
      (load.byAuid.get(e.auid) ?? 0) < caps.maxRunningPerAuid) &&
    (caps.maxGpus === undefined || load.gpus + e.gpus <= caps.maxGpus)
  );
}

function after(load: RunningLoad, admitted: readonly QueueEntry[]): RunningLoad {
  const byAuid = new Map(load.byAuid);
  for (const e of admitted) byAuid.set(e.auid, (byAuid.get(e.auid) ?? 0) + 1);
  return {
    total: load.total + admitted.length,
    byAuid,
    gpus: load.gpus + admitted.reduce((sum, e) => sum + e.gpus, 0),
  };
}

describe('startOrder', () => {
  it('is a permutation: every queued run once', () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        const ids = startOrder(entries).map((e) => e.runId);
        expect([...ids].sort()).toEqual(entries.map((e) => e.runId).sort());
      }),
    );
  });

  it('puts a higher priority first', () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        const order = startOrder(entries);
        for (let i = 1; i < order.length; i++)
          expect(order[i - 1]!.priority).toBeGreaterThanOrEqual(order[i]!.priority);
      }),
    );
  });

  it('keeps FIFO within one auid and priority', () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        const order = startOrder(entries);
        for (const auid of AUIDS)
          for (const p of [-2, -1, 0, 1, 2]) {
            const seqs = order.filter((e) => e.auid === auid && e.priority === p).map((e) => e.seq);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          }
      }),
    );
  });

  it('round-robins across auids: within a priority, no auid gets a k+1-th turn before another waiting auid its k-th', () => {
    fc.assert(
      fc.property(entriesArb, servedArb, (entries, served) => {
        const order = startOrder(entries, served);
        for (const p of [-2, -1, 0, 1, 2]) {
          const level = order.filter((e) => e.priority === p);
          const turns = new Map<string, number>();
          const rounds = level.map((e) => {
            const k = turns.get(e.auid) ?? 0;
            turns.set(e.auid, k + 1);
            return k;
          });
          // Rounds never go down along the order.
          expect(rounds).toEqual([...rounds].sort((a, b) => a - b));
        }
      }),
    );
  });

  it('serves the auid served least recently first', () => {
    const a: QueueEntry = { runId: 1, priority: 0, auid: 'a', gpus: 0, seq: 1 };
    const b: QueueEntry = { runId: 2, priority: 0, auid: 'b', gpus: 0, seq: 2 };
    expect(startOrder([a, b], new Map([['a', 5]])).map((e) => e.auid)).toEqual(['b', 'a']);
    expect(
      startOrder(
        [a, b],
        new Map([
          ['a', 5],
          ['b', 9],
        ]),
      ).map((e) => e.auid),
    ).toEqual(['a', 'b']);
  });

  it("one auid's 500 runs do not starve another's one: it starts second", () => {
    const flood: QueueEntry[] = Array.from({ length: 500 }, (_, i) => ({
      runId: i,
      priority: 0,
      auid: 'flood',
      gpus: 0,
      seq: i,
    }));
    const one: QueueEntry = { runId: 999, priority: 0, auid: 'one', gpus: 0, seq: 1000 };
    const order = startOrder([...flood, one]);
    expect(order.findIndex((e) => e.runId === 999)).toBe(1);
  });
});

describe('admissible', () => {
  it('never exceeds a cap', () => {
    fc.assert(
      fc.property(entriesArb, loadArb, capsArb, (entries, load, caps) => {
        const admitted = admissible(startOrder(entries), load, caps, 0);
        const fresh: RunningLoad = { total: 0, byAuid: new Map(), gpus: 0 };
        const added = after(fresh, admitted);
        const total = load.total + added.total;
        if (caps.maxRunning !== undefined && admitted.length > 0)
          expect(total).toBeLessThanOrEqual(caps.maxRunning);
        if (caps.maxRunning !== undefined && load.total >= caps.maxRunning)
          expect(admitted).toEqual([]);
        if (caps.maxGpus !== undefined && added.gpus > 0)
          expect(load.gpus + added.gpus).toBeLessThanOrEqual(caps.maxGpus);
        if (caps.maxRunningPerAuid !== undefined)
          for (const [auid, n] of added.byAuid)
            expect((load.byAuid.get(auid) ?? 0) + n).toBeLessThanOrEqual(caps.maxRunningPerAuid);
      }),
    );
  });

  it('admits in start order, and leaves waiting no run that would still fit (no head-of-line blocking)', () => {
    fc.assert(
      fc.property(entriesArb, loadArb, capsArb, (entries, load, caps) => {
        const order = startOrder(entries);
        const admitted = admissible(order, load, caps, 0);
        const positions = admitted.map((e) => order.indexOf(e));
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        const final = after(load, admitted);
        for (const e of order) if (!admitted.includes(e)) expect(fits(e, final, caps)).toBe(false);
      }),
    );
  });

  it('with no cap admits everything due', () => {
    fc.assert(
      fc.property(entriesArb, loadArb, (entries, load) => {
        expect(admissible(startOrder(entries), load, {}, 0)).toHaveLength(entries.length);
      }),
    );
  });

  it('a GPU job that does not fit does not hold back the CPU jobs behind it', () => {
    const order: QueueEntry[] = [
      { runId: 1, priority: 0, auid: 'a', gpus: 2, seq: 1 },
      { runId: 2, priority: 0, auid: 'b', gpus: 0, seq: 2 },
    ];
    const load: RunningLoad = { total: 1, byAuid: new Map([['c', 1]]), gpus: 1 };
    expect(admissible(order, load, { maxGpus: 2, maxRunning: 4 }, 0).map((e) => e.runId)).toEqual([
      2,
    ]);
  });

  it('holds a retry until its backoff has run out', () => {
    const retry: QueueEntry = { runId: 1, priority: 0, auid: 'a', gpus: 0, seq: 1, notBefore: 50 };
    const load: RunningLoad = { total: 0, byAuid: new Map(), gpus: 0 };
    expect(admissible([retry], load, {}, 49)).toEqual([]);
    expect(admissible([retry], load, {}, 50)).toEqual([retry]);
  });
});

describe('caps', () => {
  it('hasCaps: any one set; canEverFit: GPUs within MAX_GPUS', () => {
    expect(hasCaps({})).toBe(false);
    expect(hasCaps({ maxGpus: 0 })).toBe(true);
    expect(canEverFit(3, { maxGpus: 2 })).toBe(false);
    expect(canEverFit(2, { maxGpus: 2 })).toBe(true);
    expect(canEverFit(99, {})).toBe(true);
  });
});
