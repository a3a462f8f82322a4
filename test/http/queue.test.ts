// The fair queue on the wire (issue 13): a POST over MAX_RUNNING answers 201 notstarted with
// "queued (position n)", GET of the job says its current position, GET /api/v1/queue/ lists the
// queued jobs in start order with positions (and refuses parameters), and a job's history shows
// each attempt of a retried run.
import { describe, expect, it } from 'vitest';
import { holds as until, postJson, sampleBody, testApp } from '../fixtures.js';

async function json(res: Response | Promise<Response>): Promise<Record<string, unknown>> {
  return (await (await res).json()) as Record<string, unknown>;
}

function body(jid: string, overrides: Record<string, unknown> = {}) {
  return sampleBody({
    jid,
    input_dir: `key-${jid}/incoming`,
    output_dir: `key-${jid}/outgoing`,
    ...overrides,
  });
}

describe('GET /api/v1/queue/', () => {
  it('lists queued jobs in start order with positions; a POST over the cap says its position', async () => {
    const { app, backend } = await testApp({ config: { queue: { maxRunning: 1 } } });
    expect((await postJson(app, body('a'))).status).toBe(201);
    const b = await postJson(app, body('b', { auid: 'alice' }));
    expect(b.status).toBe(201);
    expect(await json(b)).toMatchObject({ status: 'notstarted', message: 'queued (position 1)' });
    await postJson(app, body('c', { auid: 'alice' }));
    const d = await json(postJson(app, body('d', { auid: 'bob', priority: 3 })));
    expect(d.message).toBe('queued (position 1)');

    const res = await app.request('/api/v1/queue/');
    expect(res.status).toBe(200);
    const listed = await json(res);
    expect(listed.running).toBe(1);
    expect(listed.caps).toEqual({ max_running: 1, max_running_per_auid: null, max_gpus: null });
    const queue = listed.queue as Array<Record<string, unknown>>;
    expect(queue.map((q) => [q.position, q.jid, q.auid, q.priority])).toEqual([
      [1, 'd', 'bob', 3],
      [2, 'b', 'alice', 0],
      [3, 'c', 'alice', 0],
    ]);
    expect(queue[0]).toMatchObject({ run: 1, gpus: 0, not_before: null });
    expect(await json(app.request('/api/v1/c/'))).toMatchObject({
      status: 'notstarted',
      message: 'queued (position 3)',
    });

    backend.finish('a', 0);
    await until(async () => (await backend.list()).some((i) => i.name === 'd'), 'd admitted');
    const after = (await json(app.request('/api/v1/queue/'))).queue as Array<{ jid: string }>;
    expect(after.map((q) => q.jid)).toEqual(['b', 'c']);
  });

  it('is empty without caps, and refuses parameters (400 naming them)', async () => {
    const { app } = await testApp();
    await postJson(app, body('a'));
    expect(await json(app.request('/api/v1/queue/'))).toMatchObject({ queue: [], running: 1 });
    const bad = await app.request('/api/v1/queue/?status=queued');
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({
      message: { status: 'is not a parameter of this route (it has none)' },
    });
  });
});

describe('retries in the history', () => {
  it('shows each attempt of a retried run, with its exit code and log', async () => {
    const { app, backend } = await testApp();
    const created = await postJson(app, body('r', { retries: { limit: 1, backoff_seconds: 0 } }));
    expect(created.status).toBe(201);
    backend.finish('r', 3, 'first\n');
    await until(
      async () => (await backend.list()).some((i) => i.name === 'r' && i.status === 'notstarted'),
      'attempt 2 created',
    );
    backend.finish('r', 0, 'second\n');
    await until(
      async () => (await json(app.request('/api/v1/r/'))).status === 'finishedSuccessfully',
      'finished',
    );
    const history = await json(app.request('/api/v1/history/r/'));
    const runs = history.runs as Array<{ attempts: Array<Record<string, unknown>> }>;
    expect(runs).toHaveLength(1);
    expect(runs[0]?.attempts.map((a) => [a.attempt, a.status, a.exit_code])).toEqual([
      [1, 'finishedWithError', 3],
      [2, 'finishedSuccessfully', 0],
    ]);
    expect(await (await app.request('/api/v1/history/r/1/attempts/1/logs/')).text()).toBe(
      'first\n',
    );
    expect(await (await app.request('/api/v1/history/r/1/attempts/2/logs/')).text()).toBe(
      'second\n',
    );
    expect((await app.request('/api/v1/history/r/1/attempts/3/logs/')).status).toBe(404);
    const unknown = await app.request('/api/v1/history/r/1/attempts/1/logs/?lines=5');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({
      message: { lines: 'is not a parameter of this route (tail)' },
    });
    const zero = await app.request('/api/v1/history/r/1/attempts/0/logs/');
    expect(zero.status).toBe(400);
    expect(await zero.json()).toEqual({
      message: { attempt: 'must be an attempt number (1, 2, …), got "0"' },
    });
  });
});
