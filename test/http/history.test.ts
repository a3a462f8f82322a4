// The history routes (issue 11) through app.request(): pages newest first with a cursor, filters,
// unknown or bad parameters → 400 naming them, a jid's runs (404 when none), a run's archived log
// (?tail=), history after DELETE, and the reserved jids.
import { describe, expect, it } from 'vitest';
import { toWireRun } from '../../src/http/wire/history-response.js';
import { cmdStyleFor } from '../../src/http/wire/response.js';
import type { Ledger } from '../../src/store/ledger.js';
import { postJson, sampleBody, sampleSpec, testApp } from '../fixtures.js';

const T0 = Date.UTC(2024, 4, 7, 15, 2, 11);

async function json(res: Response | Promise<Response>): Promise<Record<string, unknown>> {
  return (await (await res).json()) as Record<string, unknown>;
}

/** A finished run of `jid` written straight into the ledger. */
async function finishedRun(ledger: Ledger, jid: string, logs = 'one\ntwo\nthree\n'): Promise<void> {
  const { runId } = await ledger.intake({
    jid,
    spec: sampleSpec({ name: jid, command: ['echo', 'a b'] }),
    fingerprint: 'f',
    auid: 'cube',
  });
  await ledger.finish(runId, {
    status: 'finishedWithError',
    message: 'exit code 3',
    exitCode: 3,
    logs,
    at: T0,
  });
}

