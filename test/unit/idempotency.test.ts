// The idempotency store (v6) and the naming of differing request fields (issue 13).
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/store/ledger.js';
import { canonicalRequest, differingFields } from '../../src/service/request-diff.js';
import { ConflictError } from '../../src/domain/errors.js';
import type { ExistingJobs } from '../../src/service/existing-job.js';
import type { SubmitAnswer } from '../../src/service/existing-job.js';
import { IdempotentSubmit } from '../../src/service/idempotency.js';
import type { JobRequest } from '../../src/domain/spec.js';
import { sampleRequest } from '../fixtures.js';

const start = (key: string, created = 1000) => ({
  key,
  jid: 'j',
  fingerprint: 'f',
  request: '{"jid":"j"}',
  created,
  expires: created + 60_000,
});

describe('IdempotencyStore', () => {
  it('keeps a key in flight, then its answer; expired keys read as absent and are pruned', async () => {
    const ledger = Ledger.inMemory();
    const store = ledger.idempotency;
    await store.begin(start('a'));
    expect(store.get('a', 2000)).toMatchObject({ status: null, answer: null, jid: 'j' });
    await store.complete('a', 201, '{"status":201}');
    expect(store.get('a', 2000)).toMatchObject({ status: 201, answer: '{"status":201}' });
    // A completed answer is final: a second complete does not replace it.
    await store.complete('a', 200, '{"status":200}');
    expect(store.get('a', 2000)?.status).toBe(201);
    expect(store.get('a', 61_000)).toBeUndefined();
    expect(store.prune(61_000)).toBe(1);
    expect(store.prune(61_000)).toBe(0);
  });

  it('drop frees only a key still in flight', async () => {
    const ledger = Ledger.inMemory();
    const store = ledger.idempotency;
    await store.begin(start('b'));
    await store.drop('b');
    expect(store.get('b', 2000)).toBeUndefined();
    await store.begin(start('c'));
    await store.complete('c', 201, '{}');
    await store.drop('c');
    expect(store.get('c', 2000)?.status).toBe(201);
  });

  it('an expired key can be begun again', async () => {
    const ledger = Ledger.inMemory();
    await ledger.idempotency.begin(start('d', 0));
    await ledger.idempotency.complete('d', 201, '{}');
    await ledger.idempotency.begin(start('d', 100_000));
    expect(ledger.idempotency.get('d', 100_001)).toMatchObject({ status: null, created: 100_000 });
  });

  it('the hourly prune of the ledger drops expired keys', async () => {
    let now = 1000;
    const ledger = Ledger.inMemory({ now: () => now });
    await ledger.idempotency.begin(start('e'));
    now = 70_000;
    ledger.prune();
    expect(ledger.idempotency.get('e', 0)).toBeUndefined();
  });
});

describe('differingFields', () => {
  const base = sampleRequest({ jid: 'x' });
  const canon = (over: Partial<JobRequest>) => canonicalRequest({ ...base, ...over });

  it('names the wire fields in the wire order', () => {
    expect(
      differingFields(
        canon({}),
        canon({ outputDir: 'o', cpuLimit: 2000, argsPathFlags: ['--a'], labels: { a: 'b' } }),
      ),
    ).toEqual(['args_path_flags', 'cpu_limit', 'output_dir', 'labels']);
  });

  it('is empty for the same request, whatever the key order, and for priority 0 against none', () => {
    expect(differingFields(canon({}), canon({ priority: 0 }))).toEqual([]);
    expect(differingFields(canon({ env: [['A', '1']] }), canon({ env: [['A', '1']] }))).toEqual([]);
  });

  it('sees a change inside a nested field', () => {
    expect(
      differingFields(
        canon({ retries: { limit: 1, backoffSeconds: 10 } }),
        canon({ retries: { limit: 2, backoffSeconds: 10 } }),
      ),
    ).toEqual(['retries']);
  });
});

describe('IdempotentSubmit', () => {
  /** A fake ExistingJobs whose creates wait for `release`, counting calls. */
  function fakeExisting(ledger: Ledger) {
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const existing = {
      submit: async (req: JobRequest): Promise<SubmitAnswer> => {
        calls++;
        await gate;
        return {
          status: 201,
          info: {
            name: req.jid,
            image: req.image,
            command: [],
            status: 'notstarted',
            message: '',
            timestamp: 't',
          },
          logs: '',
        };
      },
      live: () => undefined,
      differences: () => [],
      existing: () => Promise.reject(new Error('unused')),
    } as unknown as ExistingJobs;
    return { existing, calls: () => calls, release: () => release(), ledger };
  }

  it('a second request with the key waits for the first in flight and gets its answer', async () => {
    const ledger = Ledger.inMemory();
    const fake = fakeExisting(ledger);
    const keyed = new IdempotentSubmit({ ledger, existing: fake.existing, ttlSeconds: 60 });
    const req = sampleRequest({ jid: 'w' });
    const first = keyed.submit('k', req);
    const second = keyed.submit('k', req);
    const other = keyed.submit('k', { ...req, image: 'other:1' }).catch((e: unknown) => e);
    fake.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toEqual(b);
    expect(fake.calls()).toBe(1);
    const refused = await other;
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as Error).message).toContain('differing fields: image');
  });
});
