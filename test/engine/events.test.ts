// Issue 12 on the real engine through the real server: the event stream of 20 busybox jobs (half
// exit 0, half exit 3) — each run's statuses in order ending in exactly one terminal event of the
// right kind, seq strictly increasing; a client that reconnects with Last-Event-ID from the middle
// gets no gap and no duplicate; logs/?follow=1 on Docker and Swarm (a line every 200 ms): the first
// line within 1 s of the start, the end within 2 s of the exit, the bytes those of the engine's log.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseReader, statusOf } from '../http/sse-reader.js';
import type { StatusData } from '../http/sse-reader.js';
import { requireEngine } from './engine-available.js';
import { startServer, type ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const engineUp = await requireEngine();
const TERMINAL = new Set(['finishedSuccessfully', 'finishedWithError']);

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' });
}

async function post(url: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}/api/v1/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

async function sse(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  expect(res.status).toBe(200);
  return new SseReader(res);
}

for (const backend of ['docker', 'swarm'] as const) {
  describe.skipIf(!engineUp)(`events and live logs on ${backend}`, () => {
    const run = `ev-${backend.slice(0, 2)}-${randomBytes(3).toString('hex')}`;
    let storeBase: string;
    let server: ServerProcess;
    const jids: string[] = [];

    async function submit(id: string, script: string): Promise<void> {
      await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
      jids.push(id);
      const status = await post(server.url, shellJobBody(id, script));
      expect(status).toBe(201);
    }

    beforeAll(async () => {
      storeBase = await mkdtemp(path.join(tmpdir(), `pman-events-${backend}-`));
      server = await startServer({
        STATE_DIR: path.join(storeBase, '.pman-state'),
        CONTAINER_ENV: backend,
        STORAGE_TYPE: 'host',
        STOREBASE: storeBase,
        JOB_LABELS: `pman-events=${run}`,
        ...(backend === 'swarm' && { JOB_NETWORK: `${run}-jobs` }),
      });
    });

    afterAll(async () => {
      for (const id of jids) {
        try {
          if (backend === 'swarm') docker('service', 'rm', id);
          else docker('container', 'rm', '-f', id);
        } catch {
          // already gone
        }
      }
      await server?.stop();
      await rm(storeBase, { recursive: true, force: true });
      if (backend === 'swarm') {
        for (let i = 0; i < 30; i++) {
          try {
            docker('network', 'rm', `${run}-jobs`);
            break;
          } catch (err) {
            if (/No such network|not found/i.test(String(err))) break;
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        }
      }
    });

    it('20 jobs: each run ends in exactly one terminal event; a reconnect from the middle has no gap and no duplicate', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `${run}-j${i}`);
      const filter = ids.map((id) => `jid=${id}`).join('&');
      const whole = await sse(`${server.url}/api/v1/events/?${filter}`);
      const part = await sse(`${server.url}/api/v1/events/?${filter}`);
      await Promise.all(ids.map((id, i) => submit(id, `echo ${id}; exit ${i % 2 === 0 ? 0 : 3}`)));

      const events: StatusData[] = [];
      const finished = new Set<string>();
      while (finished.size < ids.length) {
        const frame = await whole.next(90_000);
        if (frame === undefined) throw new Error('the stream ended');
        expect(frame.event).toBe('status');
        const event = statusOf(frame);
        expect(frame.id).toBe(String(event.seq));
        events.push(event);
        if (TERMINAL.has(event.status)) finished.add(event.jid);
      }
      // Strictly increasing seq, every event of our runs once.
      for (let i = 1; i < events.length; i++) {
        expect(events[i]?.seq).toBeGreaterThan(events[i - 1]?.seq ?? 0);
      }
      ids.forEach((id, i) => {
        const mine = events.filter((e) => e.jid === id);
        expect(mine[0]?.status).toBe('notstarted');
        expect(mine.every((e) => e.run === 1)).toBe(true);
        const terminal = mine.filter((e) => TERMINAL.has(e.status));
        expect(terminal).toHaveLength(1);
        expect(mine.at(-1)).toEqual(terminal[0]);
        expect(terminal[0]?.status).toBe(
          i % 2 === 0 ? 'finishedSuccessfully' : 'finishedWithError',
        );
      });

      // The second client read half, left, and came back with Last-Event-ID.
      const half = Math.floor(events.length / 2);
      const first = (await part.take(half, 30_000)).map(statusOf);
      await part.cancel();
      const last = first.at(-1)?.seq ?? 0;
      const again = await sse(`${server.url}/api/v1/events/?${filter}`, {
        'Last-Event-ID': String(last),
      });
      const rest = (await again.take(events.length - half, 30_000)).map(statusOf);
      await again.cancel();
      expect([...first, ...rest].map((e) => e.seq)).toEqual(events.map((e) => e.seq));
      await whole.cancel();
    }, 180_000);

    it('logs/?follow=1: the first line within 1 s, the end within 2 s of the exit, the engine’s bytes', async () => {
      const id = `${run}-follow`;
      await submit(id, 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i"; sleep 0.2; done');
      const res = await fetch(`${server.url}/api/v1/${id}/logs/?follow=1`);
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const chunks: Uint8Array[] = [];
      let firstAt: number | undefined;
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        firstAt ??= Date.now();
        chunks.push(r.value);
      }
      const endedAt = Date.now();
      const bytes = Buffer.concat(chunks);
      let startedAt: number;
      let finishedAt: number;
      let engineLog: string;
      if (backend === 'docker') {
        const [started, finished] = docker(
          'inspect',
          '-f',
          '{{.State.StartedAt}} {{.State.FinishedAt}}',
          id,
        )
          .trim()
          .split(' ');
        startedAt = Date.parse(started ?? '');
        finishedAt = Date.parse(finished ?? '');
        engineLog = docker('logs', id);
      } else {
        const task = docker('service', 'ps', '--no-trunc', '-q', id).trim().split('\n')[0] ?? '';
        // The task's container (this one-node swarm) has the engine's start and exit times.
        const container = docker(
          'inspect',
          '-f',
          '{{.Status.ContainerStatus.ContainerID}}',
          task,
        ).trim();
        const [started, finished] = docker(
          'inspect',
          '-f',
          '{{.State.StartedAt}} {{.State.FinishedAt}}',
          container,
        )
          .trim()
          .split(' ');
        startedAt = Date.parse(started ?? '');
        finishedAt = Date.parse(finished ?? '');
        engineLog = docker('service', 'logs', '--raw', id);
      }
      expect(bytes.toString('utf8')).toBe(engineLog);
      expect(bytes.toString('utf8')).toContain('line 10');
      expect((firstAt ?? Infinity) - startedAt).toBeLessThan(1000);
      expect(endedAt - finishedAt).toBeLessThan(2000);
    }, 120_000);
  });
}
