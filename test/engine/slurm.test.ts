// The slurm backend against a real slurmctld/slurmd/slurmrestd (scripts/slurm-up.sh, run by
// .ci/run): the conformance suite, then what only Slurm shows (CPU rounding and limits in the
// Slurm record, a pending job's reason, cancel of a running job and its container, quoting of
// hostile paths and values through the batch script, watchJobs' captured end, foreign jobs).
// With CI=true or REQUIRE_ENGINE=1 a missing Slurm fails; elsewhere the file is skipped loudly.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BackendDeps, JobRead } from '../../src/backends/backend.js';
import { SlurmClient } from '../../src/backends/slurm/client.js';
import { parseSlurmUrl } from '../../src/backends/slurm/settings.js';
import type { SlurmBackendConfig, SlurmEndpoint } from '../../src/backends/slurm/settings.js';
import { createSlurmBackend } from '../../src/backends/slurm/slurm.js';
import { assertSupported } from '../../src/domain/capabilities.js';
import { ConflictError, NotFoundError, UnsupportedError } from '../../src/domain/errors.js';
import { INCOMING, OUTGOING, TERMINAL_STATUSES } from '../../src/domain/job.js';
import type { JobInfo, JobSpec } from '../../src/domain/job.js';
import { describeBackend, until } from '../contract/backend.contract.js';
import { realHarness } from '../contract/real-harness.js';
import { logsOf, statusOf } from '../fixtures.js';
import { SseReader, statusOf as sseStatusOf } from '../http/sse-reader.js';
import type { StatusData } from '../http/sse-reader.js';
import { callServer as call, startServer } from './server-process.js';
import type { ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
const ENV_FILE = process.env.PMAN_SLURM_ENV ?? '/tmp/pman-slurm/env';

function required(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return (ci !== '' && ci !== 'false' && ci !== '0') || process.env.REQUIRE_ENGINE === '1';
}

interface SlurmTestEnv {
  endpoint: SlurmEndpoint;
  token: string;
  user: string;
  partition: string;
  logRoot: string;
}

function readEnvFile(): SlurmTestEnv | string {
  if (!existsSync(ENV_FILE)) return `${ENV_FILE} missing (run scripts/slurm-up.sh)`;
  const vars = new Map<string, string>();
  for (const line of readFileSync(ENV_FILE, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const endpoint = parseSlurmUrl(vars.get('SLURM_URL') ?? '');
  if (typeof endpoint === 'string') return `SLURM_URL in ${ENV_FILE}: ${endpoint}`;
  return {
    endpoint,
    token: vars.get('SLURM_JWT') ?? '',
    user: vars.get('SLURM_USER') ?? '',
    partition: vars.get('SLURM_PARTITION') ?? '',
    logRoot: vars.get('SLURM_LOG_ROOT') ?? '',
  };
}

async function slurmAvailable(): Promise<SlurmTestEnv | undefined> {
  const env = readEnvFile();
  let reason: string | undefined = typeof env === 'string' ? env : undefined;
  if (typeof env !== 'string') {
    try {
      const client = new SlurmClient(
        {
          endpoint: env.endpoint,
          token: { kind: 'value', token: env.token },
          user: env.user,
          apiVersion: 'v0.0.38',
        },
        5000,
      );
      await client.call('GET', client.path('ping'));
      return env;
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
  }
  const message = `Slurm unavailable (${reason ?? 'unknown'}): slurm engine tests`;
  if (required()) throw new Error(`${message} are required here (CI / REQUIRE_ENGINE=1)`);
  console.warn(
    `\n*** ${message} SKIPPED. Run scripts/slurm-up.sh, or set REQUIRE_ENGINE=1 to fail. ***\n`,
  );
  return undefined;
}

const env = await slurmAvailable();
const deps = (): BackendDeps => ({ log: pino({ level: 'silent' }), timeoutMs: 30_000 });

/** A per-run SLURM_LOG_DIR the job user can write and this (root) process can read and clean. */
async function runLogDir(e: SlurmTestEnv): Promise<string> {
  const dir = await mkdtemp(path.join(e.logRoot, 'run-'));
  const uid = Number(execFileSync('id', ['-u', e.user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', e.user], { encoding: 'utf8' }).trim());
  await chown(dir, uid, gid);
  return dir;
}

function config(e: SlurmTestEnv, logDir: string): SlurmBackendConfig {
  return {
    kind: 'slurm',
    endpoint: e.endpoint,
    token: { kind: 'value', token: e.token },
    user: e.user,
    apiVersion: 'v0.0.38',
    partition: e.partition,
    runtime: 'docker',
    logDir,
    pollSeconds: 1,
  };
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

describe.skipIf(env === undefined)('slurm backend on a real Slurm', () => {
  const e = env as SlurmTestEnv;
  const logDirs: string[] = [];
  afterAll(async () => {
    for (const dir of logDirs) await rm(dir, { recursive: true, force: true });
  });

  describeBackend('slurm', async () => {
    const logDir = await runLogDir(e);
    logDirs.push(logDir);
    return realHarness(await createSlurmBackend(config(e, logDir), deps()), IMAGE, {
      finishTimeoutMs: 120_000,
    });
  });

  describe('slurm specifics', () => {
    const prefix = `sl-${randomBytes(3).toString('hex')}`;
    let n = 0;
    const nextName = (): string => `${prefix}-${++n}`;
    let backend: Backend;
    let storeBase: string;
    let logDir: string;
    let client: SlurmClient;
    const created = new Set<string>();

    beforeAll(async () => {
      logDir = await runLogDir(e);
      logDirs.push(logDir);
      backend = await createSlurmBackend(config(e, logDir), deps());
      storeBase = await mkdtemp(path.join(tmpdir(), 'pman-slurm-'));
      client = new SlurmClient(
        {
          endpoint: e.endpoint,
          token: { kind: 'value', token: e.token },
          user: e.user,
          apiVersion: 'v0.0.38',
        },
        30_000,
      );
    });
    afterAll(async () => {
      for (const name of created) {
        try {
          await backend.delete(name);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      await backend?.close();
      if (storeBase !== undefined) await rm(storeBase, { recursive: true, force: true });
    });

    /** incoming (with input.txt) and outgoing under `dir` (a relative path, any characters). */
    async function spec(
      name: string,
      script: string,
      extra: Partial<JobSpec> = {},
      dir: string = name,
    ): Promise<JobSpec> {
      await mkdir(path.join(storeBase, dir, 'in'), { recursive: true });
      await mkdir(path.join(storeBase, dir, 'out'), { recursive: true });
      await writeFile(path.join(storeBase, dir, 'in', 'input.txt'), 'input ✓\n');
      created.add(name);
      return {
        name,
        image: IMAGE,
        command: ['/bin/sh', '-c', script],
        env: {},
        resources: { workers: 1, cpuMillicores: 500, memoryMiB: 64, gpus: 0 },
        mounts: [
          {
            kind: 'host',
            source: storeBase,
            subPath: `${dir}/in`,
            containerPath: INCOMING,
            readOnly: true,
          },
          {
            kind: 'host',
            source: storeBase,
            subPath: `${dir}/out`,
            containerPath: OUTGOING,
            readOnly: false,
          },
        ],
        labels: { 'pman-test': prefix },
        ...extra,
      };
    }

    const finished = (name: string): Promise<JobInfo> =>
      until(
        `${name} to finish`,
        () => statusOf(backend, name),
        (i) => TERMINAL_STATUSES.has(i.status),
        120_000,
      );

    /** The Slurm record of our job of that name (the newest). */
    async function slurmJob(name: string): Promise<Record<string, unknown>> {
      const raw = (await client.call('GET', client.path('jobs'))) as {
        jobs: Array<Record<string, unknown>>;
      };
      const mine = raw.jobs
        .filter((j) => j.name === name)
        .sort((a, b) => Number(b.job_id) - Number(a.job_id));
      const job = mine[0];
      if (job === undefined) throw new Error(`Slurm lists no job named ${name}`);
      return job;
    }

    it('capabilities come from the node: a job larger than it is refused before Slurm sees it', () => {
      const cpus = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
      expect(backend.capabilities.maxCpuMillicores).toBe(cpus * 1000);
      expect(backend.capabilities.maxMemoryMiB).toBeGreaterThan(0);
      expect(backend.capabilities.gpus).toBe(false);
      const tooBig: JobSpec = {
        name: 'x',
        image: IMAGE,
        command: ['true'],
        env: {},
        resources: { workers: 1, cpuMillicores: cpus * 1000 + 1, memoryMiB: 64, gpus: 0 },
        mounts: [],
        labels: {},
      };
      expect(() => assertSupported(tooBig, backend.capabilities, 'slurm')).toThrow(
        UnsupportedError,
      );
    });

    it('exit 3 → finishedWithError with exit code 3; the log is the job output', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'echo före; exit 3'));
      const info = await finished(name);
      expect(info).toMatchObject({ status: 'finishedWithError', exitCode: 3 });
      expect(info.message).toMatch(/exit code 3/);
      expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toBe('före\n');
    });

    it('CPUs are rounded up to whole CPUs, memory becomes the job memory, the runtime gets the exact limits', async () => {
      const name = nextName();
      await backend.create(
        await spec(
          name,
          'cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
          {
            resources: { workers: 1, cpuMillicores: 1500, memoryMiB: 96, gpus: 0 },
          },
        ),
      );
      const info = await finished(name);
      expect(info.status).toBe('finishedSuccessfully');
      const job = await slurmJob(name);
      expect(job.cpus).toBe(2);
      expect(job.memory_per_node).toBe(96);
      expect(job.user_name).toBe(e.user);
      const logs = await logsOf(backend, name, { tail: 10, maxBytes: 1000 });
      // cgroup v2 "150000 100000" or v1 "150000"; memory 96 MiB in bytes.
      expect(logs).toMatch(/150000/);
      expect(logs).toContain(String(96 * 1024 * 1024));
    });

    it('paths and values with quotes, spaces, $() and newlines reach the job literally', async () => {
      const name = nextName();
      const hostile = `dir $(touch /tmp/${prefix}-pwned) 'q' "d" \`id\` ;x`;
      const value = `a'b"c $(touch /tmp/${prefix}-pwned2) \`id\`\nline2; echo injected`;
      await backend.create(
        await spec(
          name,
          'cat /share/incoming/input.txt; printf "%s" "$HOSTILE" > /share/outgoing/value.txt; echo done',
          { env: { HOSTILE: value } },
          hostile,
        ),
      );
      const info = await finished(name);
      expect(info.status).toBe('finishedSuccessfully');
      expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toBe('input ✓\ndone\n');
      expect(await readFile(path.join(storeBase, hostile, 'out', 'value.txt'), 'utf8')).toBe(value);
      expect(existsSync(`/tmp/${prefix}-pwned`)).toBe(false);
      expect(existsSync(`/tmp/${prefix}-pwned2`)).toBe(false);
    });

    it('a job that cannot fit now stays pending with Slurm reason; deleting the blocker lets it run', async () => {
      const cpus = (backend.capabilities.maxCpuMillicores ?? 1000) / 1000;
      const whole = { workers: 1, cpuMillicores: cpus * 1000, memoryMiB: 64, gpus: 0 };
      const blocker = nextName();
      await backend.create(await spec(blocker, 'sleep 300', { resources: whole }));
      await until(
        'the blocker to run',
        () => statusOf(backend, blocker),
        (i) => i.status === 'started',
        60_000,
      );
      const waiting = nextName();
      await backend.create(await spec(waiting, 'echo ran', { resources: whole }));
      const pending = await until(
        `${waiting} to be pending with a reason`,
        () => statusOf(backend, waiting),
        (i) => /Resources|Priority/.test(i.message),
        30_000,
      );
      expect(pending.status).toBe('notstarted');
      await backend.delete(blocker);
      expect((await finished(waiting)).status).toBe('finishedSuccessfully');
    });

    it('delete of a running job cancels it, removes its container, log and metadata', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'echo started; sleep 300'));
      await until(
        'the job to run',
        () => logsOf(backend, name, { tail: 10, maxBytes: 1000 }),
        (l) => l.includes('started'),
        60_000,
      );
      const jobId = Number((await slurmJob(name)).job_id);
      const container = `pman-slurm-${jobId}`;
      expect(docker('ps', '--filter', `name=^${container}$`, '--format', '{{.Names}}')).toBe(
        container,
      );
      await backend.delete(name);
      await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
      await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
      await until(
        'the container to be removed',
        () =>
          Promise.resolve(
            docker('ps', '-a', '--filter', `name=^${container}$`, '--format', '{{.Names}}'),
          ),
        (out) => out === '',
        30_000,
      );
      const state = await until(
        'Slurm to end it',
        () => slurmJob(name),
        (j) => j.job_state !== 'RUNNING' && j.job_state !== 'COMPLETING',
        30_000,
      );
      expect(state.job_state).toBe('CANCELLED');
      expect((await readdir(logDir)).filter((f) => f.startsWith(`${name}.`))).toEqual([]);
      // Slurm still lists the cancelled job: a new job of the name is not a conflict.
      await backend.create(await spec(name, 'echo again'));
      expect((await finished(name)).status).toBe('finishedSuccessfully');
      await expect(backend.create(await spec(name, 'echo thrice'))).rejects.toBeInstanceOf(
        ConflictError,
      );
    });

    it('stop cancels a running job but keeps it and its log', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'echo before-stop; sleep 300'));
      await until(
        'the job to run',
        () => logsOf(backend, name, { tail: 10, maxBytes: 1000 }),
        (l) => l.includes('before-stop'),
        60_000,
      );
      await backend.stop?.(name, 5);
      const info = await finished(name);
      expect(info.status).toBe('finishedWithError');
      expect(info.message).toMatch(/cancelled/);
      expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toContain('before-stop');
    });

    it('watchJobs hands over the end once, with the exit code and the log', async () => {
      const watched = await createSlurmBackend(config(e, logDir), deps());
      const seen: JobRead[] = [];
      watched.watchJobs?.({ tail: 10, maxBytes: 1000 }, (s) => seen.push(s));
      try {
        const name = nextName();
        await backend.create(await spec(name, 'echo watched; exit 4'));
        const end = await until(
          'the end snapshot',
          () =>
            Promise.resolve(
              seen.filter((s) => s.info.name === name && TERMINAL_STATUSES.has(s.info.status)),
            ),
          (ends) => ends.length > 0,
          120_000,
        );
        expect(end[0]).toMatchObject({
          logs: 'watched\n',
          info: { status: 'finishedWithError', exitCode: 4 },
        });
      } finally {
        await watched.close();
      }
    });

    it('list holds our jobs only: a Slurm job without our marker is not ours', async () => {
      const name = nextName();
      const raw = (await client.call('POST', client.path('job/submit'), {
        script: '#!/bin/sh\ntrue\n',
        job: {
          name,
          partition: e.partition,
          comment: 'managed-by=someone-else;run=00;labels={}',
          current_working_directory: '/tmp',
          standard_output: '/dev/null',
          environment: { PATH: '/usr/bin:/bin' },
        },
      })) as { job_id: number };
      try {
        expect((await backend.list()).map((j) => j.name)).not.toContain(name);
        await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
      } finally {
        await client.call('DELETE', client.path(`job/${raw.job_id}`)).catch(() => undefined);
      }
    });
  });
  describe('the pman server with CONTAINER_ENV=slurm', () => {
    const run = `sls-${randomBytes(3).toString('hex')}`;
    let n = 0;
    const jid = (): string => `${run}-${++n}`;
    let server: ServerProcess;
    let storeBase: string;
    type Json = Record<string, unknown>;

    async function body(id: string, script: string, extra: Json = {}): Promise<Json> {
      await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
      await writeFile(
        path.join(storeBase, `key-${id}`, 'incoming', 'data.txt'),
        `payload of ${id}\n`,
      );
      return shellJobBody(id, script, extra);
    }

    const job = (id: string): Promise<{ status: number; json: Json }> =>
      call(`${server.url}/api/v1/${id}/`, 'GET');
    const terminal = (id: string): Promise<{ status: number; json: Json }> =>
      until(
        `${id} terminal`,
        () => job(id),
        (r) => r.status === 200 && String(r.json.status).startsWith('finished'),
        120_000,
      );

    beforeAll(async () => {
      storeBase = await mkdtemp(path.join(tmpdir(), 'pman-slurm-e2e-'));
      const logDir = await runLogDir(e);
      logDirs.push(logDir);
      server = await startServer({
        CONTAINER_ENV: 'slurm',
        STORAGE_TYPE: 'host',
        STOREBASE: storeBase,
        SLURM_URL:
          e.endpoint.kind === 'tcp' ? e.endpoint.base.href : `unix:${e.endpoint.socketPath}`,
        SLURM_JWT: e.token,
        SLURM_USER: e.user,
        SLURM_PARTITION: e.partition,
        SLURM_LOG_DIR: logDir,
        SLURM_POLL_SECONDS: '1',
      });
    });
    afterAll(async () => {
      await server?.stop();
      if (storeBase !== undefined) await rm(storeBase, { recursive: true, force: true });
    });

    it("pfcon's create → status → delete: the output really appears, the log is the job's", async () => {
      const id = jid();
      const created = await call(
        `${server.url}/api/v1/`,
        'POST',
        await body(id, 'cp -r /share/incoming/. "$1"/ && echo copied'),
      );
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ jid: id, status: 'notstarted' });
      const done = await terminal(id);
      expect(done.json).toMatchObject({ status: 'finishedSuccessfully' });
      expect(String(done.json.logs)).toContain('copied');
      expect(
        await readFile(path.join(storeBase, `key-${id}`, 'outgoing', 'data.txt'), 'utf8'),
      ).toBe(`payload of ${id}\n`);
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
      expect((await job(id)).status).toBe(404);
    });

    it('exit 3 with non-ASCII output → finishedWithError naming the code, the log intact', async () => {
      const id = jid();
      expect(
        (await call(`${server.url}/api/v1/`, 'POST', await body(id, "printf 'héllo ✓\\n'; exit 3")))
          .status,
      ).toBe(201);
      const done = await terminal(id);
      expect(done.json.status).toBe('finishedWithError');
      expect(String(done.json.message)).toMatch(/exit code 3/);
      expect(String(done.json.logs)).toContain('héllo ✓');
    });

    it('bad input is a 400 before Slurm sees it: a path escape, a job larger than any node', async () => {
      const id = jid();
      const escape = await call(`${server.url}/api/v1/`, 'POST', {
        ...(await body(id, 'true')),
        input_dir: '../../etc',
      });
      expect(escape.status).toBe(400);
      const huge = await call(
        `${server.url}/api/v1/`,
        'POST',
        await body(jid(), 'true', { cpu_limit: 1_000_000 }),
      );
      expect(huge.status).toBe(400);
      expect(String(huge.json.message)).toMatch(/exceeds the largest node/);
    });

    it('cancel of a running job ends it, keeping its log', async () => {
      const id = jid();
      expect(
        (await call(`${server.url}/api/v1/`, 'POST', await body(id, 'echo running-now; sleep 300')))
          .status,
      ).toBe(201);
      await until(
        'the job to print',
        () => job(id),
        (r) => String(r.json.logs).includes('running-now'),
        60_000,
      );
      expect((await call(`${server.url}/api/v1/${id}/cancel/`, 'POST')).status).toBe(202);
      const done = await terminal(id);
      expect(done.json.status).toBe('finishedWithError');
      expect(String(done.json.logs)).toContain('running-now');
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });

    it('GET /api/v1/events/ pushes the run from notstarted to exactly one terminal event', async () => {
      const id = jid();
      const res = await fetch(`${server.url}/api/v1/events/?jid=${id}`);
      expect(res.status).toBe(200);
      const stream = new SseReader(res);
      try {
        expect(
          (await call(`${server.url}/api/v1/`, 'POST', await body(id, 'echo pushed; exit 3')))
            .status,
        ).toBe(201);
        const events: StatusData[] = [];
        while (!String(events.at(-1)?.status).startsWith('finished')) {
          const frame = await stream.next(120_000);
          if (frame === undefined) throw new Error('the stream ended');
          expect(frame.event).toBe('status');
          events.push(sseStatusOf(frame));
        }
        expect(events[0]).toMatchObject({ jid: id, run: 1, status: 'notstarted' });
        expect(events.filter((ev) => ev.status.startsWith('finished'))).toHaveLength(1);
        expect(events.at(-1)).toMatchObject({ status: 'finishedWithError' });
        expect(events.at(-1)?.message).toMatch(/exit code 3/);
      } finally {
        await stream.cancel();
      }
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });

    it('logs/?follow=1 streams every line once, from the start to the end of the job', async () => {
      const id = jid();
      const script = 'for i in 1 2 3 4 5 6; do echo line-$i; sleep 1; done';
      expect((await call(`${server.url}/api/v1/`, 'POST', await body(id, script))).status).toBe(
        201,
      );
      await until(
        'the first line',
        () => job(id),
        (r) => String(r.json.logs).includes('line-1'),
        60_000,
      );
      const res = await fetch(`${server.url}/api/v1/${id}/logs/?follow=1`, {
        signal: AbortSignal.timeout(120_000),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe([1, 2, 3, 4, 5, 6].map((i) => `line-${i}\n`).join(''));
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });

    it('timeout_seconds ends a sleep 300 as DeadlineExceeded, keeping its log', async () => {
      const id = jid();
      expect(
        (
          await call(
            `${server.url}/api/v1/`,
            'POST',
            await body(id, 'echo started; sleep 300', { timeout_seconds: 5 }),
          )
        ).status,
      ).toBe(201);
      // Slurm holds the deadline too (whole minutes, rounded up): its own backstop.
      const slurm = new SlurmClient(
        {
          endpoint: e.endpoint,
          token: { kind: 'value', token: e.token },
          user: e.user,
          apiVersion: 'v0.0.38',
        },
        30_000,
      );
      const listed = (await slurm.call('GET', slurm.path('jobs'))) as {
        jobs: Array<{ name: string; time_limit: unknown }>;
      };
      expect(listed.jobs.filter((j) => j.name === id).map((j) => j.time_limit)).toEqual([1]);
      const done = await terminal(id);
      expect(done.json).toMatchObject({
        status: 'finishedWithError',
        message: 'DeadlineExceeded: ran longer than 5 s',
      });
      expect(String(done.json.logs)).toContain('started');
      expect((await call(`${server.url}/api/v1/${id}/`, 'DELETE')).status).toBe(204);
    });
  });
});
