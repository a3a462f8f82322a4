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