describe('GET /api/v1/history/', () => {
  it('lists runs newest first with every key, times RFC 3339 UTC or null', async () => {
    const { app, ledger } = await testApp();
    await finishedRun(ledger, 'job-1');
    const res = await app.request('/api/v1/history/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await json(res);
    expect(body.next).toBeNull();
    const runs = body.runs as Array<Record<string, unknown>>;
    expect(runs).toHaveLength(1);
    expect(Object.keys(runs[0] ?? {})).toEqual([
      'jid',
      'run',
      'status',
      'message',
      'exit_code',
      'image',
      'cmd',
      'auid',
      'created',
      'started',
      'finished',
      'removed',
    ]);
    expect(runs[0]).toMatchObject({
      jid: 'job-1',
      run: 1,
      status: 'finishedWithError',
      message: 'exit code 3',
      exit_code: 3,
      cmd: 'echo a b',
      auid: 'cube',
      finished: '2024-05-07T15:02:11.000Z',
      removed: null,
    });
    expect(runs[0]?.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('renders cmd as the job object does: shell-quoted for Docker, joined elsewhere', async () => {
    const { ledger } = await testApp();
    await finishedRun(ledger, 'job-1');
    const [run] = ledger.runsOf('job-1');
    if (run === undefined) throw new Error('no run');
    expect(toWireRun(run, cmdStyleFor('docker')).cmd).toBe("echo 'a b'");
    expect(toWireRun(run, cmdStyleFor('swarm')).cmd).toBe('echo a b');
  });

  it('pages with limit and cursor until next is null', async () => {
    const { app, ledger } = await testApp();
    for (let i = 0; i < 5; i++) await finishedRun(ledger, `job-${i}`);
    const seen: string[] = [];
    let url = '/api/v1/history/?limit=2';
    for (let pages = 0; pages < 10; pages++) {
      const body = await json(app.request(url));
      seen.push(...(body.runs as Array<{ jid: string }>).map((r) => r.jid));
      if (typeof body.next !== 'string') break;
      url = `/api/v1/history/?limit=2&cursor=${encodeURIComponent(body.next)}`;
    }
    expect(seen).toEqual(['job-4', 'job-3', 'job-2', 'job-1', 'job-0']);
  });

  it('filters by jid, status, auid and time', async () => {
    const { app, ledger } = await testApp();
    await finishedRun(ledger, 'a');
    await ledger.intake({ jid: 'b', spec: sampleSpec({ name: 'b' }), fingerprint: 'f' });
    const jids = async (q: string) =>
      ((await json(app.request(`/api/v1/history/?${q}`))).runs as Array<{ jid: string }>).map(
        (r) => r.jid,
      );
    expect(await jids('jid=a')).toEqual(['a']);
    expect(await jids('status=notstarted')).toEqual(['b']);
    expect(await jids('auid=cube')).toEqual(['a']);
    expect(await jids('since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00%2B02:00')).toEqual([
      'b',
      'a',
    ]);
    expect(await jids('until=2000-01-01T00:00:00Z')).toEqual([]);
  });

  it.each([
    [
      'foo=1&bar=2',
      {
        foo: expect.stringContaining('not a parameter') as string,
        bar: expect.any(String) as string,
      },
    ],
    ['limit=0', { limit: 'must be an integer from 1 to 1000, got "0"' }],
    ['limit=1001', { limit: 'must be an integer from 1 to 1000, got "1001"' }],
    ['limit=ten', { limit: 'must be an integer from 1 to 1000, got "ten"' }],
    ['since=yesterday', { since: expect.stringContaining('RFC 3339') as string }],
    ['until=2024-05-07', { until: expect.stringContaining('RFC 3339') as string }],
    ['status=done', { status: 'done is not a valid choice' }],
    ['cursor=nonsense', { cursor: 'is not a cursor this server handed out' }],
    ['jid=', { jid: 'must not be empty' }],
  ])('?%s → 400 naming the parameter', async (q, message) => {
    const { app } = await testApp();
    const res = await app.request(`/api/v1/history/?${q}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ message });
  });

  it('allows GET, HEAD, OPTIONS only', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/history/', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });
});

describe('GET /api/v1/history/<jid>/', () => {
  it('lists every run of the jid, oldest first', async () => {
    const { app, ledger } = await testApp();
    await finishedRun(ledger, 'job-1');
    await finishedRun(ledger, 'job-1');
    const body = await json(app.request('/api/v1/history/job-1/'));
    expect(body.jid).toBe('job-1');
    expect((body.runs as Array<{ run: number }>).map((r) => r.run)).toEqual([1, 2]);
  });

  it('404 for a jid with no runs', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/history/nobody/');
    expect(res.status).toBe(404);
    expect(((await json(res)).message as string).includes('nobody')).toBe(true);
  });

  it('a job named "logs" has its history here, not the logs of a job "history"', async () => {
    const { app, ledger } = await testApp();
    await finishedRun(ledger, 'logs');
    const res = await app.request('/api/v1/history/logs/');
    expect(res.status).toBe(200);
    expect((await json(res)).jid).toBe('logs');
  });

  it('keeps the run after DELETE, marked removed; a new POST is run 2', async () => {
    const { app } = await testApp();
    expect((await postJson(app, sampleBody({ jid: 'job-9' }))).status).toBe(201);
    expect((await app.request('/api/v1/job-9/', { method: 'DELETE' })).status).toBe(204);
    expect((await app.request('/api/v1/job-9/')).status).toBe(404);
    const before = (await json(app.request('/api/v1/history/job-9/'))).runs as Array<{
      removed: string | null;
    }>;
    expect(before).toHaveLength(1);
    expect(before[0]?.removed).toMatch(/Z$/);
    expect((await postJson(app, sampleBody({ jid: 'job-9' }))).status).toBe(201);
    const after = (await json(app.request('/api/v1/history/job-9/'))).runs as Array<{
      run: number;
    }>;
    expect(after.map((r) => r.run)).toEqual([1, 2]);
  });
});

describe('GET /api/v1/history/<jid>/<run>/logs/', () => {
  it('answers the archived log as text/plain, ?tail=N its last lines', async () => {
    const { app, ledger } = await testApp();
    await finishedRun(ledger, 'job-1');
    const res = await app.request('/api/v1/history/job-1/1/logs/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('one\ntwo\nthree\n');
    expect(await (await app.request('/api/v1/history/job-1/1/logs/?tail=2')).text()).toBe(
      'two\nthree\n',
    );
    expect(await (await app.request('/api/v1/history/job-1/1/logs/?tail=0')).text()).toBe('');
  });

  it('404 for an unknown run, 400 for a run that is not a number, 400 for a bad tail', async () => {
    const { app, ledger } = await testApp();
    await finishedRun(ledger, 'job-1');
    expect((await app.request('/api/v1/history/job-1/2/logs/')).status).toBe(404);
    const bad = await app.request('/api/v1/history/job-1/first/logs/');
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({
      message: { run: 'must be a run number (1, 2, …), got "first"' },
    });
    const tail = await app.request('/api/v1/history/job-1/1/logs/?tail=-1');
    expect(tail.status).toBe(400);
  });
});

describe('reserved jids', () => {
  it.each(['history', 'events', 'queue', 'capacity', 'images', 'jobs'])(
    'a POST with jid "%s" → 400 naming the reserved word',
    async (jid) => {
      const { app } = await testApp();
      const res = await postJson(app, sampleBody({ jid }));
      expect(res.status).toBe(400);
      expect(JSON.stringify(await json(res))).toContain(`\\"${jid}\\" is reserved`);
    },
  );
});
