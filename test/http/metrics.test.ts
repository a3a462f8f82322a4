// GET /metrics (issue 14) through app.request() on the memory backend: the job counters with their
// labels after a create and a finish, the request histogram by route TEMPLATE, the engine-call
// metrics of the metered Port, the gauges read at scrape time, the METRICS_TOKEN guard, and no jid
// in any label whatever the jids are (property). Then request ids: echoed, generated, replaced
// when unsafe, and carried by the request's log lines (pino output captured through a stream).
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory.js';
import type { CreateOptions } from '../../src/backends/backend.js';
import type { JobInfo, JobSpec } from '../../src/domain/job.js';
import { listen } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/service/metrics.js';
import { Ledger } from '../../src/store/ledger.js';
import { postJson, sampleBody, sampleSpec, testApp, until } from '../fixtures.js';
import type { TestApp } from '../fixtures.js';
import { httpSettings } from './http-settings.js';
import { SseReader } from './sse-reader.js';

const TOKEN = 'metrics-token-0123456789abcdef';

/** Lets the watch's records reach the ledger's group commit and the hub's subscribers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<string> {
  const res = await t.app.request('/metrics', { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** A sample line's labels: `a="x",b="y"` → {a: 'x', b: 'y'} (sticky: one pass, left to right). */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /(\w+)="((?:[^"\\]|\\.)*)",?/y;
  for (let m = pair.exec(text); m !== null; m = pair.exec(text)) labels[m[1] ?? ''] = m[2] ?? '';
  return labels;
}

/** The samples of the scrape: name, labels, value. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace === -1 ? line.slice(0, space) : line.slice(0, brace);
    const labels = brace === -1 ? {} : parseLabels(line.slice(brace + 1, line.lastIndexOf('}')));
    out.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return out;
}

/** The value of one sample, found by its name and exact label set; undefined when absent. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = JSON.stringify(sorted(labels));
  return samples(text).find((s) => s.name === name && JSON.stringify(sorted(s.labels)) === want)
    ?.value;
}

function sorted(record: Record<string, unknown>): [string, unknown][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Every label value in the scrape. */
function labelValues(text: string): Set<string> {
  return new Set(samples(text).flatMap((s) => Object.values(s.labels)));
}

async function submit(t: TestApp, jid: string, headers: Record<string, string> = {}) {
  const res = await t.app.request('/api/v1/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(sampleBody({ jid })),
  });
  expect(res.status).toBe(201);
  return res;
}

