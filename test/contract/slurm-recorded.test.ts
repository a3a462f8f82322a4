// Recorded slurmrestd 22.05 answers (openapi/v0.0.38, captured from the real daemon that
// scripts/slurm-up.sh starts; test/fakes/slurm/v0.0.38/) served over a unix socket: every shape the
// slurm backend reads is parsed by the backend's own code, so an API-version change is caught here.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slurmCapabilities } from '../../src/backends/slurm/capacity.js';
import {
  ESLURM_INVALID_JOB_ID,
  SlurmApiError,
  SlurmClient,
} from '../../src/backends/slurm/client.js';
import type { SlurmBackendConfig } from '../../src/backends/slurm/settings.js';
import { createSlurmBackend } from '../../src/backends/slurm/slurm.js';
import {
  fromSlurmJob,
  jobsAnswerSchema,
  nodesAnswerSchema,
  submitAnswerSchema,
} from '../../src/backends/slurm/status.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  BackendUnavailableError,
  InvalidSpecError,
  NotFoundError,
} from '../../src/domain/errors.js';
import { sampleSpec } from '../fixtures.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fakes/slurm/v0.0.38');
const META = { image: 'i', command: ['c'] };

async function fixture(name: string): Promise<unknown> {
  return JSON.parse(await readFile(path.join(FIXTURES, `${name}.json`), 'utf8')) as unknown;
}

/** method + path → [HTTP status as recorded, fixture]; what was asked is kept in `seen`. */
type Routes = Record<string, [number, string]>;

