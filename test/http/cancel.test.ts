// Cancel and deadlines (issue 13) through app.request() over the memory backend: a running job is
// stopped (SIGTERM, exit 143) and ends `cancelled…` with its log and history kept; a second cancel
// is a 409; DELETE works afterwards; a job the engine never had is cancelled without starting; a
// `timeout_seconds` run ends `DeadlineExceeded: ran longer than N s`.
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory.js';
import { BackendUnavailableError } from '../../src/domain/errors.js';
import { postJson, sampleBody, testApp, until } from '../fixtures.js';
import type { TestHono } from '../fixtures.js';

async function json(res: Response | Promise<Response>): Promise<Record<string, unknown>> {
  return (await (await res).json()) as Record<string, unknown>;
}

function cancel(app: TestHono, jid: string): Promise<Response> {
  return Promise.resolve(app.request(`/api/v1/${jid}/cancel/`, { method: 'POST' }));
}

async function ended(app: TestHono, jid: string): Promise<Record<string, unknown>> {
  return until(
    async () => {
      const body = await json(app.request(`/api/v1/${jid}/`));
      return body.status === 'finishedWithError' || body.status === 'finishedSuccessfully'
        ? body
        : undefined;
    },
    { what: `the end of ${jid}` },
  );
}

describe('POST /api/v1/<jid>/cancel/', () => {
  it('stops a running job: 202, then finishedWithError "cancelled…", log and history kept, DELETE works', async () => {
    const { app, backend, config } = await testApp({
      config: { control: { cancelGraceSeconds: 7 } },
    });
    expect(config.control?.cancelGraceSeconds).toBe(7);
    expect((await postJson(app, sampleBody({ jid: 'c-1' }))).status).toBe(201);
    backend.start('c-1', 'working\n');
    const res = await cancel(app, 'c-1');
    expect(res.status).toBe(202);
    const answer = await json(res);
    expect(answer.jid).toBe('c-1');
    expect(backend.stops).toEqual([{ name: 'c-1', graceSeconds: 7 }]);
    const end = await ended(app, 'c-1');
    expect(end.status).toBe('finishedWithError');
    expect(String(end.message)).toMatch(/^cancelled/);
    expect(end.logs).toBe('working\n');
    expect((await cancel(app, 'c-1')).status).toBe(409);
    const history = await json(app.request('/api/v1/history/c-1/'));
    const runs = history.runs as Array<Record<string, unknown>>;
    expect(runs[0]).toMatchObject({ status: 'finishedWithError', exit_code: 143 });
    expect(String(runs[0]?.message)).toMatch(/^cancelled/);
    expect((await app.request('/api/v1/c-1/', { method: 'DELETE' })).status).toBe(204);
    expect((await app.request('/api/v1/c-1/')).status).toBe(404);
    expect(await (await app.request('/api/v1/history/c-1/1/logs/')).text()).toBe('working\n');
  });

  it('says "stopping: cancelled by request" during the grace, then ends cancelled', async () => {
    // A job that does not end at SIGTERM: the engine only records the stop during the grace.
    class GraceBackend extends MemoryBackend {
      override stop(name: string, graceSeconds: number): Promise<void> {
        this.stops.push({ name, graceSeconds });
        return Promise.resolve();
      }
    }
    const { app, backend } = await testApp({ backend: new GraceBackend() });
    expect((await postJson(app, sampleBody({ jid: 'c-g' }))).status).toBe(201);
    backend.start('c-g', 'working\n');
    expect((await cancel(app, 'c-g')).status).toBe(202);
    const during = await json(app.request('/api/v1/c-g/'));
    expect(during).toMatchObject({ status: 'started', message: 'stopping: cancelled by request' });
    backend.finish('c-g', 137);
    const end = await ended(app, 'c-g');
    expect(end).toMatchObject({ status: 'finishedWithError', message: 'cancelled by request' });
  });

  it('never retries a cancelled job, whatever its retries say', async () => {
    const { app, backend } = await testApp();
    const body = sampleBody({ jid: 'c-r', retries: { limit: 2, backoff_seconds: 0 } });
    expect((await postJson(app, body)).status).toBe(201);
    backend.start('c-r', 'working\n');
    expect((await cancel(app, 'c-r')).status).toBe(202);
    const end = await ended(app, 'c-r');
    expect(String(end.message)).toMatch(/^cancelled/);
    const history = await json(app.request('/api/v1/history/c-r/'));
    const runs = history.runs as Array<Record<string, unknown>>;
    expect(runs).toHaveLength(1);
    // One attempt, the cancelled one: no second attempt was made.
    expect(runs[0]?.attempts).toMatchObject([{ attempt: 1, message: 'cancelled by request' }]);
    expect(backend.stops).toHaveLength(1);
  });

  it('cancels a job waiting out a retry backoff as a job that ran: cancelled by request, attempt 1 kept', async () => {
    const { app, backend } = await testApp();
    const body = sampleBody({ jid: 'c-b', retries: { limit: 2, backoff_seconds: 3600 } });
    expect((await postJson(app, body)).status).toBe(201);
    backend.start('c-b', 'first\n');
    backend.finish('c-b', 1);
    await until(
      async () =>
        String((await json(app.request('/api/v1/c-b/'))).message).includes('retrying')
          ? true
          : undefined,
      { what: 'the backoff of c-b' },
    );
    const res = await cancel(app, 'c-b');
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({
      status: 'finishedWithError',
      message: 'cancelled by request',
    });
    expect(await json(app.request('/api/v1/c-b/'))).toMatchObject({
      message: 'cancelled by request',
    });
    const history = await json(app.request('/api/v1/history/c-b/'));
    const runs = history.runs as Array<{ attempts: Array<Record<string, unknown>> }>;
    expect(runs[0]?.attempts.map((a) => [a.attempt, a.message])).toEqual([
      [1, 'exited with code 1'],
      [2, 'cancelled by request'],
    ]);
    expect(await (await app.request('/api/v1/history/c-b/1/attempts/1/logs/')).text()).toBe(
      'first\n',
    );
    expect(backend.stops).toEqual([]);
  });

  it('answers 409 for a job that has finished, and 404 for an unknown one', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody({ jid: 'c-2' }));
    backend.finish('c-2', 0, 'done\n');
    await ended(app, 'c-2');
    const res = await cancel(app, 'c-2');
    expect(res.status).toBe(409);
    expect(String((await json(res)).message)).toContain('already finished');
    expect(backend.stops).toEqual([]);
    expect((await cancel(app, 'nope')).status).toBe(404);
  });

  it('refuses a query parameter with a 400 naming it, and stops nothing', async () => {
    const { app, backend } = await testApp();
    await postJson(app, sampleBody({ jid: 'c-q' }));
    const res = await app.request('/api/v1/c-q/cancel/?grace=0', { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: { grace: 'is not a parameter of this route (none)' },
    });
    expect(backend.stops).toEqual([]);
  });

  it('cancels a job the engine does not have yet without starting it', async () => {
    const { app, backend, ledger } = await testApp();
    backend.setOutage('down for the test');
    expect((await postJson(app, sampleBody({ jid: 'c-3' }))).status).toBe(201);
    backend.setOutage(undefined);
    const res = await cancel(app, 'c-3');
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({
      status: 'finishedWithError',
      message: 'cancelled before it started',
    });
    expect(ledger.current('c-3')).toMatchObject({ status: 'finishedWithError', engine: 'pending' });
    expect(backend.specOf('c-3')).toBeUndefined();
    expect(backend.stops).toEqual([]);
    expect((await app.request('/api/v1/c-3/', { method: 'DELETE' })).status).toBe(204);
  });
});

