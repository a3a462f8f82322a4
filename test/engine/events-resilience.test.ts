// Issue 12 on the real Docker engine: the event stream through an engine outage (the server's
// Docker socket cut and restored by a loopback proxy: the stream stays open, heartbeats go on,
// and what happened meanwhile arrives once the view resyncs) and through a server SIGKILL and
// restart on the same STATE_DIR (seqs continue, never reused; Last-Event-ID resumes with no gap
// and no duplicate).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SseReader, statusOf } from '../http/sse-reader.js';
import type { StatusData } from '../http/sse-reader.js';
import { requireEngine } from './engine-available.js';
import { startEngineProxy } from './reliability/engine-proxy.js';
import type { EngineProxy } from './reliability/engine-proxy.js';
import { startServer, type ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const engineUp = await requireEngine();
const TERMINAL = new Set(['finishedSuccessfully', 'finishedWithError']);

function jobBody(id: string, script: string): Record<string, unknown> {
  return shellJobBody(id, script);
}

async function sse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const res = await fetch(url, { headers });
  expect(res.status).toBe(200);
  return new SseReader(res);
}

/** Status events until `done` says the list is complete (each wait bounded). */
async function collect(
  reader: SseReader,
  done: (events: StatusData[]) => boolean,
  timeoutMs: number,
): Promise<StatusData[]> {
  const events: StatusData[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(events)) {
    const frame = await reader.next(Math.max(1, deadline - Date.now()));
    if (frame === undefined) throw new Error(`the stream ended after ${events.length} events`);
    if (frame.event !== 'status') continue;
    const event = statusOf(frame);
    expect(frame.id).toBe(String(event.seq));
    events.push(event);
  }
  return events;
}

const terminalOf = (events: StatusData[], jid: string): StatusData | undefined =>
  events.find((e) => e.jid === jid && TERMINAL.has(e.status));

