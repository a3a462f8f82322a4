// The job ledger against the real Docker engine and the real server process (issue 11): SIGKILL at
// each step of a create (held in a recording engine proxy), then a restart on the real socket —
// every accepted run ends right with exactly one container ever created; POSTs while the engine
// is down; a 5 MB log captured before a `docker rm -f` from outside; a truncated store file.
// Every wait is bounded; everything carries this run's prefix and label and is removed in afterAll.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../contract/backend.contract.js';
import { requireEngine } from './engine-available.js';
import { call } from './reliability/http-client.js';
import type { Json } from './reliability/http-client.js';
import { engineCalls, startRecordingProxy } from './reliability/recording-proxy.js';
import type { RecordingProxy } from './reliability/recording-proxy.js';
import { startServer } from './server-process.js';
import type { ServerProcess } from './server-process.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
const engineUp = await requireEngine();
const run = `led-${randomBytes(3).toString('hex')}`;
const label = `pman-led=${run}`;
/** An image name only this run uses: missing at POST (a pull), tagged locally later. */
const PULLED_IMAGE = `127.0.0.1:5999/pman-ts/${run}-pulled:test`;
const WAIT_MS = 90_000;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).trim();
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

const since = Math.floor(Date.now() / 1000) - 1;

/** How many containers named `name` the engine ever created for this run (its event log). */
function createsOf(name: string): number {
  const to = String(Math.floor(Date.now() / 1000) + 1);
  const names = lines(
    docker(
      'events',
      '--since',
      String(since),
      '--until',
      to,
      '--filter',
      'type=container',
      '--filter',
      'event=create',
      '--filter',
      `label=${label}`,
      '--format',
      '{{.Actor.Attributes.name}}',
    ),
  );
  return names.filter((n) => n === name).length;
}

function containerState(name: string): string {
  return docker('ps', '-a', '--filter', `name=^/${name}$`, '--format', '{{.State}}');
}

let storeBase: string;
let stateDir: string;
let server: ServerProcess | undefined;
let proxy: RecordingProxy | undefined;
let n = 0;
const jid = (what: string): string => `${run}-${++n}-${what}`;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CONTAINER_ENV: 'docker',
    STORAGE_TYPE: 'host',
    STOREBASE: storeBase,
    STATE_DIR: stateDir,
    JOB_LABELS: label,
    IMAGE_PULL_WAIT_SECONDS: '10',
    BACKEND_TIMEOUT_SECONDS: '10',
    ...extra,
  };
}

function body(id: string, script: string, image = IMAGE): Json {
  return {
    jid: id,
    args: [],
    auid: 'ledger-test',
    number_of_workers: 1,
    cpu_limit: 1000,
    memory_limit: 200,
    gpu_limit: 0,
    image,
    entrypoint: ['/bin/sh', '-c', script],
    type: 'fs',
    env: [],
    input_dir: 'in',
    output_dir: 'out',
  };
}

async function waitStatus(s: ServerProcess, id: string, want: string): Promise<Json> {
  const res = await until(
    `${id} ${want}`,
    () => call(s.url, 'GET', `/api/v1/${id}/`),
    (r) => r.status === 200 && r.json.status === want,
    WAIT_MS,
  );
  return res.json;
}

/** A fresh store and server per test; the previous one is killed. */
async function restart(extra: Record<string, string> = {}): Promise<ServerProcess> {
  await server?.stop('SIGKILL');
  server = await startServer(env(extra));
  return server;
}

async function killServer(): Promise<void> {
  await server?.stop('SIGKILL');
  server = undefined;
}

beforeAll(async () => {
  storeBase = await mkdtemp(path.join(tmpdir(), 'pman-ledger-base-'));
  await mkdir(path.join(storeBase, 'in'));
  await mkdir(path.join(storeBase, 'out'));
});

afterEach(async () => {
  await killServer();
  await proxy?.close();
  proxy = undefined;
});

afterAll(async () => {
  if (engineUp) {
    const containers = lines(docker('ps', '-aq', '--filter', `label=${label}`));
    if (containers.length > 0) docker('rm', '-f', ...containers);
    try {
      docker('rmi', PULLED_IMAGE);
    } catch {
      // never tagged
    }
  }
  await rm(storeBase, { recursive: true, force: true });
});

