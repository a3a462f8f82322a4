// Service jobs through the whole app over the memory backend (issue 15), with a REAL listener on
// loopback as the service's endpoint, so the job service's own probe runs for real: `notstarted` /
// `waiting for health check` until the listener answers, then `started` with its endpoint (an
// event recorded without any GET); a failing health path keeps it waiting; one never healthy ends
// finishedWithError after SERVICE_START_TIMEOUT_SECONDS saying why; a restarted server process
// keeps `started` and the endpoint; cancel and DELETE end it.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory.js';
import type { Config } from '../../src/config/config.js';
import { JobService } from '../../src/service/jobs.js';
import { Ledger } from '../../src/store/ledger.js';
import {
  freePort,
  postJson,
  sampleBody,
  testApp,
  testConfig,
  TEST_STORAGE,
  until,
} from '../fixtures.js';
import type { TestHono } from '../fixtures.js';

type Body = Record<string, unknown>;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An HTTP server on 127.0.0.1:`port` answering `status()` to every request; closed after the test. */
async function serve(port: number, status: () => number = () => 200): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(status()).end('ok'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => close(server));
  return server;
}

function close(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The app over its own JobService, closed after the test (its checks stop with it). */
async function appWith(
  backend: MemoryBackend,
  ledger: Ledger,
  config: Partial<Config> = {},
): Promise<{ app: TestHono; jobs: JobService }> {
  const full = testConfig(config);
  const jobs = new JobService({ backend, ledger, config: full, storage: TEST_STORAGE });
  cleanups.push(() => jobs.close());
  const { app } = await testApp({ backend, ledger, config: full, jobs });
  return { app, jobs };
}

async function get(app: TestHono, jid: string): Promise<Body> {
  const res = await app.request(`/api/v1/${jid}/`);
  expect(res.status).toBe(200);
  return (await res.json()) as Body;
}

function until200(app: TestHono, jid: string, ok: (b: Body) => boolean, what: string) {
  return until(
    async () => {
      const body = await get(app, jid);
      return ok(body) ? body : undefined;
    },
    { timeoutMs: 20_000, what },
  );
}

function statuses(ledger: Ledger, jid: string): string[] {
  return ledger.eventsSince(0, 1000, { jids: [jid] }).map((e) => `${e.status}: ${e.message}`);
}

describe('service jobs', { timeout: 60_000 }, () => {
  it('waits for the health check, then is started with its endpoint (recorded without a GET)', async () => {
    const backend = new MemoryBackend();
    const ledger = Ledger.inMemory();
    const { app } = await appWith(backend, ledger);
    const port = await freePort();
    const res = await postJson(app, sampleBody({ jid: 'svc-1', service: { port } }));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ status: 'notstarted', endpoint: null });
    backend.start('svc-1');
    expect(await get(app, 'svc-1')).toMatchObject({
      status: 'notstarted',
      message: 'waiting for health check',
      endpoint: null,
    });
    await serve(port);
    // No GET meanwhile: the supervisor's probe records the change itself.
    await until(() => (statuses(ledger, 'svc-1').includes('started: running') ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the started event of svc-1',
    });
    expect(statuses(ledger, 'svc-1')).toContain('notstarted: waiting for health check');
    const endpoint = `http://127.0.0.1:${port}`;
    expect(await get(app, 'svc-1')).toMatchObject({
      status: 'started',
      message: 'running',
      endpoint,
    });
    const list = await (await app.request('/api/v1/jobs/')).json();
    expect(JSON.stringify(list)).toContain(endpoint);
    // The engine restarts the server: still started, its endpoint kept.
    backend.restart('svc-1', 1);
    expect(await get(app, 'svc-1')).toMatchObject({
      status: 'started',
      message: 'restarting after exit code 1 (1 restarts)',
      endpoint,
    });
    // Cancel stops it for good: finishedWithError, no endpoint any more.
    const cancel = await app.request('/api/v1/svc-1/cancel/', { method: 'POST' });
    expect(cancel.status).toBe(202);
    const end = await until200(app, 'svc-1', (b) => b.status === 'finishedWithError', 'its end');
    expect(end).toMatchObject({ message: 'cancelled by request', endpoint: null });
    // The history keeps what was asked and where it was reached, after the end too.
    const history = (await (await app.request('/api/v1/history/svc-1/')).json()) as {
      runs: Array<{ service?: Body }>;
    };
    expect(history.runs[0]?.service).toMatchObject({
      port,
      health_path: null,
      type: 'ClusterIP',
      endpoint,
    });
    expect(history.runs[0]?.service?.ready).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect((await app.request('/api/v1/svc-1/', { method: 'DELETE' })).status).toBe(204);
    expect((await app.request('/api/v1/svc-1/')).status).toBe(404);
  });

  it('a failing health_path keeps it waiting; it starts once the path answers 2xx', async () => {
    const backend = new MemoryBackend();
    const ledger = Ledger.inMemory();
    const { app } = await appWith(backend, ledger);
    const port = await freePort();
    let status = 500;
    await serve(port, () => status);
    const body = sampleBody({ jid: 'svc-h', service: { port, health_path: '/healthz' } });
    expect((await postJson(app, body)).status).toBe(201);
    backend.start('svc-h');
    const runId = ledger.current('svc-h')?.id ?? -1;
    await until(
      () => (ledger.services.get(runId)?.lastCheck === 'HTTP 500 from /healthz' ? true : undefined),
      { timeoutMs: 20_000, what: 'a failed check of svc-h' },
    );
    expect(await get(app, 'svc-h')).toMatchObject({
      status: 'notstarted',
      message: 'waiting for health check',
      endpoint: null,
    });
    status = 200;
    await until200(app, 'svc-h', (b) => b.status === 'started', 'svc-h started');
  });

  it('one never healthy ends finishedWithError after SERVICE_START_TIMEOUT_SECONDS, saying why', async () => {
    const backend = new MemoryBackend();
    const ledger = Ledger.inMemory();
    const { app } = await appWith(backend, ledger, { service: { startTimeoutSeconds: 1 } });
    const port = await freePort();
    expect((await postJson(app, sampleBody({ jid: 'svc-t', service: { port } }))).status).toBe(201);
    backend.start('svc-t');
    backend.restart('svc-t', 1);
    const end = await until200(app, 'svc-t', (b) => b.status === 'finishedWithError', 'its end');
    expect(end).toMatchObject({
      message:
        'service not healthy after 1 s: connection refused (restarting after exit code 1 (1 restarts))',
      endpoint: null,
    });
    expect(backend.stops.map((s) => s.name)).toEqual(['svc-t']);
    const history = (await (await app.request('/api/v1/history/svc-t/')).json()) as {
      runs: Body[];
    };
    expect(history.runs[0]).toMatchObject({ status: 'finishedWithError' });
  });

  it('a restarted server keeps it started at the same endpoint, without checking again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pman-ts-svc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const backend = new MemoryBackend();
    let ledger = Ledger.open(dir);
    const first = await appWith(backend, ledger);
    const port = await freePort();
    const server = await serve(port);
    expect(
      (await postJson(first.app, sampleBody({ jid: 'svc-r', service: { port } }))).status,
    ).toBe(201);
    backend.start('svc-r');
    const endpoint = `http://127.0.0.1:${port}`;
    await until200(first.app, 'svc-r', (b) => b.status === 'started', 'svc-r started');
    first.jobs.close();
    ledger.close();
    // The listener goes too: a second check would fail, so only the store can say "started".
    await close(server);
    ledger = Ledger.open(dir);
    const reopened = ledger;
    cleanups.push(() => reopened.close());
    const second = await appWith(backend, ledger);
    await second.jobs.reconciler.pass();
    expect(await get(second.app, 'svc-r')).toMatchObject({
      status: 'started',
      message: 'running',
      endpoint,
    });
    expect(statuses(ledger, 'svc-r').at(-1)).toBe('started: running');
    // DELETE ends it and it names no job any more.
    expect((await second.app.request('/api/v1/svc-r/', { method: 'DELETE' })).status).toBe(204);
    expect((await second.app.request('/api/v1/svc-r/')).status).toBe(404);
  });

  it('DELETE of a service still waiting for its check ends it; NodePort is refused here', async () => {
    const backend = new MemoryBackend();
    const ledger = Ledger.inMemory();
    const { app } = await appWith(backend, ledger);
    const port = await freePort();
    expect((await postJson(app, sampleBody({ jid: 'svc-d', service: { port } }))).status).toBe(201);
    backend.start('svc-d');
    expect((await get(app, 'svc-d')).status).toBe('notstarted');
    expect((await app.request('/api/v1/svc-d/', { method: 'DELETE' })).status).toBe(204);
    expect((await app.request('/api/v1/svc-d/')).status).toBe(404);
    expect(backend.specOf('svc-d')).toBeUndefined();
    const nodePort = sampleBody({ jid: 'svc-n', service: { port, type: 'NodePort' } });
    expect((await postJson(app, nodePort)).status).toBe(400);
  });
});
