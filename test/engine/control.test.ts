// Cancel and deadlines on a real engine (issue 13), through a server process on docker and swarm:
// a `sleep 600` is cancelled (SIGTERM, SIGKILL after CANCEL_GRACE_SECONDS) and ends `cancelled…`
// with its log kept and DELETE working afterwards; `timeout_seconds: 3` on a `sleep 60` ends
// `DeadlineExceeded: ran longer than 3 s`, also when the server restarted while it ran.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../contract/backend.contract.js';
import { requireEngine } from './engine-available.js';
import { removeNetworkOnceFree } from './swarm-network.js';
import { callServer as call, startServer, type ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const engineUp = await requireEngine();

type Json = Record<string, unknown>;

for (const backend of ['docker', 'swarm'] as const) {
  describe.skipIf(!engineUp)(`cancel and deadlines on ${backend}`, () => {
    const run = `ctl-${backend.slice(0, 2)}-${randomBytes(3).toString('hex')}`;
    let storeBase: string;
    let server: ServerProcess;
    let env: Record<string, string>;
    const jids: string[] = [];
    let n = 0;

    async function submit(script: string, extra: Json = {}): Promise<string> {
      const id = `${run}-${++n}`;
      jids.push(id);
      await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
      const created = await call(`${server.url}/api/v1/`, 'POST', shellJobBody(id, script, extra));
      expect(created.status).toBe(201);
      return id;
    }

    async function job(id: string): Promise<Json> {
      return (await call(`${server.url}/api/v1/${id}/`, 'GET')).json;
    }

    async function running(id: string): Promise<void> {
      await until(
        `${id} running and printing`,
        () => job(id),
        (j) => j.status === 'started' && String(j.logs).includes('started'),
        90_000,
      );
    }

    async function ended(id: string): Promise<Json> {
      return until(
        `${id} terminal`,
        () => job(id),
        (j) => String(j.status).startsWith('finished'),
        90_000,
      );
    }

    beforeAll(async () => {
      storeBase = await mkdtemp(path.join(tmpdir(), `pman-ctl-${backend}-`));
      env = {
        STATE_DIR: path.join(storeBase, '.pman-state'),
        CONTAINER_ENV: backend,
        STORAGE_TYPE: 'host',
        STOREBASE: storeBase,
        JOB_LABELS: `pman-ctl=${run}`,
        IMAGE_PULL_WAIT_SECONDS: '10',
        CANCEL_GRACE_SECONDS: '2',
        ...(backend === 'swarm' && { JOB_NETWORK: `${run}-jobs` }),
      };
      server = await startServer(env);
    });

    afterAll(async () => {
      for (const id of jids) {
        try {
          execFileSync(
            'docker',
            [
              backend === 'swarm' ? 'service' : 'container',
              'rm',
              ...(backend === 'docker' ? ['-f'] : []),
              id,
            ],
            { stdio: 'ignore' },
          );
        } catch {
          // already gone
        }
      }
      await server?.stop();
      await rm(storeBase, { recursive: true, force: true });
      if (backend === 'swarm') {
        await removeNetworkOnceFree(`${run}-jobs`, 30_000);
      }
    });

    it('cancels a sleep 600: cancelled…, log kept, 409 on a second cancel, DELETE afterwards', async () => {
      const id = await submit('echo started; sleep 600');
      await running(id);
      const cancelled = await call(`${server.url}/api/v1/${id}/cancel/`, 'POST');
      expect(cancelled.status).toBe(202);
      expect(cancelled.json.jid).toBe(id);
      const end = await ended(id);
      expect(end.status).toBe('finishedWithError');
      expect(String(end.message)).toMatch(/^cancelled/);
      expect(String(end.logs)).toContain('started');
      // SIGTERM (143) or, for a PID 1 that ignores it, SIGKILL after the grace (137).
      const history = await call(`${server.url}/api/v1/history/${id}/`, 'GET');
      const runs = history.json.runs as Json[];
      expect([137, 143]).toContain(runs[0]?.exit_code);
      expect((await call(`${server.url}/api/v1/${id}/cancel/`, 'POST')).status).toBe(409);
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
      expect((await call(`${server.url}/api/v1/${id}/`, 'GET')).status).toBe(404);
    });

    it("GET /api/v1/capacity/ names the engine's node(s) with their CPUs and memory", async () => {
      const res = await call(`${server.url}/api/v1/capacity/`, 'GET');
      expect(res.status).toBe(200);
      const nodes = res.json.nodes as Json[];
      expect(nodes.length).toBeGreaterThanOrEqual(1);
      for (const node of nodes) {
        expect(typeof node.name).toBe('string');
        expect(node.cpu_millicores).toBeGreaterThan(0);
        expect(node.memory_mib).toBeGreaterThan(0);
      }
      expect(res.json).toMatchObject({ container_env: backend, queued: 0 });
      expect(res.json.caps).toMatchObject({ max_running: null, cancel_grace_seconds: 2 });
    });

    it('stops a sleep 60 with timeout_seconds 3: DeadlineExceeded', async () => {
      const id = await submit('echo started; sleep 60', { timeout_seconds: 3 });
      const end = await ended(id);
      expect(end).toMatchObject({
        status: 'finishedWithError',
        message: 'DeadlineExceeded: ran longer than 3 s',
      });
      expect(String(end.logs)).toContain('started');
    });

    it('keeps the deadline across a restart of the server during the run', async () => {
      const id = await submit('echo started; sleep 60', { timeout_seconds: 5 });
      await running(id);
      await server.stop();
      server = await startServer(env);
      const end = await ended(id);
      expect(end).toMatchObject({
        status: 'finishedWithError',
        message: 'DeadlineExceeded: ran longer than 5 s',
      });
    });
  });
}