describe('POST /api/v1/<jid>/cancel/ the engine refuses', () => {
  it('answers the error and leaves the run to end as it ends', async () => {
    const refusing = new MemoryBackend();
    // Before the app wraps the backend (its metrics forward the methods it finds at start).
    refusing.stop = () => Promise.reject(new BackendUnavailableError('engine away for the test'));
    const { app, backend, ledger } = await testApp({ backend: refusing });
    await postJson(app, sampleBody({ jid: 'r-1' }));
    backend.start('r-1', 'working\n');
    expect((await cancel(app, 'r-1')).status).toBe(503);
    expect(ledger.current('r-1')?.stopReason).toBeNull();
    backend.finish('r-1', 0);
    expect(await ended(app, 'r-1')).toMatchObject({ status: 'finishedSuccessfully' });
  });
});

describe('POST /api/v1/<jid>/cancel/ of a queued job', () => {
  it('cancels it without starting it, and it never starts when a slot frees', async () => {
    const { app, backend, ledger } = await testApp({ config: { queue: { maxRunning: 1 } } });
    expect((await postJson(app, sampleBody({ jid: 'q-1' }))).status).toBe(201);
    const queued = await json(postJson(app, sampleBody({ jid: 'q-2' })));
    expect(String(queued.message)).toMatch(/^queued/);
    expect((await postJson(app, sampleBody({ jid: 'q-3' }))).status).toBe(201);
    const res = await cancel(app, 'q-2');
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({
      status: 'finishedWithError',
      message: 'cancelled before it started',
    });
    expect(ledger.queue.entries().map((e) => e.jid)).toEqual(['q-3']);
    backend.start('q-1');
    backend.finish('q-1', 0);
    await ended(app, 'q-1');
    // The slot went to the next queued job: the cancelled one was passed over.
    await until(() => backend.specOf('q-3'), { what: 'q-3 admitted' });
    expect(backend.specOf('q-2')).toBeUndefined();
    expect((await json(app.request('/api/v1/q-2/'))).message).toBe('cancelled before it started');
  });
});

describe('timeout_seconds', () => {
  it('stops a run that ran longer: DeadlineExceeded: ran longer than N s', async () => {
    const { app, backend } = await testApp();
    const res = await postJson(app, sampleBody({ jid: 'd-1', timeout_seconds: 1 }));
    expect(res.status).toBe(201);
    backend.start('d-1', 'slow\n');
    const end = await ended(app, 'd-1');
    expect(end).toMatchObject({
      status: 'finishedWithError',
      message: 'DeadlineExceeded: ran longer than 1 s',
      logs: 'slow\n',
    });
    expect(backend.stops.map((s) => s.name)).toEqual(['d-1']);
  });
});