describe.skipIf(!engineUp)('job ledger on docker: crashes and restarts', () => {
  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'pman-ledger-state-'));
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('SIGKILL after the durable write, before the engine create: the run is created once on restart', async () => {
    proxy = await startRecordingProxy();
    const held = proxy.hold(engineCalls.containerCreate);
    const s = await restart({ DOCKER_HOST: proxy.dockerHost });
    const id = jid('precreate');
    // The POST waits for the create, which the proxy holds: it never answers before the kill.
    const post = call(s.url, 'POST', '/api/v1/', body(id, 'echo created-once')).catch(
      () => undefined,
    );
    await held.caught(1, 30_000);
    await killServer();
    await post;
    expect(createsOf(id)).toBe(0);

    const back = await restart();
    const done = await waitStatus(back, id, 'finishedSuccessfully');
    expect(String(done.logs)).toContain('created-once');
    expect(createsOf(id)).toBe(1);
  });

  it('SIGKILL during a pull: the run is created once on restart', async () => {
    proxy = await startRecordingProxy();
    const held = proxy.hold(engineCalls.imagePull);
    const s = await restart({ DOCKER_HOST: proxy.dockerHost });
    const id = jid('pull');
    const post = await call(s.url, 'POST', '/api/v1/', body(id, 'echo pulled-once', PULLED_IMAGE));
    expect(post.status).toBe(201);
    expect(post.json.status).toBe('notstarted');
    await held.caught(1, 30_000);
    await killServer();
    // The pull "completed" while no server ran: the image is there when the server comes back.
    docker('tag', IMAGE, PULLED_IMAGE);
    const back = await restart();
    const done = await waitStatus(back, id, 'finishedSuccessfully');
    expect(String(done.logs)).toContain('pulled-once');
    expect(createsOf(id)).toBe(1);
  });

  it('SIGKILL between create and start: the container is started on restart, never created again', async () => {
    proxy = await startRecordingProxy();
    const held = proxy.hold(engineCalls.containerStart);
    const s = await restart({ DOCKER_HOST: proxy.dockerHost });
    const id = jid('prestart');
    const post = await call(s.url, 'POST', '/api/v1/', body(id, 'echo started-once'));
    expect(post.status).toBe(201);
    await held.caught(1, 30_000);
    await killServer();
    expect(containerState(id)).toBe('created');

    const back = await restart();
    const done = await waitStatus(back, id, 'finishedSuccessfully');
    expect(String(done.logs)).toContain('started-once');
    expect(createsOf(id)).toBe(1);
  });

  it('POSTs while the engine is down answer 201 and run once when it is back', async () => {
    proxy = await startRecordingProxy();
    const s = await restart({ DOCKER_HOST: proxy.dockerHost });
    await proxy.down();
    const ids = [jid('down-a'), jid('down-b'), jid('down-c')];
    for (const id of ids) {
      const res = await call(s.url, 'POST', '/api/v1/', body(id, `echo ran-${id}`));
      expect(res.status).toBe(201);
      expect(res.json.status).toBe('notstarted');
    }
    // The same jid again while it waits: still one run, a 409.
    const ids0 = ids[0] ?? '';
    expect((await call(s.url, 'POST', '/api/v1/', body(ids0, 'true'))).status).toBe(409);
    await proxy.up();
    for (const id of ids) {
      const done = await waitStatus(s, id, 'finishedSuccessfully');
      expect(String(done.logs)).toContain(`ran-${id}`);
    }
    for (const id of ids) expect(createsOf(id)).toBe(1);
    const history = await call(s.url, 'GET', `/api/v1/history/${ids0}/`);
    expect((history.json.runs as Json[]).length).toBe(1);
  });

  it('captures a 5 MB log and exit 3 before a docker rm -f from outside; both outlive DELETE and a restart', async () => {
    const s = await restart();
    const id = jid('bigLog');
    const line = 'pman-ts ledger log line 0123456789abcdef0123456789abcdef\n';
    const size = 5 * 1024 * 1024;
    const expected = Buffer.from(line.repeat(Math.ceil(size / line.length))).subarray(0, size);
    const sha = createHash('sha256').update(expected).digest('hex');
    const script = `yes '${line.trimEnd()}' | head -c ${size}; exit 3`;
    expect((await call(s.url, 'POST', '/api/v1/', body(id, script))).status).toBe(201);
    await until(
      `${id} exited in the engine`,
      () => Promise.resolve(containerState(id)),
      (state) => state === 'exited',
      WAIT_MS,
    );
    await new Promise((r) => setTimeout(r, 1000));
    docker('rm', '-f', id);
    expect((await call(s.url, 'DELETE', `/api/v1/${id}/`)).status).toBe(204);
    expect((await call(s.url, 'GET', `/api/v1/${id}/`)).status).toBe(404);

    await killServer();
    const back = await restart();
    const history = await call(back.url, 'GET', `/api/v1/history/${id}/`);
    expect(history.status).toBe(200);
    const runs = history.json.runs as Json[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ jid: id, run: 1, status: 'finishedWithError', exit_code: 3 });
    expect(runs[0]?.removed).not.toBeNull();
    const logs = await call(back.url, 'GET', `/api/v1/history/${id}/1/logs/`);
    expect(logs.status).toBe(200);
    expect(logs.text.length).toBe(size);
    expect(createHash('sha256').update(logs.text).digest('hex')).toBe(sha);
  });
});

describe.skipIf(!engineUp)('job ledger: a damaged store stops start-up', () => {
  it('a truncated store file: start-up fails with a message naming it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pman-ledger-trunc-'));
    try {
      stateDir = dir;
      const s = await restart();
      expect((await call(s.url, 'POST', '/api/v1/', body(jid('trunc'), 'true'))).status).toBe(201);
      await s.stop('SIGTERM');
      server = undefined;
      const file = path.join(dir, 'pman.db');
      await rm(`${file}-wal`, { force: true });
      await rm(`${file}-shm`, { force: true });
      await truncate(file, 100);
      const error = await startServer(env(), [], { readyTimeoutMs: 30_000 }).then(
        async (started) => {
          await started.stop('SIGKILL');
          return 'started';
        },
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
      expect(error).not.toBe('started');
      expect(error).toContain(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
