// Issue 13 on the create route and the list (memory backend): Idempotency-Key replays and 409s,
// EXISTING_JOB's three modes, 20 concurrent POSTs, labels, Pman-Ignored-Fields, GET /api/v1/jobs/
// filters and pages, unknown query parameters.
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { postJson, sampleBody, testApp } from '../fixtures.js';
import type { TestApp } from '../fixtures.js';

type Json = Record<string, unknown>;

function post(
  app: TestApp['app'],
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    app.request('/api/v1/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

function withSubmit(submit: NonNullable<Config['submit']>) {
  return testApp({ config: { submit } });
}

describe('Idempotency-Key', () => {
  it('replays the first answer (status and body) without a second job', async () => {
    const { app, backend, ledger } = await testApp();
    const first = await post(app, sampleBody({ jid: 'k1' }), { 'Idempotency-Key': 'abc' });
    expect(first.status).toBe(201);
    const firstText = await first.text();
    backend.start('k1');
    const again = await post(app, sampleBody({ jid: 'k1' }), { 'Idempotency-Key': 'abc' });
    expect(again.status).toBe(201);
    expect(await again.text()).toBe(firstText);
    expect(ledger.runsOf('k1')).toHaveLength(1);
  });

  it('the same key with another body is a 409 naming the differing fields', async () => {
    const { app } = await testApp();
    await post(app, sampleBody({ jid: 'k2' }), { 'Idempotency-Key': 'key-2' });
    const res = await post(
      app,
      sampleBody({ jid: 'k2', image: 'other/image:1', args: ['--x'], priority: 3 }),
      { 'Idempotency-Key': 'key-2' },
    );
    expect(res.status).toBe(409);
    expect((await json(res)).message).toBe(
      'Idempotency-Key "key-2" was first used with a different request body; differing fields: args, image, priority',
    );
  });

  it('key order and an explicit default do not count as a difference', async () => {
    const { app } = await testApp();
    const body = sampleBody({ jid: 'k3' });
    await post(app, body, { 'Idempotency-Key': 'key-3' });
    const reordered = Object.fromEntries(Object.entries({ ...body, priority: 0 }).reverse());
    const res = await post(app, reordered, { 'Idempotency-Key': 'key-3' });
    expect(res.status).toBe(201);
  });

  it('20 concurrent POSTs with one key: one job, 20 identical answers', async () => {
    const { app, ledger } = await testApp();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(app, sampleBody({ jid: 'k4' }), { 'Idempotency-Key': 'same' }).then(async (r) => ({
          status: r.status,
          text: await r.text(),
        })),
      ),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([201]));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(ledger.runsOf('k4')).toHaveLength(1);
  });

  it('a failed first request is not replayed: the retry tries again', async () => {
    const { app, ledger } = await testApp({ config: { imageAllowlist: ['allowed/*'] } });
    const refused = await post(app, sampleBody({ jid: 'k5' }), { 'Idempotency-Key': 'k5' });
    expect(refused.status).toBe(403);
    expect(ledger.idempotency.get('k5', Date.now())).toBeUndefined();
  });

  it('a key is kept IDEMPOTENCY_TTL_SECONDS, then pruned', async () => {
    const { app, ledger } = await withSubmit({
      existingJob: 'conflict',
      idempotencyTtlSeconds: 60,
    });
    await post(app, sampleBody({ jid: 'k6' }), { 'Idempotency-Key': 'ttl' });
    const record = ledger.idempotency.get('ttl', Date.now());
    expect(record?.status).toBe(201);
    expect((record?.expires ?? 0) - (record?.created ?? 0)).toBe(60_000);
    expect(ledger.idempotency.get('ttl', Date.now() + 61_000)).toBeUndefined();
    expect(ledger.idempotency.prune(Date.now() + 61_000)).toBe(1);
  });

  it('a key left in flight by a restart is answered from the job its first request made', async () => {
    const { app, ledger } = await testApp();
    expect((await postJson(app, sampleBody({ jid: 'k7' }))).status).toBe(201);
    const run = ledger.current('k7');
    const request = run === undefined ? undefined : ledger.idempotency.requestOf(run.id);
    if (request === undefined) throw new Error('the run keeps no request');
    // What a server killed between the key's note and its answer leaves behind.
    const now = Date.now();
    const cut = { jid: 'k7', fingerprint: 'f', request, created: now, expires: now + 60_000 };
    await ledger.idempotency.begin({ key: 'cut', ...cut });
    const res = await post(app, sampleBody({ jid: 'k7' }), { 'Idempotency-Key': 'cut' });
    expect(res.status).toBe(201);
    expect((await json(res)).jid).toBe('k7');
    expect(ledger.runsOf('k7')).toHaveLength(1);
    expect(ledger.idempotency.get('cut', Date.now())?.status).toBe(201);
    // The same leftover for a job that was never made: the retry makes it.
    await ledger.idempotency.begin({
      key: 'cut-2',
      ...cut,
      jid: 'k8',
      request: request.replace('"k7"', '"k8"'),
    });
    const made = await post(app, sampleBody({ jid: 'k8' }), { 'Idempotency-Key': 'cut-2' });
    expect(made.status).toBe(201);
    expect(ledger.runsOf('k8')).toHaveLength(1);
  });

  it('a bad key is a 400 naming the header', async () => {
    const { app } = await testApp();
    const res = await post(app, sampleBody(), { 'Idempotency-Key': 'x'.repeat(256) });
    expect(res.status).toBe(400);
    expect(Object.keys((await json(res)).message as Json)).toEqual(['Idempotency-Key']);
  });
});