describe.skipIf(!engineUp)('the event stream through engine outages and server crashes', () => {
  const run = `evr-${randomBytes(3).toString('hex')}`;
  let storeBase: string;
  const jids: string[] = [];
  let server: ServerProcess | undefined;
  let proxy: EngineProxy | undefined;
  const readers: SseReader[] = [];

  async function submit(s: ServerProcess, id: string, script: string): Promise<void> {
    await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
    jids.push(id);
    const res = await fetch(`${s.url}/api/v1/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(jobBody(id, script)),
    });
    await res.text();
    expect(res.status).toBe(201);
  }

  function env(stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      STATE_DIR: stateDir,
      CONTAINER_ENV: 'docker',
      STORAGE_TYPE: 'host',
      STOREBASE: storeBase,
      JOB_LABELS: `pman-events=${run}`,
      ...extra,
    };
  }

  beforeAll(async () => {
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-events-resilience-'));
  });

  afterEach(async () => {
    for (const r of readers.splice(0)) await r.cancel().catch(() => undefined);
    await server?.stop('SIGKILL');
    server = undefined;
    await proxy?.close();
    proxy = undefined;
  });

  afterAll(async () => {
    for (const id of jids) {
      try {
        execFileSync('docker', ['container', 'rm', '-f', id], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    await rm(storeBase, { recursive: true, force: true });
  });

  it('engine down and up mid-stream: the stream stays open and delivers what happened meanwhile', async () => {
    proxy = await startEngineProxy();
    const s = await startServer(
      env(path.join(storeBase, 'state-outage'), { DOCKER_HOST: proxy.dockerHost }),
    );
    server = s;
    const ends = `${run}-ends`;
    const during = `${run}-during`;
    const reader = await sse(`${s.url}/api/v1/events/?jid=${ends}&jid=${during}`);
    readers.push(reader);
    await submit(s, ends, 'sleep 3; echo ended-while-down; exit 3');
    await collect(reader, (ev) => ev.some((e) => e.jid === ends && e.status === 'started'), 30_000);

    await proxy.down();
    // Accepted while the engine is away (issue 11): its notstarted event is in the store at once.
    await submit(s, during, 'echo created-after-the-outage');
    const whileDown = await collect(reader, (ev) => ev.some((e) => e.jid === during), 10_000);
    expect(whileDown.map((e) => e.status)).toEqual(['notstarted']);
    // Longer than the 15 s heartbeat, and long enough for the first job to exit unseen.
    await new Promise((r) => setTimeout(r, 17_000));
    expect(reader.done).toBe(false);
    await proxy.up();

    const after = await collect(
      reader,
      (ev) => terminalOf(ev, ends) !== undefined && terminalOf(ev, during) !== undefined,
      90_000,
    );
    // ':ok' at the start plus the heartbeat sent during the 17 s of silence (read only now: the
    // reader parses what the stream buffered as it reaches it).
    expect(reader.comments).toBeGreaterThanOrEqual(2);
    expect(terminalOf(after, ends)?.status).toBe('finishedWithError');
    expect(terminalOf(after, during)?.status).toBe('finishedSuccessfully');
    for (const jid of [ends, during])
      expect(after.filter((e) => e.jid === jid && TERMINAL.has(e.status))).toHaveLength(1);
    const seqs = [...whileDown, ...after].map((e) => e.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? 0);
  }, 180_000);

  it('SIGKILL and restart: seqs continue, never reused; Last-Event-ID resumes with no gap and no duplicate', async () => {
    const stateDir = path.join(storeBase, 'state-crash');
    const first = await startServer(env(stateDir));
    server = first;
    const before = Array.from({ length: 4 }, (_, i) => `${run}-b${i}`);
    const live = await sse(`${first.url}/api/v1/events/`);
    readers.push(live);
    await Promise.all(before.map((id) => submit(first, id, `echo ${id}; exit 0`)));
    const seen = await collect(
      live,
      (ev) => before.every((id) => terminalOf(ev, id) !== undefined),
      90_000,
    );
    // Killed with two more jobs just accepted: their events may or may not have been delivered.
    const racing = [`${run}-r0`, `${run}-r1`];
    await Promise.all(racing.map((id) => submit(first, id, 'sleep 2; echo racing')));
    await first.stop('SIGKILL');
    server = undefined;
    const lastSeen = Math.max(...seen.map((e) => e.seq));

    const second = await startServer(env(stateDir));
    server = second;
    const afterRestart = [`${run}-a0`, `${run}-a1`];
    await Promise.all(afterRestart.map((id) => submit(second, id, `echo ${id}; exit 3`)));
    const wanted = [...racing, ...afterRestart];
    // The whole log, replayed: every seq delivered before the kill is there with the same event.
    const full = await collect(
      await sse(`${second.url}/api/v1/events/?since=0`),
      (ev) => wanted.every((id) => terminalOf(ev, id) !== undefined),
      90_000,
    );
    const bySeq = new Map(full.map((e) => [e.seq, e]));
    for (const e of seen) expect(bySeq.get(e.seq)).toEqual(e);
    const fullSeqs = full.map((e) => e.seq);
    expect(new Set(fullSeqs).size).toBe(fullSeqs.length);
    for (let i = 1; i < fullSeqs.length; i++)
      expect(fullSeqs[i]).toBeGreaterThan(fullSeqs[i - 1] ?? 0);
    // What was written after the restart got seqs above anything handed out before.
    const newOnes = full.filter((e) => afterRestart.includes(e.jid));
    expect(newOnes.length).toBeGreaterThan(0);
    for (const e of newOnes) expect(e.seq).toBeGreaterThan(lastSeen);

    // A client that saw up to the middle of the first server's events resumes on the second one.
    const middle = seen[Math.floor(seen.length / 2)]?.seq ?? 0;
    const resumed = await sse(`${second.url}/api/v1/events/`, { 'Last-Event-ID': String(middle) });
    readers.push(resumed);
    const expected = full.filter((e) => e.seq > middle);
    const got = await collect(resumed, (ev) => ev.length >= expected.length, 30_000);
    expect(got).toEqual(expected);
  }, 240_000);
});
