// Service jobs on a real engine (issue 15), through a server process on Docker and on Swarm
// (SERVICE_PUBLISH_MODE=host: the routing mesh refuses connections in this sandbox). A busybox
// `httpd -f -p 8080 -h /share/incoming` runs as a service job: it stays `notstarted` / `waiting for
// health check` while its health_path is missing — even though the server already answers — and
// turns `started` only once the file appears; its endpoint serves a file of the job's input folder
// on loopback; a restart of the server process reports the same endpoint, still `started`; DELETE
// removes it and frees the host port. A service whose command exits at once is restarted by the
// engine, never reported ended meanwhile, and ends `finishedWithError` after
// SERVICE_START_TIMEOUT_SECONDS saying why. A cancelled service stays stopped (no restart).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../contract/backend.contract.js';
import { requireEngine } from './engine-available.js';
import { removeNetworkOnceFree } from './swarm-network.js';
import { PODMAN_HOST, podman, requirePodman } from './podman-available.js';
import { callServer as call, startServer, type ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const engineUp = await requireEngine();
const podmanUp = await requirePodman();

type Json = Record<string, unknown>;

/** Long enough for httpd to come up on a loaded machine, short enough for the failing case. */
const START_TIMEOUT_SECONDS = 20;

/** A service job's create body: the test image with `entrypoint`, its data under key-<id>/. */
function serviceBody(id: string, entrypoint: string[], service: Json): Json {
  return shellJobBody(id, '', { entrypoint, service });
}

const HTTPD = ['httpd', '-f', '-p', '8080', '-h', '/share/incoming'];

/** GET `url` once: its status and body, or the connection error's code (ECONNREFUSED …). */
async function fetchOnce(url: string): Promise<{ status: number; text: string } | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause;
    return typeof cause?.code === 'string' ? cause.code : String(err);
  }
}