describe('slurmrestd v0.0.38 as recorded (22.05.8)', () => {
  let dir: string;
  let server: Server;
  let socketPath: string;
  let routes: Routes = {};
  const seen: Array<{
    method: string;
    url: string;
    body: string;
    headers: Record<string, unknown>;
  }> = [];
  /** Rewrites a fixture before it is served (marking recorded jobs as ours). */
  let rewrite: (name: string, body: string) => string = (_n, b) => b;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pman-slurm-rec-'));
    socketPath = path.join(dir, 'slurmrestd.sock');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const key = `${req.method ?? ''} ${req.url ?? ''}`;
        seen.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
        const route = routes[key];
        if (route === undefined) {
          res.writeHead(404).end('no route');
          return;
        }
        void readFile(path.join(FIXTURES, `${route[1]}.json`), 'utf8').then((text) => {
          res
            .writeHead(route[0], { 'Content-Type': 'application/json' })
            .end(rewrite(route[1], text));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const client = (): SlurmClient =>
    new SlurmClient(
      {
        endpoint: { kind: 'unix', socketPath },
        token: { kind: 'value', token: 'tok' },
        user: 'pmanslurm',
        apiVersion: 'v0.0.38',
      },
      5000,
    );

  it('ping over a unix socket, with the token headers', async () => {
    routes = { 'GET /slurm/v0.0.38/ping': [200, 'ping'] };
    await client().call('GET', client().path('ping'));
    const last = seen.at(-1);
    expect(last?.headers['x-slurm-user-name']).toBe('pmanslurm');
    expect(last?.headers['x-slurm-user-token']).toBe('tok');
  });

  it('SLURM_JWT_FILE: the token is read from the file (SLURM_JWT= prefix of `scontrol token` too)', async () => {
    routes = { 'GET /slurm/v0.0.38/ping': [200, 'ping'] };
    const file = path.join(dir, 'jwt');
    await writeFile(file, 'SLURM_JWT=from-file\n');
    const c = new SlurmClient(
      {
        endpoint: { kind: 'unix', socketPath },
        token: { kind: 'file', path: file },
        user: 'pmanslurm',
        apiVersion: 'v0.0.38',
      },
      5000,
    );
    await c.call('GET', c.path('ping'));
    expect(seen.at(-1)?.headers['x-slurm-user-token']).toBe('from-file');
  });

  it('nodes: the largest node gives the capabilities', async () => {
    const { nodes } = nodesAnswerSchema.parse(await fixture('nodes'));
    const caps = slurmCapabilities(nodes, 'docker');
    expect(caps).toMatchObject({
      maxCpuMillicores: 2000,
      maxMemoryMiB: 24105,
      gpus: false,
      maxWorkers: 1,
    });
  });

  it('jobs: finished (exit status 768 = exit 3), running, pending for Resources, cancelled', async () => {
    const byName = async (name: string) =>
      new Map(
        jobsAnswerSchema
          .parse(await fixture(name))
          .jobs.map((j) => [j.name, fromSlurmJob(j, META)]),
      );
    const done = await byName('jobs-done');
    expect(done.get('cap-1')).toMatchObject({
      status: 'finishedWithError',
      exitCode: 3,
      message: 'failed (exit code 3)',
      timestamp: '2026-12-05T17:30:09.000Z',
    });
    const pending = await byName('jobs-pending');
    expect(pending.get('cap-2')).toMatchObject({ status: 'started', message: 'running' });
    expect(pending.get('cap-3')).toMatchObject({
      status: 'notstarted',
      message: 'pending (Resources)',
    });
    expect(pending.get('cap-4')).toMatchObject({
      status: 'notstarted',
      message: 'pending (PartitionConfig)',
    });
    const cancelled = await byName('jobs-cancelled');
    expect(cancelled.get('cap-2')).toMatchObject({
      status: 'finishedWithError',
      exitCode: 143,
      message: 'cancelled',
    });
  });

  it('submit: the job id; errors answered with HTTP 200 or 500 are errors', async () => {
    expect(submitAnswerSchema.parse(await fixture('submit')).job_id).toBe(1);
    routes = {
      'GET /slurm/v0.0.38/job/99999': [500, 'job-unknown'],
      'DELETE /slurm/v0.0.38/job/99999': [500, 'delete-unknown'],
      'POST /slurm/v0.0.38/job/submit': [200, 'submit-too-big'],
      'DELETE /slurm/v0.0.38/job/2': [200, 'delete'],
    };
    const c = client();
    for (const [method, p] of [
      ['GET', 'job/99999'],
      ['DELETE', 'job/99999'],
    ] as const) {
      const err = await c.call(method, c.path(p)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SlurmApiError);
      expect((err as SlurmApiError).has(ESLURM_INVALID_JOB_ID)).toBe(true);
    }
    const tooBig = await c.call('POST', c.path('job/submit'), {}).catch((e: unknown) => e);
    expect(tooBig).toBeInstanceOf(SlurmApiError);
    expect((tooBig as SlurmApiError).message).toBe(
      'Requested partition configuration not available now',
    );
    expect(submitAnswerSchema.parse((tooBig as SlurmApiError).body).job_id).toBe(4);
    await expect(c.call('DELETE', c.path('job/2'))).resolves.toBeDefined();
  });

  it('the backend over the recorded answers: our jobs only, and a refused submit cancels what Slurm queued', async () => {
    const logDir = path.join(dir, 'logs');
    // The recorded jobs carried the comment "pman-test": cap-1..3 become ours, cap-4 stays foreign.
    rewrite = (name, body) =>
      name.startsWith('jobs-')
        ? body.replace(
            /"comment": "pman-test",(\s+"container": "",\s+"contiguous": false,[\s\S]*?"name": "cap-[123]")/g,
            (_m, rest: string) => `"comment": "managed-by=pman;run=0a;labels={}",${rest}`,
          )
        : body;
    routes = {
      'GET /slurm/v0.0.38/ping': [200, 'ping'],
      'GET /slurm/v0.0.38/nodes': [200, 'nodes'],
      'GET /slurm/v0.0.38/jobs': [200, 'jobs-pending'],
      'POST /slurm/v0.0.38/job/submit': [200, 'submit-too-big'],
      'DELETE /slurm/v0.0.38/job/4': [200, 'delete'],
    };
    const cfg: SlurmBackendConfig = {
      kind: 'slurm',
      endpoint: { kind: 'unix', socketPath },
      token: { kind: 'value', token: 'tok' },
      user: 'pmanslurm',
      apiVersion: 'v0.0.38',
      runtime: 'docker',
      logDir,
      pollSeconds: 1,
    };
    const backend = await createSlurmBackend(cfg, {
      log: pino({ level: 'silent' }),
      timeoutMs: 5000,
    });
    try {
      expect(backend.capabilities.maxCpuMillicores).toBe(2000);
      const names = (await backend.list()).map((j) => j.name);
      expect(names).toEqual(['cap-1', 'cap-2', 'cap-3']);
      await expect(backend.read('cap-4')).rejects.toBeInstanceOf(NotFoundError);
      expect((await backend.read('cap-3')).info.message).toBe('pending (Resources)');
      const create = backend.create(sampleSpec({ name: 'big-one' }));
      await expect(create).rejects.toBeInstanceOf(InvalidSpecError);
      await expect(create).rejects.toThrow(
        /Slurm refused the job: Requested partition configuration/,
      );
      expect(seen.some((s) => s.method === 'DELETE' && s.url === '/slurm/v0.0.38/job/4')).toBe(
        true,
      );
      const submit = seen.filter((s) => s.method === 'POST').at(-1);
      const body = JSON.parse(submit?.body ?? '{}') as { job: Record<string, unknown> };
      expect(body.job).toMatchObject({ name: 'big-one', requeue: false });
    } finally {
      await backend.close();
      rewrite = (_n, b) => b;
    }
  });
  it('hundreds of jobs: every read within the poll interval shares one GET /jobs', async () => {
    const recorded = (await fixture('jobs-done')) as { jobs: Array<Record<string, unknown>> };
    const template = recorded.jobs[0] ?? {};
    const many = {
      ...recorded,
      jobs: Array.from({ length: 400 }, (_, i) => ({
        ...template,
        job_id: 1000 + i,
        name: `many-${i}`,
        comment: `managed-by=pman;run=${(1000 + i).toString(16)};labels={}`,
      })),
    };
    rewrite = (name, body) => (name === 'jobs-done' ? JSON.stringify(many) : body);
    routes = {
      'GET /slurm/v0.0.38/ping': [200, 'ping'],
      'GET /slurm/v0.0.38/nodes': [200, 'nodes'],
      'GET /slurm/v0.0.38/jobs': [200, 'jobs-done'],
    };
    const backend = await createSlurmBackend(
      {
        kind: 'slurm',
        endpoint: { kind: 'unix', socketPath },
        token: { kind: 'value', token: 'tok' },
        user: 'pmanslurm',
        apiVersion: 'v0.0.38',
        runtime: 'docker',
        logDir: path.join(dir, 'many-logs'),
        pollSeconds: 300,
      },
      { log: pino({ level: 'silent' }), timeoutMs: 5000 },
    );
    try {
      const before = seen.filter((x) => x.url === '/slurm/v0.0.38/jobs').length;
      const reads = await Promise.all(
        Array.from({ length: 400 }, (_, i) => backend.read(`many-${i}`)),
      );
      expect(reads.every((r) => r.info.status === 'finishedWithError')).toBe(true);
      expect((await backend.list()).length).toBe(400);
      expect(seen.filter((x) => x.url === '/slurm/v0.0.38/jobs').length - before).toBe(1);
    } finally {
      await backend.close();
      rewrite = (_n, b) => b;
    }
  });

  it('partitions: SLURM_PARTITION names known partitions, else the server does not start', async () => {
    routes = {
      'GET /slurm/v0.0.38/ping': [200, 'ping'],
      'GET /slurm/v0.0.38/nodes': [200, 'nodes'],
      'GET /slurm/v0.0.38/partitions': [200, 'partitions'],
      'GET /slurm/v0.0.38/jobs': [200, 'jobs-done'],
    };
    const cfg = (partition: string): SlurmBackendConfig => ({
      kind: 'slurm',
      endpoint: { kind: 'unix', socketPath },
      token: { kind: 'value', token: 'tok' },
      user: 'pmanslurm',
      apiVersion: 'v0.0.38',
      partition,
      runtime: 'docker',
      logDir: path.join(dir, 'partition-logs'),
      pollSeconds: 300,
    });
    const deps = { log: pino({ level: 'silent' }), timeoutMs: 5000 };
    const start = createSlurmBackend(cfg('pman,gpu'), deps);
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(
      /^SLURM_PARTITION: Slurm has no partition "gpu" \(it has pman\)$/,
    );
    const backend = await createSlurmBackend(cfg('pman'), deps);
    await backend.close();
  });

  it('a token slurmctld rejects (HTTP 500 "unable to load") is a start-up error naming SLURM_JWT', async () => {
    routes = { 'GET /slurm/v0.0.38/ping': [500, 'ping-bad-token'] };
    const start = createSlurmBackend(
      {
        kind: 'slurm',
        endpoint: { kind: 'unix', socketPath },
        token: { kind: 'value', token: 'bad.token.x' },
        user: 'pmanslurm',
        apiVersion: 'v0.0.38',
        runtime: 'docker',
        logDir: path.join(dir, 'bad-token-logs'),
        pollSeconds: 300,
      },
      { log: pino({ level: 'silent' }), timeoutMs: 5000 },
    );
    await expect(start).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(start).rejects.toThrow(/SLURM_USER=pmanslurm .*SLURM_JWT/);
  });

  it('a job list slurmrestd answers with an errors list (HTTP 500) is a BackendUnavailableError (503)', async () => {
    routes = {
      'GET /slurm/v0.0.38/ping': [200, 'ping'],
      'GET /slurm/v0.0.38/nodes': [200, 'nodes'],
      'GET /slurm/v0.0.38/jobs': [500, 'ping-bad-token'],
    };
    const backend = await createSlurmBackend(
      {
        kind: 'slurm',
        endpoint: { kind: 'unix', socketPath },
        token: { kind: 'value', token: 'tok' },
        user: 'pmanslurm',
        apiVersion: 'v0.0.38',
        runtime: 'docker',
        logDir: path.join(dir, 'list-error-logs'),
        pollSeconds: 300,
      },
      { log: pino({ level: 'silent' }), timeoutMs: 5000 },
    );
    try {
      await expect(backend.read('any')).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(backend.list()).rejects.toThrow(/could not list the jobs: .*unable to load/);
    } finally {
      await backend.close();
    }
  });
});
