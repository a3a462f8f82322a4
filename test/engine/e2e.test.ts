// The whole service as pfcon and people use it, on a real engine: docker, swarm and podman.
// pman's test_docker.sh flow (POST, poll, output diff, DELETE) plus the failure cases.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../contract/backend.contract.js';
import { requireEngine } from './engine-available.js';
import { removeNetworkOnceFree } from './swarm-network.js';
import { PODMAN_HOST, podman, requirePodman } from './podman-available.js';
import { callServer as call, startServer, type ServerProcess } from './server-process.js';
import { shellJobBody, TEST_IMAGE } from './shell-job.js';

const IMAGE = TEST_IMAGE;
const engineUp = await requireEngine();
const podmanUp = await requirePodman();

type Json = Record<string, unknown>;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** `docker inspect` of a job's container, from the engine that runs it. */
function containerInspect(backend: 'docker' | 'podman', id: string, format: string): string {
  return backend === 'podman'
    ? podman('container', 'inspect', '--format', format, id)
    : docker('container', 'inspect', '--format', format, id);
}

for (const backend of ['docker', 'swarm', 'podman'] as const) {
  describe.skipIf(backend === 'podman' ? !podmanUp : !engineUp)(`e2e on ${backend}`, () => {
    const run = `e2e-${backend.slice(0, 2)}-${randomBytes(3).toString('hex')}`;
    let storeBase: string;
    let server: ServerProcess;
    let env: Record<string, string>;
    const jids: string[] = [];
    let n = 0;
    const jid = (): string => {
      const id = `${run}-${++n}`;
      jids.push(id);
      return id;
    };

    async function pfconBody(id: string, script: string, extra: Json = {}): Promise<Json> {
      await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
      await writeFile(
        path.join(storeBase, `key-${id}`, 'incoming', 'data.txt'),
        `payload of ${id}\n`,
      );
      return shellJobBody(id, script, extra);
    }

    async function waitTerminal(id: string, base = server.url): Promise<Json> {
      const res = await until(
        `${id} terminal`,
        () => call(`${base}/api/v1/${id}/`, 'GET'),
        (r) => r.status === 200 && String(r.json.status).startsWith('finished'),
        90_000,
      );
      return res.json;
    }

    beforeAll(async () => {
      storeBase = await mkdtemp(path.join(tmpdir(), `pman-e2e-${backend}-`));
      env = {
        // One job store for every server of this suite, as a deployment keeps its STATE_DIR
        // across restarts (removed with storeBase after the run).
        STATE_DIR: path.join(storeBase, '.pman-state'),
        CONTAINER_ENV: backend,
        STORAGE_TYPE: 'host',
        STOREBASE: storeBase,
        JOB_LABELS: `pman-e2e=${run}`,
        IMAGE_PULL_WAIT_SECONDS: '10',
        // A job overlay of this run's own (swarm; made at start-up, removed after the run).
        ...(backend === 'swarm' && { JOB_NETWORK: `${run}-jobs` }),
        ...(backend === 'podman' && { PODMAN_HOST }),
      };
      server = await startServer(env);
    });

    afterAll(async () => {
      for (const id of jids) {
        try {
          if (backend === 'podman') {
            podman('rm', '-f', id);
            continue;
          }
          execFileSync(
            'docker',
            [
              backend === 'swarm' ? 'service' : 'container',
              'rm',
              ...(backend === 'docker' ? ['-f'] : []),
              id,
            ],
            {
              stdio: 'ignore',
            },
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

    it("runs pfcon's create → status → delete flow, and the output really appears", async () => {
      const id = jid();
      const body = await pfconBody(id, 'cp -r /share/incoming/. "$1"/ && echo copied');
      const created = await call(`${server.url}/api/v1/`, 'POST', body);
      expect(created.status).toBe(201);
      expect(Object.keys(created.json)).toEqual([
        'jid',
        'image',
        'cmd',
        'status',
        'message',
        'timestamp',
        'logs',
      ]);
      expect(created.json).toMatchObject({ jid: id, image: IMAGE, status: 'notstarted', logs: '' });
      const done = await waitTerminal(id);
      expect(done.status).toBe('finishedSuccessfully');
      expect(String(done.logs)).toContain('copied');
      const out = await readFile(path.join(storeBase, `key-${id}`, 'outgoing', 'data.txt'), 'utf8');
      expect(out).toBe(`payload of ${id}\n`);
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
      expect((await call(`${server.url}/api/v1/${id}/`, 'GET')).status).toBe(404);
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(404);
    });

    it('accepts the pman 3 HTTPie body with every value a string', async () => {
      const id = jid();
      await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
      const res = await call(`${server.url}/api/v1/`, 'POST', {
        cmd_args: '-c "echo legacy-ok"',
        cmd_path_flags: '',
        auid: 'cube',
        number_of_workers: '1',
        cpu_limit: '1000',
        memory_limit: '200',
        gpu_limit: '0',
        image: IMAGE,
        selfexec: 'sh',
        selfpath: '/bin',
        execshell: '',
        type: 'fs',
        jid: id,
      });
      expect(res.status).toBe(201);
      const done = await waitTerminal(id);
      expect(done.status).toBe('finishedSuccessfully');
      expect(String(done.logs)).toContain('legacy-ok');
    });

    it('reports a non-zero exit as finishedWithError with the code, and non-ASCII logs', async () => {
      const id = jid();
      const res = await call(
        `${server.url}/api/v1/`,
        'POST',
        await pfconBody(id, "printf 'héllo ✓\\n'; exit 3"),
      );
      expect(res.status).toBe(201);
      const done = await waitTerminal(id);
      expect(done.status).toBe('finishedWithError');
      expect(String(done.message)).toMatch(/3/);
      expect(String(done.logs)).toContain('héllo ✓');
      const raw = (await call(`${server.url}/api/v1/${id}/`, 'GET')).text;
      expect(raw).toContain('h\\u00e9llo \\u2713');
    });

    it('applies cpu and memory limits that docker inspect shows', async () => {
      const id = jid();
      const res = await call(
        `${server.url}/api/v1/`,
        'POST',
        await pfconBody(id, 'sleep 20', { cpu_limit: 500, memory_limit: 64 }),
      );
      expect(res.status).toBe(201);
      if (backend !== 'swarm') {
        const hc = JSON.parse(containerInspect(backend, id, '{{json .HostConfig}}')) as Json;
        expect(hc.NanoCpus).toBe(500_000_000);
        expect(hc.Memory).toBe(64 * 2 ** 20);
      } else {
        const lim = JSON.parse(
          docker(
            'service',
            'inspect',
            '--format',
            '{{json .Spec.TaskTemplate.Resources.Limits}}',
            id,
          ),
        ) as Json;
        expect(lim).toMatchObject({ NanoCPUs: 500_000_000, MemoryBytes: 64 * 2 ** 20 });
      }
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });

    it('confines the job (issue 10): PID limit, dropped capabilities, its own network', async () => {
      const id = jid();
      const res = await call(`${server.url}/api/v1/`, 'POST', await pfconBody(id, 'sleep 20'));
      expect(res.status).toBe(201);
      if (backend === 'docker') {
        const hc = JSON.parse(
          docker('container', 'inspect', '--format', '{{json .HostConfig}}', id),
        ) as Json;
        expect(hc).toMatchObject({
          PidsLimit: 1024,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          NetworkMode: 'none',
        });
      } else if (backend === 'podman') {
        const hc = JSON.parse(containerInspect(backend, id, '{{json .HostConfig}}')) as Json;
        expect(hc).toMatchObject({
          PidsLimit: 1024,
          SecurityOpt: ['no-new-privileges'],
          NetworkMode: 'none',
        });
        // Podman's inspect lists the dropped capabilities one by one: the process is checked.
        await until(
          `${id} running`,
          () => call(`${server.url}/api/v1/${id}/`, 'GET'),
          (r) => r.json.status === 'started',
          30_000,
        );
        expect(podman('exec', id, 'cat', '/proc/1/status')).toMatch(/^CapBnd:\s+0*cb$/m);
      } else {
        const t = JSON.parse(
          docker('service', 'inspect', '--format', '{{json .Spec.TaskTemplate}}', id),
        ) as { ContainerSpec: Json; Resources: { Limits: Json }; Networks: { Target: string }[] };
        expect(t.ContainerSpec.CapabilityDrop).toEqual(['ALL']);
        expect(t.Resources.Limits.Pids).toBe(1024);
        const netId = docker('network', 'inspect', '--format', '{{.Id}}', `${run}-jobs`);
        expect(t.Networks.map((x) => x.Target)).toEqual([netId]);
      }
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });

    it('refuses a duplicate jid with 409 and leaves the first job alone', async () => {
      const id = jid();
      const body = await pfconBody(id, 'sleep 10');
      expect((await call(`${server.url}/api/v1/`, 'POST', body)).status).toBe(201);
      const again = await call(`${server.url}/api/v1/`, 'POST', body);
      expect(again.status).toBe(409);
      expect(again.json).toEqual({ message: `job "${id}" already exists` });
      expect((await call(`${server.url}/api/v1/${id}/`, 'GET')).status).toBe(200);
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });

    it('refuses path escapes (.., symlinks out of storeBase) and a missing input dir with 400, creating nothing', async () => {
      const id = jid();
      const escape = await call(
        `${server.url}/api/v1/`,
        'POST',
        await pfconBody(id, 'true', { input_dir: '../../etc' }),
      );
      expect(escape.status).toBe(400);
      expect(JSON.stringify(escape.json)).toContain('input_dir');
      const outside = await mkdtemp(path.join(tmpdir(), 'pman-outside-'));
      await symlink(outside, path.join(storeBase, `link-${id}`));
      const sym = await call(
        `${server.url}/api/v1/`,
        'POST',
        await pfconBody(id, 'true', { output_dir: `link-${id}` }),
      );
      expect(sym.status).toBe(400);
      const missing = await call(
        `${server.url}/api/v1/`,
        'POST',
        await pfconBody(id, 'true', { input_dir: `nope-${id}/incoming` }),
      );
      expect(missing.status).toBe(400);
      expect(JSON.stringify(missing.json)).toContain('does not exist');
      expect((await call(`${server.url}/api/v1/${id}/`, 'GET')).status).toBe(404);
      await rm(outside, { recursive: true, force: true });
    });

    it('handles a missing image without an endless notstarted', async () => {
      const id = jid();
      const res = await call(
        `${server.url}/api/v1/`,
        'POST',
        await pfconBody(id, 'true', { image: `127.0.0.1:5999/pman-ts/no-such-image:${run}` }),
      );
      // Accepted on every backend, then finishedWithError with the reason (Docker: issue 11).
      expect(res.status).toBe(201);
      const done = await waitTerminal(id);
      expect(done.status).toBe('finishedWithError');
      expect(String(done.message)).toMatch(/image/i);
    });

    it('finds a running job again after the server is killed and restarted', async () => {
      const id = jid();
      expect(
        (await call(`${server.url}/api/v1/`, 'POST', await pfconBody(id, 'sleep 4; echo survived')))
          .status,
      ).toBe(201);
      await server.stop('SIGKILL');
      server = await startServer(env, [], { port: server.port });
      const now = await call(`${server.url}/api/v1/${id}/`, 'GET');
      expect(now.status).toBe(200);
      expect(['notstarted', 'started', 'finishedSuccessfully']).toContain(now.json.status);
      const done = await waitTerminal(id);
      expect(done.status).toBe('finishedSuccessfully');
      expect(String(done.logs)).toContain('survived');
      const listed = await call(`${server.url}/api/v1/jobs/`, 'GET');
      expect(JSON.stringify(listed.json)).toContain(id);
    });

    it.skipIf(backend !== 'podman')(
      'podman: a GPU request is refused with 400 (Podman would run the job without one)',
      async () => {
        const id = jid();
        const res = await call(
          `${server.url}/api/v1/`,
          'POST',
          await pfconBody(id, 'true', { gpu_limit: 1 }),
        );
        expect(res.status).toBe(400);
        expect(String(res.json.message)).toMatch(/gpu_limit=1 .*DeviceRequests/);
        expect((await call(`${server.url}/api/v1/${id}/`, 'GET')).status).toBe(404);
      },
    );

    it('guards every /api/v1/ route when token auth is on, and /health stays open', async () => {
      const tokens = path.join(storeBase, 'tokens.ini');
      await writeFile(tokens, '[AUTH TOKENS]\nci = s3cret-token-0123456789\n');
      // A second server beside the first: a store of its own (one server per store).
      const authed = await startServer(
        { ...env, STATE_DIR: path.join(storeBase, '.pman-state-auth') },
        ['--enableTokenAuth', '--tokenPath', tokens],
      );
      try {
        const none = await call(`${authed.url}/api/v1/`, 'GET');
        expect(none.status).toBe(401);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(none.json).toEqual({ message: 'Missing authorization header.' });
        const bad = await call(`${authed.url}/api/v1/`, 'GET', undefined, {
          authorization: 'Bearer nope',
        });
        expect(bad.json).toEqual({ message: 'Invalid authorization token.' });
        const ok = await call(`${authed.url}/api/v1/`, 'GET', undefined, {
          authorization: 'Bearer s3cret-token-0123456789',
        });
        expect(ok.status).toBe(200);
        expect(Object.keys(ok.json)).toEqual(['server_version', 'container_env', 'storage_type']);
        expect(ok.json).toMatchObject({ container_env: backend, storage_type: 'host' });
        expect((await call(`${authed.url}/health`, 'GET')).status).toBe(200);
        expect(authed.output()).not.toContain('s3cret-token');
      } finally {
        await authed.stop();
      }
    });
  });
}