describe('EXISTING_JOB', () => {
  it('conflict (default): 20 concurrent identical POSTs → one 201 and 19 409s', async () => {
    const { app, ledger } = await testApp();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        postJson(app, sampleBody({ jid: 'c1' })).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(ledger.runsOf('c1')).toHaveLength(1);
  });

  it('return: 20 concurrent identical POSTs → one job, one 201 and 19 200s with it', async () => {
    const { app, ledger } = await withSubmit({ existingJob: 'return', idempotencyTtlSeconds: 60 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        postJson(app, sampleBody({ jid: 'r1' })).then(async (r) => ({
          status: r.status,
          body: await json(r),
        })),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(new Set(answers.map((a) => a.body.jid))).toEqual(new Set(['r1']));
    expect(ledger.runsOf('r1')).toHaveLength(1);
  });

  it('return: a different body → 409 naming the fields', async () => {
    const { app } = await withSubmit({ existingJob: 'return', idempotencyTtlSeconds: 60 });
    await postJson(app, sampleBody({ jid: 'r2' }));
    const res = await postJson(app, sampleBody({ jid: 'r2', memory_limit: 999 }));
    expect(res.status).toBe(409);
    expect((await json(res)).message).toBe(
      'job "r2" already exists with a different request body; differing fields: memory_limit',
    );
  });

  it('rerun-failed: a failed job runs again as a new run (201); a succeeded one is returned', async () => {
    const { app, backend, ledger } = await withSubmit({
      existingJob: 'rerun-failed',
      idempotencyTtlSeconds: 60,
    });
    expect((await postJson(app, sampleBody({ jid: 'f1' }))).status).toBe(201);
    backend.finish('f1', 1);
    const rerun = await postJson(app, sampleBody({ jid: 'f1' }));
    expect(rerun.status).toBe(201);
    expect(ledger.runsOf('f1').map((r) => r.run)).toEqual([1, 2]);
    expect(ledger.runsOf('f1')[0]?.removed).not.toBeNull();

    backend.finish('f1', 0);
    const returned = await postJson(app, sampleBody({ jid: 'f1' }));
    expect(returned.status).toBe(200);
    expect((await json(returned)).status).toBe('finishedSuccessfully');
    expect(ledger.runsOf('f1')).toHaveLength(2);
  });

  it('rerun-failed: a running job is returned (200)', async () => {
    const { app, backend } = await withSubmit({
      existingJob: 'rerun-failed',
      idempotencyTtlSeconds: 60,
    });
    await postJson(app, sampleBody({ jid: 'f2' }));
    backend.start('f2');
    const res = await postJson(app, sampleBody({ jid: 'f2' }));
    expect(res.status).toBe(200);
    expect((await json(res)).status).toBe('started');
  });
});

describe('labels', () => {
  it('reach the engine object merged with JOB_LABELS', async () => {
    const { app, backend } = await testApp({ config: { jobLabels: { site: 'bch' } } });
    const res = await postJson(app, sampleBody({ jid: 'l1', labels: { team: 'fnndsc' } }));
    expect(res.status).toBe(201);
    expect(backend.specOf('l1')?.labels).toEqual({ site: 'bch', team: 'fnndsc' });
  });

  it('may not override JOB_LABELS or our own keys, nor break label syntax: 400 naming the key', async () => {
    const { app } = await testApp({ config: { jobLabels: { site: 'bch' } } });
    const cases: Array<[unknown, string]> = [
      [{ site: 'x' }, 'label key "site" is set by JOB_LABELS and cannot be overridden'],
      [{ 'org.chrisproject.managed-by': 'x' }, 'reserved'],
      [{ 'bad key': 'x' }, 'label key "bad key"'],
    ];
    for (const [labels, text] of cases) {
      const res = await postJson(app, sampleBody({ jid: 'l2', labels }));
      expect(res.status).toBe(400);
      expect(((await json(res)).message as Json).labels).toContain(text);
    }
  });
});

describe('Pman-Ignored-Fields', () => {
  it('names unknown top-level fields on 201, 409 and 400; absent when none', async () => {
    const { app } = await testApp();
    const clean = await postJson(app, sampleBody({ jid: 'i1' }));
    expect(clean.headers.get('Pman-Ignored-Fields')).toBeNull();
    const created = await postJson(app, sampleBody({ jid: 'i2', timeout: 5, zz: 1 }));
    expect(created.status).toBe(201);
    expect(created.headers.get('Pman-Ignored-Fields')).toBe('timeout, zz');
    const conflict = await postJson(app, sampleBody({ jid: 'i2', timeout: 5 }));
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('Pman-Ignored-Fields')).toBe('timeout');
    const invalid = await postJson(app, sampleBody({ jid: 'i3', cpu_limit: -1, timeout: 5 }));
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('Pman-Ignored-Fields')).toBe('timeout');
  });
});

