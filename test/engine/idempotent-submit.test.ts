// Idempotent submit on the real Docker engine (issue 13): a POST whose response is lost after the
// job was created, retried with the same Idempotency-Key, still makes one container; request
// labels are on the container next to JOB_LABELS.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../contract/backend.contract.js';
import { requireEngine } from './engine-available.js';
import { startServer, type ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const engineUp = await requireEngine();

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/**
 * A loopback proxy in front of the server that forwards each request whole and cuts the client's
 * connection at the first byte of the answer: the server did the work, the client never hears of it.
 */
async function responseCuttingProxy(target: number): Promise<{ url: string; close(): void }> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    open.add(client).add(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.once('data', () => {
      client.destroy();
      upstream.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

/**
 * A loopback proxy in front of the Docker socket that lets every call through but cuts the
 * engine's answer to the first container create: the engine made the container, the server never
 * hears of it.
 */
async function createCuttingEngineProxy(): Promise<{
  dockerHost: string;
  cuts(): number;
  close(): void;
}> {
  const open = new Set<Socket>();
  let armed = true;
  let cuts = 0;
  const server: Server = createServer((client) => {
    const engine = connect('/var/run/docker.sock');
    open.add(client).add(engine);
    let cutAnswer = false;
    client.on('error', () => engine.destroy());
    engine.on('error', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (armed && /POST \/(?:v[\d.]+\/)?containers\/create/.test(chunk.toString('latin1'))) {
        armed = false;
        cutAnswer = true;
      }
      engine.write(chunk);
    });
    engine.on('data', (chunk: Buffer) => {
      if (cutAnswer) {
        cuts++;
        client.destroy();
        engine.destroy();
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    cuts: () => cuts,
    close() {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

function post(url: string, body: unknown, key: string): Promise<Response> {
  return fetch(`${url}/api/v1/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify(body),
  });
}

describe.skipIf(!engineUp)('idempotent submit on docker', () => {
  const run = `idem-${randomBytes(3).toString('hex')}`;
  let storeBase: string;
  let server: ServerProcess;
  const jids: string[] = [];

  beforeAll(async () => {
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-idem-'));
    server = await startServer({
      STATE_DIR: path.join(storeBase, '.pman-state'),
      CONTAINER_ENV: 'docker',
      STORAGE_TYPE: 'host',
      STOREBASE: storeBase,
      JOB_LABELS: `pman-idem=${run}`,
      // Its own managed-by value: the server adopts no other suite's containers.
      INSTANCE_ID: run,
    });
  });

  afterAll(async () => {
    for (const id of jids) {
      try {
        docker('container', 'rm', '-f', id);
      } catch {
        // already gone
      }
    }
    await server?.stop();
    await rm(storeBase, { recursive: true, force: true });
  });

  async function body(id: string, extra: Record<string, unknown> = {}) {
    jids.push(id);
    await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
    return shellJobBody(id, 'echo hello; sleep 30', extra);
  }

  it('a response lost after the create, retried with the same key: one container, the same job', async () => {
    const id = `${run}-cut`;
    const job = await body(id);
    const proxy = await responseCuttingProxy(server.port);
    try {
      await expect(post(proxy.url, job, `${run}-key`)).rejects.toThrow();
    } finally {
      proxy.close();
    }
    const retried = await post(server.url, job, `${run}-key`);
    expect(retried.status).toBe(201);
    expect(((await retried.json()) as { jid: string }).jid).toBe(id);
    const again = await post(server.url, job, `${run}-key`);
    expect(again.status).toBe(201);
    const containers = docker(
      'ps',
      '-a',
      '--filter',
      `label=pman-idem=${run}`,
      '--format',
      '{{.Names}}',
    );
    expect(containers.split('\n').filter((n) => n === id)).toEqual([id]);
    const history = (await (await fetch(`${server.url}/api/v1/history/${id}/`)).json()) as {
      runs: unknown[];
    };
    expect(history.runs).toHaveLength(1);
  });

  it('request labels are on the container, next to JOB_LABELS', async () => {
    const id = `${run}-lab`;
    const res = await post(server.url, await body(id, { labels: { team: 'fnndsc' } }), `${run}-l`);
    expect(res.status).toBe(201);
    const labels = JSON.parse(
      docker('inspect', '--format', '{{json .Config.Labels}}', id),
    ) as Record<string, string>;
    expect(labels).toMatchObject({ team: 'fnndsc', 'pman-idem': run });
  });
});

describe.skipIf(!engineUp)('idempotent submit when the engine answer to the create is lost', () => {
  const run = `idemc-${randomBytes(3).toString('hex')}`;
  let storeBase: string;
  let server: ServerProcess;
  let proxy: Awaited<ReturnType<typeof createCuttingEngineProxy>>;
  const id = `${run}-job`;

  beforeAll(async () => {
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-idemc-'));
    await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
    proxy = await createCuttingEngineProxy();
    server = await startServer({
      STATE_DIR: path.join(storeBase, '.pman-state'),
      CONTAINER_ENV: 'docker',
      STORAGE_TYPE: 'host',
      STOREBASE: storeBase,
      DOCKER_HOST: proxy.dockerHost,
      JOB_LABELS: `pman-idem=${run}`,
      // Its own managed-by value: the server adopts no other suite's containers.
      INSTANCE_ID: run,
    });
  });

  afterAll(async () => {
    try {
      docker('container', 'rm', '-f', id);
    } catch {
      // already gone
    }
    await server?.stop();
    proxy?.close();
    await rm(storeBase, { recursive: true, force: true });
  });

  it('the POST and its retry with the same key replay one answer and make one run', async () => {
    const job = shellJobBody(id, 'echo ran-once');
    const first = await post(server.url, job, `${run}-key`);
    const firstText = await first.text();
    // The engine made the container; its answer never reached the server.
    expect(proxy.cuts()).toBe(1);
    const retried = await post(server.url, job, `${run}-key`);
    const retriedText = await retried.text();
    expect({ status: retried.status, text: retriedText }).toEqual({
      status: first.status,
      text: firstText,
    });
    // One run, whatever the engine made of the cut: never a second one from the retry.
    const final = await until(
      `${id} finished`,
      async () =>
        (await fetch(`${server.url}/api/v1/${id}/`)).json() as Promise<Record<string, unknown>>,
      (job) => String(job.status).startsWith('finished'),
      60_000,
    );
    // The job really ran: the container whose answer was lost is never recorded as the end of a
    // run that was not yet created (it was once seen "dead" while being cleaned up).
    expect(final.status).toBe('finishedSuccessfully');
    const history = (await (await fetch(`${server.url}/api/v1/history/${id}/`)).json()) as {
      runs: unknown[];
    };
    expect(history.runs).toHaveLength(1);
    const containers = docker(
      'ps',
      '-a',
      '--filter',
      `label=pman-idem=${run}`,
      '--format',
      '{{.Names}}',
    );
    expect(containers.split('\n').filter((name) => name !== '').length).toBeLessThanOrEqual(1);
  });
});
