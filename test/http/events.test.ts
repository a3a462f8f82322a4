// The push routes (issue 12) through app.request() on the memory backend: GET /api/v1/events/
// (live, replay with since/Last-Event-ID and no gap or duplicate at the seam, filters, 400s, reset,
// heartbeat, a client too far behind dropped without holding others back), GET /api/v1/<jid>/events/
// (finished and live runs, then end) and GET /api/v1/<jid>/logs/?follow=1.
import { describe, expect, it } from 'vitest';
import { postJson, sampleBody, testApp } from '../fixtures.js';
import type { TestApp } from '../fixtures.js';
import { SseReader, statusOf } from './sse-reader.js';

async function submit(t: TestApp, jid: string): Promise<void> {
  const res = await postJson(t.app, sampleBody({ jid }));
  expect(res.status).toBe(201);
}

async function open(t: TestApp, path: string, headers: Record<string, string> = {}) {
  const res = await t.app.request(path, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  return new SseReader(res);
}

/** Runs jid through started to its end on the memory backend; each step recorded by the watch. */
async function run(t: TestApp, jid: string, exitCode: number): Promise<void> {
  await submit(t, jid);
  t.backend.start(jid, 'hello\n');
  await settle();
  t.backend.finish(jid, exitCode, 'hello\nbye\n');
  await settle();
}

/** Lets the watch's records reach the ledger's group commit. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('GET /api/v1/events/', () => {
  it('streams every status change of every run, in seq order, with the documented JSON', async () => {
    const t = await testApp();
    const sse = await open(t, '/api/v1/events/');
    await run(t, 'job-a', 0);
    await run(t, 'job-b', 3);
    const frames = await sse.take(6);
    const events = frames.map(statusOf);
    expect(frames.every((f) => f.event === 'status' && f.id === String(statusOf(f).seq))).toBe(
      true,
    );
    expect(events.map((e) => [e.jid, e.run, e.status])).toEqual([
      ['job-a', 1, 'notstarted'],
      ['job-a', 1, 'started'],
      ['job-a', 1, 'finishedSuccessfully'],
      ['job-b', 1, 'notstarted'],
      ['job-b', 1, 'started'],
      ['job-b', 1, 'finishedWithError'],
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Object.keys(events[0] ?? {})).toEqual([
      'seq',
      'jid',
      'run',
      'status',
      'message',
      'timestamp',
    ]);
    expect(events[5]?.message).toBe('exited with code 3');
    expect(events[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await sse.cancel();
  });

  it('replays after since=, then continues live with no gap and no duplicate', async () => {
    const t = await testApp();
    await run(t, 'job-a', 0);
    await submit(t, 'job-b');
    const sse = await open(t, '/api/v1/events/?since=2');
    // Written while the replay is under way: each arrives once, in order.
    t.backend.start('job-b');
    await settle();
    t.backend.finish('job-b', 0);
    const seqs = (await sse.take(4)).map((f) => statusOf(f).seq);
    expect(seqs).toEqual([3, 4, 5, 6]);
    await sse.cancel();
  });

  it('Last-Event-ID wins over since= (a reconnecting EventSource keeps its URL)', async () => {
    const t = await testApp();
    await run(t, 'job-a', 0);
    await run(t, 'job-b', 0);
    const sse = await open(t, '/api/v1/events/?since=0', { 'Last-Event-ID': '4' });
    expect((await sse.take(2)).map((f) => statusOf(f).seq)).toEqual([5, 6]);
    await sse.cancel();
  });

  it('filters by jid (repeatable) and status', async () => {
    const t = await testApp();
    await run(t, 'job-a', 0);
    await run(t, 'job-b', 3);
    await run(t, 'job-c', 0);
    const byJid = await open(t, '/api/v1/events/?since=0&jid=job-a&jid=job-c');
    expect((await byJid.take(6)).map((f) => statusOf(f).jid)).toEqual([
      'job-a',
      'job-a',
      'job-a',
      'job-c',
      'job-c',
      'job-c',
    ]);
    await byJid.cancel();
    const byStatus = await open(t, '/api/v1/events/?since=0&status=finishedWithError');
    expect((await byStatus.take(1)).map((f) => statusOf(f).jid)).toEqual(['job-b']);
    await byStatus.cancel();
  });

  it('answers 400 naming unknown parameters and bad values', async () => {
    const t = await testApp();
    const unknown = await t.app.request('/api/v1/events/?jids=a&limit=3');
    expect(unknown.status).toBe(400);
    const text = await unknown.text();
    expect(text).toContain('jids');
    expect(text).toContain('limit');
    expect((await t.app.request('/api/v1/events/?since=-1')).status).toBe(400);
    expect((await t.app.request('/api/v1/events/?status=done')).status).toBe(400);
    const header = await t.app.request('/api/v1/events/', { headers: { 'Last-Event-ID': 'x' } });
    expect(header.status).toBe(400);
    expect(await header.text()).toContain('Last-Event-ID');
  });

  it('starts with event: reset when since is not in the store (pruned, or from another one)', async () => {
    const t = await testApp();
    await run(t, 'job-a', 0);
    const sse = await open(t, '/api/v1/events/?since=99');
    const [reset] = await sse.take(1);
    expect(reset?.event).toBe('reset');
    expect(JSON.parse(reset?.data ?? '')).toEqual({ oldest: 1, last: 3 });
    await sse.cancel();
  });

  it('sends a comment line when idle', async () => {
    const t = await testApp({ streams: { heartbeatMs: 30 } });
    const sse = await open(t, '/api/v1/events/');
    // Read while idle: a heartbeat goes only to a client that keeps up.
    const first = sse.take(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await run(t, 'job-a', 0);
    await first;
    // The opening comment, then at least one heartbeat.
    expect(sse.comments).toBeGreaterThanOrEqual(2);
    await sse.cancel();
  });

  it('drops a client that falls behind the bound; the others get everything', async () => {
    const t = await testApp({ streams: { maxBuffered: 5 } });
    const stalled = await open(t, '/api/v1/events/');
    const reading = await open(t, '/api/v1/events/');
    const seen: number[] = [];
    const readAll = (async () => {
      for (;;) {
        const frame = await reading.next();
        if (frame === undefined) return;
        seen.push(statusOf(frame).seq);
        if (seen.length === 12) return;
      }
    })();
    for (const jid of ['a', 'b', 'c', 'd']) await run(t, `job-${jid}`, 0);
    await readAll;
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // The stalled one: what it had been handed, then the end (it resumes with Last-Event-ID).
    const got = await stalled.rest();
    expect(got.length).toBeLessThanOrEqual(6);
    expect(stalled.done).toBe(true);
    await reading.cancel();
  });
});

describe('GET /api/v1/<jid>/events/', () => {
  it('a finished run: its status events, its log lines, then end and the stream closes', async () => {
    const t = await testApp();
    await run(t, 'job-a', 3);
    const sse = await open(t, '/api/v1/job-a/events/');
    const frames = await sse.rest();
    expect(
      frames.map((f) => [f.event, f.event === 'status' ? statusOf(f).status : f.data]),
    ).toEqual([
      ['status', 'notstarted'],
      ['status', 'started'],
      ['status', 'finishedWithError'],
      ['log', 'hello'],
      ['log', 'bye'],
      ['end', '{"jid":"job-a","run":1,"status":"finishedWithError","exit_code":3}'],
    ]);
  });

  it('a live run: replay, then status changes and log lines as they come, then end', async () => {
    const t = await testApp();
    await submit(t, 'job-a');
    t.backend.start('job-a', 'one\n');
    await settle();
    const sse = await open(t, '/api/v1/job-a/events/');
    const first = await sse.take(3);
    expect(first.map((f) => f.event).sort()).toEqual(['log', 'status', 'status']);
    t.backend.print('job-a', 'two\n');
    expect(await sse.take(1)).toEqual([{ event: 'log', data: 'two' }]);
    t.backend.finish('job-a', 0, 'one\ntwo\n');
    const rest = await sse.rest();
    expect(rest.map((f) => f.event)).toEqual(['status', 'end']);
    expect(statusOf(rest[0] ?? { event: '', data: '{}' }).status).toBe('finishedSuccessfully');
  });

  it('404 for a jid without runs; 400 for any parameter', async () => {
    const t = await testApp();
    expect((await t.app.request('/api/v1/nope/events/')).status).toBe(404);
    await run(t, 'job-a', 0);
    expect((await t.app.request('/api/v1/job-a/events/?since=1')).status).toBe(400);
  });
});

describe('GET /api/v1/<jid>/logs/?follow=1', () => {
  it('sends what exists, then new output as written, and ends when the job ends', async () => {
    const t = await testApp();
    await submit(t, 'job-a');
    t.backend.start('job-a', 'one\n');
    await settle();
    const res = await t.app.request('/api/v1/job-a/logs/?follow=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const read = async () => {
      const r = await reader.read();
      return r.done ? undefined : decoder.decode(r.value);
    };
    expect(await read()).toBe('one\n');
    t.backend.print('job-a', 'two\n');
    expect(await read()).toBe('two\n');
    t.backend.print('job-a', 'three\n');
    t.backend.finish('job-a', 0);
    let rest = '';
    for (let chunk = await read(); chunk !== undefined; chunk = await read()) rest += chunk;
    expect(rest).toBe('three\n');
  });

  it('&tail=N starts from the last N lines; a finished job answers what exists and ends', async () => {
    const t = await testApp();
    await submit(t, 'job-a');
    t.backend.start('job-a', 'one\ntwo\nthree\n');
    await settle();
    const res = await t.app.request('/api/v1/job-a/logs/?follow=1&tail=1');
    const body = res.text();
    await settle();
    t.backend.print('job-a', 'four\n');
    t.backend.finish('job-a', 0);
    expect(await body).toBe('three\nfour\n');
    const done = await t.app.request('/api/v1/job-a/logs/?follow=1');
    expect(await done.text()).toBe('one\ntwo\nthree\nfour\n');
    expect((await t.app.request('/api/v1/job-a/logs/?follow=maybe')).status).toBe(400);
  });
});