describe('GET /api/v1/jobs/ filters and pages', () => {
  async function thirty(app: TestApp['app']): Promise<Map<string, string[]>> {
    const byTeam = new Map<string, string[]>();
    for (let i = 0; i < 30; i++) {
      const team = ['a', 'b', 'c'][i % 3] ?? 'a';
      const jid = `job-${String(i).padStart(2, '0')}`;
      const res = await postJson(
        app,
        sampleBody({ jid, labels: { team, parity: i % 2 === 0 ? 'even' : 'odd' } }),
      );
      expect(res.status).toBe(201);
      byTeam.set(team, [...(byTeam.get(team) ?? []), jid]);
    }
    return byTeam;
  }

  async function names(
    app: TestApp['app'],
    query: string,
  ): Promise<{ jids: string[]; next?: string }> {
    const res = await app.request(`/api/v1/jobs/${query}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { jobs: Array<{ jid: string }>; next?: string };
    return {
      jids: body.jobs.map((j) => j.jid),
      ...(body.next !== undefined && { next: body.next }),
    };
  }

  it('each label filter returns exactly its set; several labels must all match', async () => {
    const { app } = await testApp();
    const byTeam = await thirty(app);
    for (const [team, jids] of byTeam) {
      expect((await names(app, `?label=team=${team}`)).jids).toEqual(jids);
    }
    const both = (await names(app, '?label=team=a&label=parity=even')).jids;
    expect(both).toEqual((byTeam.get('a') ?? []).filter((j) => Number(j.slice(4)) % 2 === 0));
    expect((await names(app, '?label=team=zz')).jids).toEqual([]);
  });

  it('auid and status filter from the store', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody({ jid: 'u1', auid: 'alice' }));
    await postJson(app, sampleBody({ jid: 'u2', auid: 'bob' }));
    backend.start('u2');
    expect((await names(app, '?auid=alice')).jids).toEqual(['u1']);
    expect((await names(app, '?auid=bob&status=started')).jids).toEqual(['u2']);
    expect((await names(app, '?auid=alice&status=started')).jids).toEqual([]);
  });

  it('pages stay stable while jobs are created: no repeats, no skips', async () => {
    const { app } = await testApp();
    await thirty(app);
    const seen: string[] = [];
    let page = await names(app, '?limit=7');
    let extra = 0;
    for (;;) {
      seen.push(...page.jids);
      // Jobs created between pages, before and after the cursor's position.
      await postJson(app, sampleBody({ jid: `a-new-${extra}` }));
      await postJson(app, sampleBody({ jid: `zz-new-${extra}` }));
      extra++;
      if (page.next === undefined) break;
      page = await names(app, `?limit=7&cursor=${page.next}`);
    }
    const original = Array.from({ length: 30 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
    const originals = seen.filter((j) => j.startsWith('job-'));
    expect(originals).toEqual(original);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('unknown parameters and bad values are 400s naming them', async () => {
    const { app } = await testApp();
    const bad: Array<[string, string]> = [
      ['?labels=a=b', 'labels'],
      ['?label=novalue', 'label'],
      ['?limit=0', 'limit'],
      ['?cursor=bm9wZQ', 'cursor'],
      ['?status=done', 'status'],
      ['?status=started&status=notstarted', 'status'],
      ['?limit=1&limit=2', 'limit'],
      ['?auid=a&auid=b', 'auid'],
    ];
    for (const [query, field] of bad) {
      const res = await app.request(`/api/v1/jobs/${query}`);
      expect(res.status).toBe(400);
      expect(Object.keys((await json(res)).message as Json)).toEqual([field]);
    }
  });

  it('without parameters the answer is as before: every job, sorted by jid, no next', async () => {
    const { app } = await testApp();
    await postJson(app, sampleBody({ jid: 'b' }));
    await postJson(app, sampleBody({ jid: 'a' }));
    const body = await json(await app.request('/api/v1/jobs/'));
    expect(Object.keys(body)).toEqual(['jobs']);
    expect((body.jobs as Json[]).map((j) => j.jid)).toEqual(['a', 'b']);
  });
});

describe('unknown query parameters on the log routes', () => {
  it('/logs/ takes tail and follow only; the pman routes keep ignoring unknown ones', async () => {
    const { app } = await testApp();
    await postJson(app, sampleBody({ jid: 'q1' }));
    const res = await app.request('/api/v1/q1/logs/?tial=3');
    expect(res.status).toBe(400);
    expect(Object.keys((await json(res)).message as Json)).toEqual(['tial']);
    expect((await app.request('/api/v1/q1/?whatever=1')).status).toBe(200);
    expect((await app.request('/api/v1/?whatever=1')).status).toBe(200);
  });
});