/** Whether `port` can be bound on 127.0.0.1 now (nothing else holds it). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The status events of a run that has ended (the route replays them, then `end`). */
async function statusEvents(url: string, id: string): Promise<string[]> {
  const res = await fetch(`${url}/api/v1/${id}/events/`, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const out: string[] = [];
  for (const block of text.split('\n\n')) {
    if (!/^event: status$/m.test(block)) continue;
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (data === undefined) continue;
    const e = JSON.parse(data) as { status: string; message: string };
    out.push(`${e.status}: ${e.message}`);
  }
  return out;
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

for (const backend of ['docker', 'podman', 'swarm'] as const) {
  const up = backend === 'podman' ? podmanUp : engineUp;
  /** The engine's own CLI: Podman's on its service's store, else Docker's. */
  const engineCli = backend === 'podman' ? podman : docker;
  /** One container per job (Docker, Podman) rather than a swarm service. */
  const containers = backend !== 'swarm';
  describe.skipIf(!up)(`service jobs on ${backend}`, { timeout: 240_000 }, () => {
    const run = `svc-${backend.slice(0, 2)}-${randomBytes(3).toString('hex')}`;
    let storeBase: string;
    let server: ServerProcess;
    let env: Record<string, string>;
    const jids: string[] = [];
    let n = 0;

    async function submit(entrypoint: string[], service: Json): Promise<string> {
      const id = `${run}-${++n}`;
      jids.push(id);
      await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
      const created = await call(
        `${server.url}/api/v1/`,
        'POST',
        serviceBody(id, entrypoint, service),
      );
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      expect(created.json).toMatchObject({ status: 'notstarted', endpoint: null });
      return id;
    }

    async function job(id: string): Promise<Json> {
      return (await call(`${server.url}/api/v1/${id}/`, 'GET')).json;
    }

    /** The engine's restart count; -1 when the CLI cannot read it right now (Podman's inspect
     *  fails while the container's process is being replaced: `read /proc/<pid>/cgroup`). */
    function restartCount(id: string): number {
      try {
        return Number(engineCli('inspect', id, '--format', '{{.RestartCount}}'));
      } catch {
        return -1;
      }
    }

    function incoming(id: string, file: string): string {
      return path.join(storeBase, `key-${id}`, 'incoming', file);
    }

    /** The host port the engine published the service's 8080 on (read from the engine itself). */
    function publishedPort(id: string): number | undefined {
      try {
        if (containers) {
          const line = engineCli('port', id, '8080/tcp').split('\n')[0] ?? '';
          const port = Number(/:(\d+)$/.exec(line)?.[1]);
          return port > 0 ? port : undefined;
        }
        const ports = docker(
          'service',
          'inspect',
          id,
          '--format',
          '{{range .Endpoint.Ports}}{{.PublishedPort}} {{end}}',
        );
        const port = Number(ports.split(' ')[0]);
        return port > 0 ? port : undefined;
      } catch {
        return undefined;
      }
    }

    beforeAll(async () => {
      storeBase = await mkdtemp(path.join(tmpdir(), `pman-svc-${backend}-`));
      env = {
        STATE_DIR: path.join(storeBase, '.pman-state'),
        CONTAINER_ENV: backend,
        STORAGE_TYPE: 'host',
        STOREBASE: storeBase,
        JOB_LABELS: `pman-svc=${run}`,
        IMAGE_PULL_WAIT_SECONDS: '10',
        CANCEL_GRACE_SECONDS: '2',
        SERVICE_START_TIMEOUT_SECONDS: String(START_TIMEOUT_SECONDS),
        ...(backend === 'podman' && { PODMAN_HOST }),
        ...(backend === 'swarm' && {
          JOB_NETWORK: `${run}-jobs`,
          SERVICE_PUBLISH_MODE: 'host',
        }),
      };
      server = await startServer(env);
    });

    afterAll(async () => {
      for (const id of jids) {
        try {
          if (containers) engineCli('rm', '-f', id);
          else docker('service', 'rm', id);
        } catch {
          // already gone
        }
      }
      await server?.stop();
      await rm(storeBase, { recursive: true, force: true });
      if (backend === 'swarm') {
        await removeNetworkOnceFree(`${run}-jobs`, 60_000).catch(() => undefined);
      }
    });

    it('waits for its health path, then serves the input folder on loopback; the same endpoint after a server restart; DELETE frees the port', async () => {
      const id = await submit(HTTPD, { port: 8080, health_path: '/ready.txt' });
      await writeFile(incoming(id, 'hello.txt'), `hello from ${id}\n`);

      const waiting = await until(
        `${id} waiting for its health check`,
        () => job(id),
        (j) => j.message === 'waiting for health check',
        90_000,
      );
      expect(waiting).toMatchObject({ status: 'notstarted', endpoint: null });

      // The server already answers on its published port, yet the job is not started: the health
      // path (missing: 404) decides, not the running container.
      const port = await until(
        `${id} published`,
        () => Promise.resolve(publishedPort(id)),
        (p) => p !== undefined,
        60_000,
      );
      const direct = `http://127.0.0.1:${port}`;
      await until(
        `${id} answering on ${direct}`,
        () => fetchOnce(`${direct}/hello.txt`),
        (r) => typeof r === 'object' && r.status === 200,
        60_000,
      );
      expect(await fetchOnce(`${direct}/ready.txt`)).toMatchObject({ status: 404 });
      expect(await job(id)).toMatchObject({
        status: 'notstarted',
        message: 'waiting for health check',
        endpoint: null,
      });

      await writeFile(incoming(id, 'ready.txt'), 'ok\n');
      const started = await until(
        `${id} started`,
        () => job(id),
        (j) => j.status === 'started',
        60_000,
      );
      expect(started.endpoint).toBe(direct);
      const served = await fetchOnce(`${String(started.endpoint)}/hello.txt`);
      expect(served).toStrictEqual({ status: 200, text: `hello from ${id}\n` });
      if (containers) {
        // Published on SERVICE_BIND_IP (loopback) only, with the engine's restart policy.
        const host = JSON.parse(engineCli('inspect', id, '--format', '{{json .HostConfig}}')) as {
          PortBindings: Record<string, { HostIp: string }[]>;
          RestartPolicy: { Name: string };
        };
        expect(host.PortBindings['8080/tcp']?.[0]?.HostIp).toBe('127.0.0.1');
        expect(host.RestartPolicy.Name).toBe('unless-stopped');
      }

      // A restart of the server over the same store: the same endpoint, still started.
      await server.stop();
      server = await startServer(env);
      const after = await job(id);
      expect(after).toMatchObject({ status: 'started', endpoint: direct });
      expect(await fetchOnce(`${direct}/hello.txt`)).toMatchObject({ status: 200 });
      const list = await call(`${server.url}/api/v1/jobs/`, 'GET');
      expect(JSON.stringify(list.json)).toContain(direct);

      // DELETE: the object is gone, nothing answers on the port, and it can be bound again.
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
      expect((await call(`${server.url}/api/v1/${id}/`, 'GET')).status).toBe(404);
      if (containers) {
        expect(engineCli('ps', '-a', '--filter', `name=^/?${id}$`, '--format', '{{.Names}}')).toBe(
          '',
        );
      } else {
        expect(docker('service', 'ls', '--filter', `name=${id}`, '--format', '{{.Name}}')).toBe('');
      }
      await until(
        `${direct} refusing connections`,
        () => fetchOnce(`${direct}/hello.txt`),
        (r) => r === 'ECONNREFUSED',
        60_000,
      );
      expect(await bindable(Number(port))).toBe(true);
    });

    it('a server the engine restarts after a crash keeps its endpoint and stays started', async () => {
      // httpd in the background, then a crash once `crash` appears in the input folder; the
      // restarted container finds `crashed` in its output folder and does not crash again.
      const script = [
        'httpd -p 8080 -h /share/incoming',
        'while [ ! -e /share/incoming/crash ] || [ -e /share/outgoing/crashed ]; do sleep 0.2; done',
        'touch /share/outgoing/crashed',
        'exit 3',
      ].join('; ');
      const id = await submit(['/bin/sh', '-c', script], { port: 8080 });
      await mkdir(path.join(storeBase, `key-${id}`, 'outgoing'), { recursive: true });
      await writeFile(incoming(id, 'hello.txt'), 'before\n');
      const started = await until(
        `${id} started`,
        () => job(id),
        (j) => j.status === 'started' && j.endpoint !== null,
        90_000,
      );
      const endpoint = String(started.endpoint);
      expect(await fetchOnce(`${endpoint}/hello.txt`)).toStrictEqual({
        status: 200,
        text: 'before\n',
      });
      await writeFile(incoming(id, 'crash'), '');
      if (containers) {
        await until(
          `${id} restarted by the engine`,
          () => Promise.resolve(restartCount(id)),
          (count) => count >= 1,
          60_000,
        );
      } else {
        // The crashed task stays listed with desired state shutdown; its replacement serves next.
        await until(
          `${id} restarted by the swarm`,
          () =>
            Promise.resolve(
              docker('service', 'ps', id, '--filter', 'desired-state=shutdown', '-q')
                .split('\n')
                .filter(Boolean).length,
            ),
          (count) => count >= 1,
          60_000,
        );
      }
      await writeFile(incoming(id, 'hello.txt'), 'after\n');
      // Served again by the restarted server, on the same endpoint; never reported ended.
      await until(
        `${id} serving again on ${endpoint}`,
        () => fetchOnce(`${endpoint}/hello.txt`),
        (r) => typeof r === 'object' && r.text === 'after\n',
        60_000,
      );
      const after = await until(
        `${id} running again`,
        () => job(id),
        (j) => j.message === 'running',
        60_000,
      );
      expect(after).toMatchObject({ status: 'started', endpoint });
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
      // Its only end is the DELETE's: the crash never ended the run.
      const events = await statusEvents(server.url, id);
      expect(events.filter((e) => e.startsWith('finished'))).toStrictEqual([
        'finishedWithError: removed by DELETE while started',
      ]);
    });

    it('a service whose command exits at once is restarted by the engine, then ends finishedWithError saying why', async () => {
      const id = await submit(['/bin/sh', '-c', 'echo crashing; exit 1'], { port: 8080 });
      if (containers) {
        // The engine restarts it (its own backoff) while the job waits for its health check.
        await until(
          `${id} restarted by the engine`,
          () => Promise.resolve(restartCount(id)),
          (count) => count >= 2,
          60_000,
        );
        const meanwhile = await job(id);
        expect(meanwhile).toMatchObject({ status: 'notstarted', endpoint: null });
      }
      const end = await until(
        `${id} ended`,
        () => job(id),
        (j) => String(j.status).startsWith('finished'),
        START_TIMEOUT_SECONDS * 1000 + 90_000,
      );
      expect(end.status).toBe('finishedWithError');
      expect(String(end.message)).toMatch(
        new RegExp(`^service not healthy after ${START_TIMEOUT_SECONDS} s: `),
      );
      expect(end.endpoint).toBeNull();
      // Exactly one terminal event, the last: the crashes in between never ended the run.
      const events = await statusEvents(server.url, id);
      const terminal = events.filter((e) => e.startsWith('finished'));
      expect(terminal).toStrictEqual([`finishedWithError: ${String(end.message)}`]);
      expect(events.at(-1)).toBe(terminal[0]);
      expect(events).toContain('notstarted: waiting for health check');
      if (containers) {
        // Stopped for good: the engine does not restart it after the stop (Podman says `stopped`
        // for a container stopped between two of its restarts).
        expect(['exited', 'stopped']).toContain(
          engineCli('inspect', id, '--format', '{{.State.Status}}'),
        );
      }
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });

    it('a cancelled service stays stopped and keeps its log until DELETE', async () => {
      const id = await submit(HTTPD, { port: 8080 });
      await writeFile(incoming(id, 'index.html'), 'up\n');
      const started = await until(
        `${id} started`,
        () => job(id),
        (j) => j.status === 'started',
        90_000,
      );
      const endpoint = String(started.endpoint);
      expect(await fetchOnce(`${endpoint}/index.html`)).toStrictEqual({
        status: 200,
        text: 'up\n',
      });
      expect((await call(`${server.url}/api/v1/${id}/cancel/`, 'POST')).status).toBe(202);
      const end = await until(
        `${id} ended`,
        () => job(id),
        (j) => String(j.status).startsWith('finished'),
        90_000,
      );
      expect(end).toMatchObject({
        status: 'finishedWithError',
        message: 'cancelled by request',
        endpoint: null,
      });
      if (containers) {
        expect(engineCli('inspect', id, '--format', '{{.State.Status}} {{.RestartCount}}')).toBe(
          'exited 0',
        );
      }
      await until(
        `${endpoint} refusing connections`,
        () => fetchOnce(`${endpoint}/index.html`),
        (r) => r === 'ECONNREFUSED',
        60_000,
      );
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });
  });
}