describe('GET /metrics', () => {
  it('counts a job created and finished, by backend and status, from the store', async () => {
    const t = await testApp();
    await submit(t, 'job-ok');
    await submit(t, 'job-bad');
    t.backend.start('job-ok', 'hi\n');
    t.backend.start('job-bad', 'hi\n');
    await settle();
    t.backend.finish('job-ok', 0, 'bye\n');
    t.backend.finish('job-bad', 2, 'bye\n');
    await settle();
    const text = await scrape(t);
    expect(sample(text, 'pman_jobs_created_total', { backend: 'memory' })).toBe(2);
    const finished = (status: string) =>
      sample(text, 'pman_jobs_finished_total', { backend: 'memory', status });
    expect(finished('finishedSuccessfully')).toBe(1);
    expect(finished('finishedWithError')).toBe(1);
    expect(sample(text, 'pman_jobs_running', { backend: 'memory' })).toBe(0);
    expect(sample(text, 'pman_jobs_queued', { backend: 'memory' })).toBe(0);
    expect(text).toContain('# TYPE pman_jobs_created_total counter');
  });

  it('counts running jobs while they run', async () => {
    const t = await testApp();
    await submit(t, 'job-1');
    t.backend.start('job-1', 'hi\n');
    await settle();
    expect(sample(await scrape(t), 'pman_jobs_running', { backend: 'memory' })).toBe(1);
  });

  it('counts the runs waiting in the queue apart from the running ones', async () => {
    const t = await testApp({ config: { queue: { maxRunning: 1 } } });
    await submit(t, 'job-1');
    await submit(t, 'job-2');
    await submit(t, 'job-3');
    t.backend.start('job-1', 'hi\n');
    await settle();
    const text = await scrape(t);
    expect(sample(text, 'pman_jobs_running', { backend: 'memory' })).toBe(1);
    expect(sample(text, 'pman_jobs_queued', { backend: 'memory' })).toBe(2);
  });

  it('times requests by method, route TEMPLATE and status; unmatched paths share one value', async () => {
    const t = await testApp();
    await submit(t, 'job-7');
    expect((await t.app.request('/api/v1/job-7/')).status).toBe(200);
    expect((await t.app.request('/api/v1/nope/')).status).toBe(404);
    expect((await t.app.request('/no/such/path')).status).toBe(404);
    const text = await scrape(t);
    const count = (labels: Record<string, string>) =>
      sample(text, 'pman_http_request_duration_seconds_count', labels);
    expect(count({ method: 'POST', route: '/api/v1/', status: '201' })).toBe(1);
    expect(count({ method: 'GET', route: '/api/v1/:jid/', status: '200' })).toBe(1);
    expect(count({ method: 'GET', route: '/api/v1/:jid/', status: '404' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(text).toContain('# TYPE pman_http_request_duration_seconds histogram');
    expect(
      sample(text, 'pman_http_request_duration_seconds_bucket', {
        method: 'POST',
        route: '/api/v1/',
        status: '201',
        le: '+Inf',
      }),
    ).toBe(1);
  });

  it('times engine calls by operation and counts their errors and failed creates by kind', async () => {
    const t = await testApp();
    await submit(t, 'job-1');
    // A container of that name the store does not know: the engine refuses the create (409).
    await t.backend.create(sampleSpec({ name: 'taken' }));
    expect((await postJson(t.app, sampleBody({ jid: 'taken' }))).status).toBe(409);
    // The engine down: the POST is accepted (it waits), the create counted as failed.
    t.backend.setOutage('maintenance');
    expect((await postJson(t.app, sampleBody({ jid: 'job-2' }))).status).toBe(201);
    let text = await scrape(t);
    const calls = (operation: string, outcome: string) =>
      sample(text, 'pman_backend_call_duration_seconds_count', {
        backend: 'memory',
        operation,
        outcome,
      });
    expect(calls('create', 'ok')).toBe(1);
    expect(calls('create', 'error')).toBe(2);
    const failed = (reason: string) =>
      sample(text, 'pman_jobs_create_failed_total', { backend: 'memory', reason });
    expect(failed('conflict')).toBe(1);
    expect(failed('unavailable')).toBe(1);
    const errors = (operation: string, error: string) =>
      sample(text, 'pman_backend_call_errors_total', { backend: 'memory', operation, error });
    expect(errors('create', 'unavailable')).toBe(1);
    // The scrape pinged the engine: down (that ping's error shows from the next scrape on).
    expect(sample(text, 'pman_backend_up', { backend: 'memory' })).toBe(0);
    text = await scrape(t);
    expect(errors('ping', 'unavailable')).toBeGreaterThanOrEqual(1);
    t.backend.setOutage(undefined);
    text = await scrape(t);
    expect(sample(text, 'pman_backend_up', { backend: 'memory' })).toBe(1);
  });

  it('counts a create that fails after its answer (a background pull or start) as refused', async () => {
    const t = await testApp({ backend: new FailingLaterBackend() });
    await submit(t, 'job-1');
    await until(async () => {
      const text = await scrape(t);
      return sample(text, 'pman_jobs_create_failed_total', {
        backend: 'memory',
        reason: 'refused',
      });
    });
    const text = await scrape(t);
    expect(
      sample(text, 'pman_jobs_create_failed_total', { backend: 'memory', reason: 'refused' }),
    ).toBe(1);
    // The call itself succeeded: it is no error of the create operation.
    expect(
      sample(text, 'pman_backend_call_errors_total', {
        backend: 'memory',
        operation: 'create',
        error: 'refused',
      }),
    ).toBe(undefined);
  });

  it('reports how old the backend view is only once the backend answered a read or reported', async () => {
    const t = await testApp();
    expect(sample(await scrape(t), 'pman_backend_view_age_seconds', { backend: 'memory' })).toBe(
      undefined,
    );
    await submit(t, 'job-1');
    t.backend.start('job-1', 'hi\n');
    await settle();
    const age = sample(await scrape(t), 'pman_backend_view_age_seconds', { backend: 'memory' });
    expect(age).toBeGreaterThanOrEqual(0);
  });

  it('counts open event streams and followed logs until their client leaves', async () => {
    const t = await testApp();
    const l = await listen({
      ip: '127.0.0.1',
      port: 0,
      http: httpSettings(),
      fetch: t.app.fetch,
      log: pino({ level: 'silent' }),
    });
    try {
      const clients = async (route: string) =>
        sample(await scrape(t), 'pman_event_stream_clients', { route });
      const base = `http://127.0.0.1:${l.port}`;
      const res = await fetch(`${base}/api/v1/events/`);
      expect(res.status).toBe(200);
      const sse = new SseReader(res);
      await submit(t, 'job-1');
      t.backend.start('job-1', 'hi\n');
      const [frame] = await sse.take(1);
      expect(frame?.event).toBe('status');
      const followed = await fetch(`${base}/api/v1/job-1/logs/?follow=1`);
      const logs = (followed.body as ReadableStream<Uint8Array>).getReader();
      expect(new TextDecoder().decode((await logs.read()).value)).toBe('hi\n');
      expect(await clients('/api/v1/events/')).toBe(1);
      expect(await clients('/api/v1/:jid/logs/')).toBe(1);
      await sse.cancel();
      await until(async () => ((await clients('/api/v1/events/')) === 0 ? true : undefined), {
        what: 'the event stream counted as closed',
      });
      // The followed log ends with the job.
      t.backend.finish('job-1', 0);
      while (!(await logs.read()).done);
      await until(async () => ((await clients('/api/v1/:jid/logs/')) === 0 ? true : undefined), {
        what: 'the followed log counted as closed',
      });
      // Plain requests (app.request(), no connection) are never counted as streams.
      expect((await t.app.request('/api/v1/events/')).status).toBe(200);
      expect(await clients('/api/v1/events/')).toBe(0);
    } finally {
      l.server.closeAllConnections();
      await new Promise((resolve) => l.server.close(resolve));
    }
  });

  it('reports the webhook outbox depth', async () => {
    const none = await scrape(await testApp());
    expect(sample(none, 'pman_webhook_outbox_pending')).toBe(0);
    expect(sample(none, 'pman_webhook_outbox_oldest_age_seconds')).toBe(0);
    const ledger = Ledger.inMemory();
    ledger.setWebhookTargets(['http://127.0.0.1:9/hook']);
    const t = await testApp({ ledger });
    await submit(t, 'job-1');
    await settle();
    const text = await scrape(t);
    expect(sample(text, 'pman_webhook_outbox_pending')).toBe(1);
    expect(sample(text, 'pman_webhook_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
  });

  it("includes Node's process metrics when asked (the server does)", async () => {
    const ledger = Ledger.inMemory();
    const metrics = new Metrics({ backend: 'memory', ledger, processDefaults: true });
    const t = await testApp({ ledger, metrics });
    const text = await scrape(t);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    metrics.close();
  });

  it('keeps one registry per app: two apps count separately', async () => {
    const a = await testApp();
    const b = await testApp();
    await submit(a, 'job-1');
    await settle();
    expect(sample(await scrape(a), 'pman_jobs_created_total', { backend: 'memory' })).toBe(1);
    expect(sample(await scrape(b), 'pman_jobs_created_total', { backend: 'memory' })).toBe(0);
  });

  it('never names a jid: no label value and no text of the scrape holds one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_.-]{11,40}$/), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
        async (jids, ends) => {
          const t = await testApp();
          for (const [i, jid] of jids.entries()) {
            await submit(t, jid);
            const end = ends[i] ?? 0;
            if (end >= 1) t.backend.start(jid, 'x\n');
            await settle();
            if (end >= 2) t.backend.finish(jid, end - 2, 'y\n');
            await t.app.request(`/api/v1/${jid}/`);
            await t.app.request(`/api/v1/${jid}/logs/`);
            if (end === 3) await t.app.request(`/api/v1/${jid}/`, { method: 'DELETE' });
          }
          await settle();
          const text = await scrape(t);
          const values = labelValues(text);
          for (const jid of jids) {
            expect(values.has(jid)).toBe(false);
            expect(text.includes(jid)).toBe(false);
          }
          expect(sample(text, 'pman_jobs_created_total', { backend: 'memory' })).toBe(jids.length);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('METRICS_TOKEN', () => {
  const guarded = () => testApp({ config: { metrics: { token: TOKEN } } });

  it('answers 401 with a JSON message without the token or with a wrong one', async () => {
    const t = await guarded();
    const cases: Record<string, string>[] = [
      {},
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: `Basic ${TOKEN}` },
      { Authorization: 'Bearer' },
    ];
    for (const headers of cases) {
      const res = await t.app.request('/metrics', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await res.json()) as { message: string };
      expect(body.message).toContain('METRICS_TOKEN');
    }
  });

  it('answers 200 with the token', async () => {
    const t = await guarded();
    const text = await scrape(t, { Authorization: `Bearer ${TOKEN}` });
    expect(text).toContain('pman_http_request_duration_seconds');
  });

  it('does not guard the API: it has its own token rule', async () => {
    const t = await guarded();
    expect((await t.app.request('/api/v1/')).status).toBe(200);
  });
});

/** pino's JSON lines, captured. */
function captured(): {
  lines: () => Record<string, unknown>[];
  raw: () => string[];
  stream: Writable;
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const raw = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '');
  const lines = () => raw().map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, raw, stream };
}

/** A memory backend that logs while it creates, as a real backend's pull or start would. */
class ChattyBackend extends MemoryBackend {
  log: ((text: string) => void) | undefined;
  override create(spec: JobSpec, options?: CreateOptions): Promise<JobInfo> {
    this.log?.(`creating ${spec.name}`);
    // Work the create started goes on after the answer (Docker's background start or pull).
    setTimeout(() => this.log?.(`started ${spec.name} in the background`), 20);
    return super.create(spec, options);
  }
}

/** A memory backend whose creates answer, then fail in the background, as Docker's failed pull. */
class FailingLaterBackend extends MemoryBackend {
  override async create(spec: JobSpec, options?: CreateOptions): Promise<JobInfo> {
    const info = await super.create(spec, options);
    setImmediate(() =>
      options?.onFailed?.({ ...info, status: 'finishedWithError', message: 'image pull failed' }),
    );
    return info;
  }
}

describe('X-Request-Id', () => {
  it('echoes a valid incoming id', async () => {
    const t = await testApp();
    const res = await t.app.request('/api/v1/', { headers: { 'X-Request-Id': 'trace-1.2:3/4' } });
    expect(res.headers.get('x-request-id')).toBe('trace-1.2:3/4');
  });

  it('generates one when none is sent, a new one each time', async () => {
    const t = await testApp();
    const a = (await t.app.request('/api/v1/')).headers.get('x-request-id');
    const b = (await t.app.request('/api/v1/')).headers.get('x-request-id');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
  });

  it('replaces an id that is too long or carries unsafe characters', async () => {
    const t = await testApp();
    for (const bad of ['x'.repeat(129), 'a b', 'a"b', 'a\tb', 'é']) {
      const res = await t.app.request('/api/v1/', { headers: { 'X-Request-Id': bad } });
      const id = res.headers.get('x-request-id');
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const longest = 'y'.repeat(128);
    const res = await t.app.request('/api/v1/', { headers: { 'X-Request-Id': longest } });
    expect(res.headers.get('x-request-id')).toBe(longest);
  });

  it('is on the answers no route gives: 404 and 308', async () => {
    const t = await testApp();
    const notFound = await t.app.request('/nope', { headers: { 'X-Request-Id': 'r-404' } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-request-id')).toBe('r-404');
    const moved = await t.app.request('/api/v1', { headers: { 'X-Request-Id': 'r-308' } });
    expect(moved.status).toBe(308);
    expect(moved.headers.get('x-request-id')).toBe('r-308');
  });

  it("is in the request's log line (with the created jid) and in every line logged while serving it", async () => {
    const { lines, raw, stream } = captured();
    const log = createLogger('info', { destination: stream });
    const backend = new ChattyBackend();
    backend.log = (text) => log.info({ component: 'backend' }, text);
    const t = await testApp({ log, backend });
    await submit(t, 'job-traced', { 'X-Request-Id': 'req-abc' });
    const res = await t.app.request('/api/v1/job-traced/');
    const generated = res.headers.get('x-request-id');
    const all = lines();
    const request = all.find((l) => l.msg === 'request: job created');
    expect(request).toMatchObject({ reqId: 'req-abc', jid: 'job-traced', status: 201 });
    expect(request?.route).toBe('/api/v1/');
    expect(all.find((l) => l.msg === 'creating job-traced')?.reqId).toBe('req-abc');
    const background = await until(() =>
      lines().find((l) => l.msg === 'started job-traced in the background'),
    );
    expect(background.reqId).toBe('req-abc');
    const read = all.find((l) => l.msg === 'request' && l.path === '/api/v1/job-traced/');
    expect(read?.reqId).toBe(generated);
    // One reqId key per line, never two (the mixin and the line's own field agree).
    for (const line of raw()) expect(line.match(/"reqId"/g)?.length ?? 0).toBeLessThanOrEqual(1);
  });

  it('is not on lines logged outside any request', () => {
    const { lines, stream } = captured();
    const log = createLogger('info', { destination: stream });
    log.info('background');
    expect(lines()[0]?.msg).toBe('background');
    expect(lines()[0]).not.toHaveProperty('reqId');
  });
});
