// The Docker backend against the real engine: the conformance suite, then what only Docker shows
// (inspect of the create body, pulls, start failures, foreign containers, restarts, and issue 11:
// the background start, resume(), watchJobs() snapshots that survive a `docker rm -f`).
import { REACH_PROBE, startHostListener } from './host-listener.js';
import type { HostListener } from './host-listener.js';
import { statusOf, logsOf } from '../fixtures.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, JobRead } from '../../src/backends/backend.js';
import { createDockerBackend } from '../../src/backends/docker/docker.js';
import { resolveLocalVolume } from '../../src/backends/shared/local-volume.js';
import type { DockerBackendConfig } from '../../src/config/config.js';
import {
  BackendUnavailableError,
  ConflictError,
  DirectoryError,
  InvalidSpecError,
  NotFoundError,
} from '../../src/domain/errors.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  INCOMING,
  OUTGOING,
  TERMINAL_STATUSES,
  type JobInfo,
  type JobSpec,
} from '../../src/domain/job.js';
import { defaultJobHardening } from '../../src/backends/shared/job-hardening.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../src/backends/shared/labels.js';
import { describeBackend, until } from '../contract/backend.contract.js';
import { realHarness } from '../contract/real-harness.js';
import { requireEngine } from './engine-available.js';
import { hostJobSpec, untilFinished } from './host-job.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
const engineUp = await requireEngine();
const log = pino({ level: 'silent' });
const deps = { log, timeoutMs: 30_000 };

function config(overrides: Partial<DockerBackendConfig> = {}): DockerBackendConfig {
  return {
    kind: 'docker',
    alias: 'docker',
    engine: { tlsVerify: false },
    ignoreLimits: false,
    memoryLimitMode: 'hard',
    imagePullWaitSeconds: 0,
    imagePullTimeoutSeconds: 600,
    maxConcurrentPulls: 8,
    hardening: defaultJobHardening('none'),
    ...overrides,
  };
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/**
 * Issue 11: a refusal after create answered. Creates the job with an onFailed listener and
 * returns the finishedWithError JobInfo it hands over (the create itself answered notstarted).
 */
async function failedAfterCreate(backend: Backend, s: JobSpec): Promise<JobInfo> {
  const failed: JobInfo[] = [];
  const created = await backend.create(s, { onFailed: (info) => failed.push(info) });
  expect(created.status).toBe('notstarted');
  await until(
    `${s.name} to fail`,
    () => Promise.resolve(failed.length),
    (n) => n > 0,
    60_000,
  );
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ name: s.name, status: 'finishedWithError' });
  return failed[0] as JobInfo;
}

/** Whether the engine can hand out GPUs (an nvidia runtime registered): decided before any test. */
function engineHasGpus(): boolean {
  if (!engineUp) return false;
  return /nvidia/i.test(docker('info', '--format', '{{json .Runtimes}}'));
}

/** Names of all containers (any state) whose name starts with `prefix`. */
/** Create answers before the start (issue 11): wait until the job runs before exec-ing into it. */
function untilStarted(backend: Backend, name: string): Promise<JobInfo> {
  return until(
    `${name} to start`,
    () => statusOf(backend, name),
    (i) => i.status !== 'notstarted',
    30_000,
  );
}

function containersNamed(prefix: string): string[] {
  const out = docker('ps', '-a', '--filter', `name=^/${prefix}`, '--format', '{{.Names}}');
  return out === '' ? [] : out.split('\n');
}

if (engineUp) {
  describeBackend('docker', async () =>
    realHarness(await createDockerBackend(config(), deps), IMAGE),
  );
}

describe.skipIf(!engineUp)('docker backend on the real engine', () => {
  const run = `pman-dk-${randomBytes(3).toString('hex')}`;
  let storeBase: string;
  let backend: Backend;
  let n = 0;
  const nextName = (): string => `${run}-${++n}`;

  beforeAll(async () => {
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-docker-'));
    backend = await createDockerBackend(config(), deps);
  });

  afterAll(async () => {
    await backend?.close();
    // Everything this run made, ours or deliberately foreign, whatever the tests left.
    for (const name of containersNamed(run)) docker('rm', '-f', '-v', name);
    await rm(storeBase, { recursive: true, force: true });
  });

  const spec = (name: string, script: string, extra: Partial<JobSpec> = {}): Promise<JobSpec> =>
    hostJobSpec(
      {
        storeBase,
        name,
        image: IMAGE,
        // As toJobSpec builds it for an `ds` plugin: the dirs come last, as positional args.
        command: ['/bin/sh', '-c', script, 'sh', INCOMING, OUTGOING],
        labels: { [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE, 'org.example.team': 'pman-tests' },
        input: { file: 'input.txt', content: 'data from pfcon\n' },
      },
      extra,
    );

  const finished = (name: string, b: Backend = backend): Promise<JobInfo> => untilFinished(b, name);

  it('copies incoming to outgoing through real bind mounts', async () => {
    const name = nextName();
    const created = await backend.create(await spec(name, 'cp "$1/input.txt" "$2/copied.txt"'));
    expect(created).toMatchObject({ name, image: IMAGE, status: 'notstarted', message: 'created' });
    const done = await finished(name);
    expect(done).toMatchObject({ status: 'finishedSuccessfully', message: 'exited' });
    expect(done.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(await readFile(path.join(storeBase, name, 'outgoing', 'copied.txt'), 'utf8')).toBe(
      'data from pfcon\n',
    );
  });

  it('exit 3 → finishedWithError "exited with code 3", logs from stdout and stderr', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'echo to-out; echo to-err >&2; exit 3'));
    expect(await finished(name)).toMatchObject({
      status: 'finishedWithError',
      message: 'exited with code 3',
    });
    const logs = await logsOf(backend, name, { tail: 100, maxBytes: 10_000 });
    expect(logs.split('\n').sort()).toEqual(['', 'to-err', 'to-out']);
  });

  it('non-ASCII logs survive, and streamLogs gives the same bytes demultiplexed', async () => {
    const name = nextName();
    await backend.create(await spec(name, "printf 'héllo ✓ 😀\\nzweite Zeile ü\\n'"));
    await finished(name);
    expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toBe(
      'héllo ✓ 😀\nzweite Zeile ü\n',
    );
    const parts: Uint8Array[] = [];
    for await (const chunk of backend.streamLogs(name, 1)) parts.push(chunk);
    expect(Buffer.concat(parts).toString('utf8')).toBe('zweite Zeile ü\n');
  });

  it('applies limits, user, groups, shm, env and labels to the container (docker inspect)', async () => {
    const name = nextName();
    const s = await spec(name, 'sleep 30', {
      env: { GREETING: 'a=b c', HOME: '/tmp' },
      user: { uid: 1234, gid: 5678 },
      shmMiB: 32,
      resources: { workers: 1, cpuMillicores: 250, memoryMiB: 100, gpus: 0 },
    });
    await backend.create(s);
    const inspect = JSON.parse(docker('inspect', name)) as [
      {
        Config: {
          User: string;
          Env: string[];
          Labels: Record<string, string>;
          Entrypoint: string[];
          Cmd: string[] | null;
          Tty: boolean;
        };
        HostConfig: {
          NanoCpus: number;
          Memory: number;
          MemoryReservation: number;
          ShmSize: number;
          GroupAdd: string[];
          Binds: string[];
          RestartPolicy: { Name: string };
          SecurityOpt: string[];
        };
      },
    ];
    const { Config, HostConfig } = inspect[0];
    expect(HostConfig.NanoCpus).toBe(250_000_000);
    expect(HostConfig.Memory).toBe(100 * 2 ** 20);
    expect(HostConfig.MemoryReservation).toBe(100 * 2 ** 20);
    expect(HostConfig.ShmSize).toBe(32 * 2 ** 20);
    expect(HostConfig.GroupAdd).toEqual(['5678']);
    expect(HostConfig.RestartPolicy.Name).toBe('no');
    expect(HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(HostConfig.Binds).toEqual([
      `${storeBase}/${name}/incoming:/share/incoming:ro`,
      `${storeBase}/${name}/outgoing:/share/outgoing:rw`,
    ]);
    expect(Config.User).toBe('1234');
    expect(Config.Tty).toBe(false);
    expect(Config.Env).toEqual(expect.arrayContaining(['GREETING=a=b c', 'HOME=/tmp']));
    expect(Config.Labels).toMatchObject({
      [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      'org.example.team': 'pman-tests',
    });
    expect(Config.Entrypoint).toEqual(s.command);
    expect(Config.Cmd ?? []).toEqual([]);
    // The process really runs as that user with that extra group.
    await untilStarted(backend, name);
    expect(docker('exec', name, 'id')).toMatch(/uid=1234 .*groups=.*5678/);
    await backend.delete(name);
  });

  it('delete removes the container; get and delete then answer NotFound', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'sleep 30'));
    expect(containersNamed(name)).toEqual([name]);
    await backend.delete(name);
    expect(containersNamed(name)).toEqual([]);
    await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a duplicate name is a Conflict, checked before any pull, and the first job is untouched', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'sleep 30'));
    const again = await spec(name, 'exit 9', { image: '127.0.0.1:5999/pman-ts/never-pulled:x' });
    await expect(backend.create(again)).rejects.toThrow(`job "${name}" already exists`);
    await expect(backend.create(again)).rejects.toBeInstanceOf(ConflictError);
    expect((await untilStarted(backend, name)).status).toBe('started');
    await backend.delete(name);
  });

  it('issue 11: a missing image → 201 pulling image, then onFailed naming the pull error, no container', async () => {
    const name = nextName();
    const image = `127.0.0.1:5999/pman-ts/${run}-missing:test`;
    const failed = await failedAfterCreate(backend, await spec(name, 'true', { image }));
    expect(failed.message).toMatch(/^image pull failed: .+/);
    expect(containersNamed(name)).toEqual([]);
    expect(await statusOf(backend, name)).toMatchObject({ status: 'finishedWithError' });
    await backend.delete(name);
    await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('issue 11: a start failure (missing executable) → create answers, onFailed gets the engine text, container removed', async () => {
    const name = nextName();
    const s = { ...(await spec(name, 'true')), command: ['/no/such/executable', OUTGOING] };
    const failed = await failedAfterCreate(backend, s);
    expect(failed.message).toMatch(/no such file or directory|not found/i);
    expect(containersNamed(name)).toEqual([]);
    expect(await statusOf(backend, name)).toMatchObject({
      status: 'finishedWithError',
      message: failed.message,
    });
    await backend.delete(name);
  });

  // Decided up front, not inside the test: an engine with GPUs would run the job, and a test that
  // then returns early would pass without checking anything.
  it.skipIf(engineHasGpus())(
    'a GPU request on an engine without GPUs → onFailed with the engine text, container removed',
    async () => {
      const name = nextName();
      const s = await spec(name, 'true', {
        resources: { workers: 1, cpuMillicores: 500, memoryMiB: 64, gpus: 1 },
      });
      // The engine refuses at start (no device driver), which now happens after create answered.
      const failed = await failedAfterCreate(backend, s);
      expect(failed.message).toMatch(/gpu|device/i);
      expect(containersNamed(name)).toEqual([]);
      await backend.delete(name);
    },
  );

  it('a memory limit the engine refuses (4 MiB) → InvalidSpecError, nothing created', async () => {
    const name = nextName();
    const s = await spec(name, 'true', {
      resources: { workers: 1, cpuMillicores: 500, memoryMiB: 4, gpus: 0 },
    });
    await expect(backend.create(s)).rejects.toBeInstanceOf(InvalidSpecError);
    expect(containersNamed(name)).toEqual([]);
  });

  it('OOM: 8 MiB and a shell that allocates → OOMKilled (exit code 137)', async () => {
    const name = nextName();
    await backend.create(
      await spec(name, 'head -c 64m /dev/zero | tail', {
        resources: { workers: 1, cpuMillicores: 500, memoryMiB: 8, gpus: 0 },
      }),
    );
    const done = await finished(name);
    expect(done.status).toBe('finishedWithError');
    expect(done.message).toMatch(/^OOMKilled \(exit code \d+\)$|^exited with code 137/);
  });

  it('a foreign container of the same name: create Conflict, get/delete NotFound, never removed', async () => {
    const name = nextName();
    docker('create', '--name', name, IMAGE, 'true');
    await expect(backend.create(await spec(name, 'true'))).rejects.toBeInstanceOf(ConflictError);
    await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    expect((await backend.list()).map((j) => j.name)).not.toContain(name);
    expect(containersNamed(name)).toEqual([name]);
  });

  it('a restarted server (a new backend) finds the job again from the engine alone', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'echo before restart'));
    await finished(name);
    const restarted = await createDockerBackend(config(), deps);
    try {
      expect(await statusOf(restarted, name)).toMatchObject({
        name,
        image: IMAGE,
        status: 'finishedSuccessfully',
        message: 'exited',
      });
      expect((await statusOf(restarted, name)).command).toEqual([
        '/bin/sh',
        '-c',
        'echo before restart',
        'sh',
        INCOMING,
        OUTGOING,
      ]);
      expect((await restarted.list()).map((j) => j.name)).toContain(name);
      expect(await logsOf(restarted, name, { tail: 10, maxBytes: 100 })).toBe('before restart\n');
    } finally {
      await restarted.close();
    }
  });

  it('reports the host capacity as capabilities', () => {
    const info = JSON.parse(docker('info', '--format', '{{json .}}')) as {
      NCPU: number;
      MemTotal: number;
    };
    expect(backend.capabilities).toMatchObject({
      maxWorkers: 1,
      gpus: true,
      maxCpuMillicores: info.NCPU * 1000,
      maxMemoryMiB: Math.floor(info.MemTotal / 2 ** 20),
      runAsUser: true,
      mountKinds: ['host'],
    });
  });

  it('issue 11: watchJobs → exit 3 gives one terminal snapshot with exitCode 3 and its logs, though `docker rm -f` removes the container 1 s after the exit', async () => {
    const watching = await createDockerBackend(config(), deps);
    try {
      const name = nextName();
      const seen: JobRead[] = [];
      watching.watchJobs?.({ tail: Number.MAX_SAFE_INTEGER, maxBytes: 1 << 20 }, (x) => {
        if (x.info.name === name) seen.push(x);
      });
      // 2000 numbered lines, then exit 3: the snapshot must hold all of them.
      await watching.create(await spec(name, 'seq 1 2000; exit 3'));
      // Nobody reads the job: wait for the exit from outside, then remove it a second later.
      await until(
        `${name} to exit`,
        () => Promise.resolve(docker('inspect', '-f', '{{.State.Status}}', name)),
        (state) => state === 'exited',
        30_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      docker('rm', '-f', name);
      await until(
        'the terminal snapshot',
        () => Promise.resolve(seen.filter((x) => TERMINAL_STATUSES.has(x.info.status))),
        (t) => t.length > 0,
        10_000,
      );
      const terminal = seen.filter((x) => TERMINAL_STATUSES.has(x.info.status));
      expect(terminal).toHaveLength(1);
      expect(terminal[0]?.info).toMatchObject({
        name,
        status: 'finishedWithError',
        message: 'exited with code 3',
        exitCode: 3,
      });
      const expected = Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join('');
      expect(terminal[0]?.logs).toBe(expected);
      // The way there was reported too, once per status, without logs.
      const before = seen.filter((x) => !TERMINAL_STATUSES.has(x.info.status));
      for (const x of before) expect(x.logs).toBe('');
      const statuses = seen.map((x) => x.info.status);
      expect(statuses.filter((x, i) => x === statuses[i - 1])).toEqual([]);
    } finally {
      await watching.close();
    }
  });

  it('issue 11: resume() starts a container created but never started (a crash between create and start)', async () => {
    const name = nextName();
    // What an earlier process left: our container, created, never started.
    docker(
      'create',
      '--name',
      name,
      '--label',
      `${DOCKER_MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
      '--entrypoint',
      '/bin/sh',
      IMAGE,
      '-c',
      'echo resumed',
    );
    expect(await statusOf(backend, name)).toMatchObject({
      status: 'notstarted',
      message: 'created',
    });
    await backend.resume?.(name);
    expect(await finished(name)).toMatchObject({ status: 'finishedSuccessfully', exitCode: 0 });
    expect(await logsOf(backend, name, { tail: 10, maxBytes: 100 })).toBe('resumed\n');
    // Ran already: a no-op, not a second run.
    await backend.resume?.(name);
    expect(docker('inspect', '-f', '{{.State.Status}}', name)).toBe('exited');
    expect(await logsOf(backend, name, { tail: 10, maxBytes: 100 })).toBe('resumed\n');
    await expect(backend.resume?.(`${name}-none`)).rejects.toBeInstanceOf(NotFoundError);
    await backend.delete(name);
  });

  it('issue 11: create answers before the start (notstarted / created), and the job then runs', async () => {
    const name = nextName();
    const created = await backend.create(await spec(name, 'echo quick'));
    expect(created).toMatchObject({ status: 'notstarted', message: 'created' });
    expect(await finished(name)).toMatchObject({ status: 'finishedSuccessfully', exitCode: 0 });
    expect(await logsOf(backend, name, { tail: 10, maxBytes: 100 })).toBe('quick\n');
  });

  describe('a pull that outlasts IMAGE_PULL_WAIT_SECONDS (registry that never answers)', () => {
    let registry: Server;
    const sockets = new Set<Socket>();
    let port = 0;
    let slow: Backend;

    beforeAll(async () => {
      // Accepts connections and says nothing: the engine's pull hangs until we give up.
      registry = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
      const address = registry.address();
      port = typeof address === 'object' && address !== null ? address.port : 0;
      slow = await createDockerBackend(
        config({ imagePullWaitSeconds: 1, imagePullTimeoutSeconds: 3 }),
        deps,
      );
    });

    afterAll(async () => {
      await slow?.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => registry.close(() => resolve()));
    });

    it('201 notstarted / "pulling image", then finishedWithError "image pull failed: timed out after 3 s"', async () => {
      const name = nextName();
      const image = `127.0.0.1:${port}/pman-ts/slow:test`;
      const created = await slow.create(await spec(name, 'true', { image }));
      expect(created).toMatchObject({
        name,
        image,
        status: 'notstarted',
        message: 'pulling image',
      });
      expect(await statusOf(slow, name)).toMatchObject({
        status: 'notstarted',
        message: 'pulling image',
      });
      expect(await logsOf(slow, name, { tail: 10, maxBytes: 100 })).toBe('');
      expect((await slow.list()).map((j) => j.name)).toContain(name);
      await expect(slow.create(await spec(name, 'true'))).rejects.toBeInstanceOf(ConflictError);
      const done = await finished(name, slow);
      expect(done).toMatchObject({
        status: 'finishedWithError',
        message: 'image pull failed: timed out after 3 s',
      });
      expect(containersNamed(name)).toEqual([]);
      await slow.delete(name);
      await expect(statusOf(slow, name)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('delete cancels a pending pull', async () => {
      const name = nextName();
      const image = `127.0.0.1:${port}/pman-ts/slow2:test`;
      expect((await slow.create(await spec(name, 'true', { image }))).message).toBe(
        'pulling image',
      );
      await slow.delete(name);
      await expect(statusOf(slow, name)).rejects.toBeInstanceOf(NotFoundError);
      expect(containersNamed(name)).toEqual([]);
    });
  });
});

describe.skipIf(!engineUp)(
  'docker job hardening on the real engine (issue 10: 9, 4, 1, 12)',
  () => {
    const run = `pman-dh-${randomBytes(3).toString('hex')}`;
    let storeBase: string;
    let backend: Backend;
    let n = 0;
    const nextName = (): string => `${run}-${++n}`;
    const opened: Backend[] = [];
    const open = async (overrides: Partial<DockerBackendConfig>): Promise<Backend> => {
      const b = await createDockerBackend(config(overrides), deps);
      opened.push(b);
      return b;
    };

    beforeAll(async () => {
      storeBase = await mkdtemp(path.join(tmpdir(), 'pman-dh-'));
      backend = await open({});
    });

    afterAll(async () => {
      for (const b of opened) await b.close();
      for (const name of containersNamed(run)) docker('rm', '-f', '-v', name);
      await rm(storeBase, { recursive: true, force: true });
    });

    const spec = (name: string, script: string, extra: Partial<JobSpec> = {}): Promise<JobSpec> =>
      hostJobSpec(
        {
          storeBase,
          name,
          image: IMAGE,
          command: ['/bin/sh', '-c', script, 'sh', INCOMING, OUTGOING],
          labels: {},
          input: { file: 'input.txt', content: 'data from pfcon\n' },
        },
        extra,
      );

    interface Hardened {
      HostConfig: {
        PidsLimit: number | null;
        CapDrop: string[] | null;
        CapAdd: string[] | null;
        SecurityOpt: string[] | null;
        NetworkMode: string;
      };
    }

    it('PID limit, no-new-privileges, capabilities and network "none" by default (docker inspect)', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'sleep 30'));
      const [c] = JSON.parse(docker('inspect', name)) as [Hardened];
      expect(c.HostConfig).toMatchObject({
        PidsLimit: 1024,
        CapDrop: ['ALL'],
        CapAdd: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID'],
        SecurityOpt: ['no-new-privileges'],
        NetworkMode: 'none',
      });
      // The process really runs with them: the bounding set is the five capabilities (0xcb =
      // CHOWN|DAC_OVERRIDE|FOWNER|SETGID|SETUID) and NoNewPrivs is set.
      await untilStarted(backend, name);
      const status = docker('exec', name, 'cat', '/proc/1/status');
      expect(status).toMatch(/^CapBnd:\s+0*cb$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      await backend.delete(name);
    });

    it('each is configurable: JOB_PIDS_LIMIT=0, JOB_NO_NEW_PRIVILEGES=no, empty cap lists', async () => {
      const open0 = await open({
        hardening: {
          ...defaultJobHardening('none'),
          pidsLimit: 0,
          noNewPrivileges: false,
          capDrop: [],
          capAdd: [],
        },
      });
      const name = nextName();
      await open0.create(await spec(name, 'sleep 30'));
      const [c] = JSON.parse(docker('inspect', name)) as [Hardened];
      expect(c.HostConfig.PidsLimit ?? 0).toBe(0);
      expect(c.HostConfig.CapDrop ?? []).toEqual([]);
      expect(c.HostConfig.CapAdd ?? []).toEqual([]);
      expect(c.HostConfig.SecurityOpt ?? []).toEqual([]);
      await open0.delete(name);
    });

    it("pfcon's flow: a root plugin writes into an outgoing folder another uid created (0755)", async () => {
      const name = nextName();
      const s = await spec(
        name,
        'cp "$1/input.txt" "$2/out.txt" && mkdir "$2/sub" && chown 1001:1001 "$2/out.txt"',
      );
      const outgoing = path.join(storeBase, name, 'outgoing');
      // pfcon runs as uid 1001 and creates the job's folders; the plugin image runs as root.
      await chown(outgoing, 1001, 1001);
      await chmod(outgoing, 0o755);
      await backend.create(s);
      expect(await untilFinished(backend, name)).toMatchObject({ status: 'finishedSuccessfully' });
      expect(await readFile(path.join(outgoing, 'out.txt'), 'utf8')).toBe('data from pfcon\n');
      expect((await stat(path.join(outgoing, 'out.txt'))).uid).toBe(1001);
      // The same job without DAC_OVERRIDE cannot write there: the capability set is what makes the
      // flow work, not an accident of the defaults.
      const bare = await open({ hardening: { ...defaultJobHardening('none'), capAdd: [] } });
      const denied = nextName();
      const s2 = await spec(denied, 'cp "$1/input.txt" "$2/out.txt"');
      await chown(path.join(storeBase, denied, 'outgoing'), 1001, 1001);
      await chmod(path.join(storeBase, denied, 'outgoing'), 0o755);
      await bare.create(s2);
      expect(await untilFinished(bare, denied)).toMatchObject({ status: 'finishedWithError' });
    });

    describe('JOB_NETWORK: a job cannot reach a port the host listens on', () => {
      let listener: HostListener;
      let target = '';

      beforeAll(async () => {
        listener = await startHostListener();
        target = listener.target;
      });
      afterAll(() => listener.close());
      const probe = REACH_PROBE;

      it('the default ("none"): the connection fails, and the job itself runs to its end', async () => {
        const name = nextName();
        await backend.create(await spec(name, probe, { env: { TARGET: target } }));
        expect(await untilFinished(backend, name)).toMatchObject({
          status: 'finishedWithError',
          message: 'exited with code 7',
        });
        expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toMatch(/^unreachable$/m);
      });

      it('control: JOB_NETWORK=bridge (the old behaviour) reaches it, so the probe is real', async () => {
        const open1 = await open({ hardening: defaultJobHardening('bridge') });
        const name = nextName();
        await open1.create(await spec(name, probe, { env: { TARGET: target } }));
        expect(await untilFinished(open1, name)).toMatchObject({ status: 'finishedSuccessfully' });
        expect(await logsOf(open1, name, { tail: 10, maxBytes: 1000 })).toMatch(/^reached$/m);
      });

      it('start-up refuses JOB_NETWORK=host and a network that does not exist', async () => {
        await expect(
          createDockerBackend(config({ hardening: defaultJobHardening('host') }), deps),
        ).rejects.toThrow(/JOB_NETWORK/);
        await expect(
          createDockerBackend(config({ hardening: defaultJobHardening(`${run}-nonet`) }), deps),
        ).rejects.toBeInstanceOf(ConfigError);
      });
    });

    it('the mount re-check runs before create and before the background start; a refusal there leaves no container and reaches onFailed', async () => {
      const name = nextName();
      let calls = 0;
      const recheckMounts = (): Promise<void> => {
        calls += 1;
        // The first check passes; by the one right before start the folder "became" a symlink.
        return calls === 1
          ? Promise.resolve()
          : Promise.reject(new DirectoryError({ output: 'leads outside storeBase' }));
      };
      // The second check runs right before the background start: the job fails after create answered.
      const refused: JobInfo[] = [];
      const created = await backend.create(await spec(name, 'true'), {
        recheckMounts,
        onFailed: (info) => refused.push(info),
      });
      expect(created.status).toBe('notstarted');
      await until(
        'the refusal',
        () => Promise.resolve(refused.length),
        (k) => k > 0,
        30_000,
      );
      expect(calls).toBe(2);
      expect(refused[0]).toMatchObject({
        status: 'finishedWithError',
        message: 'output: leads outside storeBase',
      });
      expect(containersNamed(name)).toEqual([]);
      await backend.delete(name);
    });

    it('INSTANCE_ID: another instance neither lists, reads nor deletes our job', async () => {
      const other = await open({ instanceId: 'other' });
      const name = nextName();
      await backend.create(await spec(name, 'sleep 30'));
      expect((await other.list()).map((j) => j.name)).not.toContain(name);
      await expect(statusOf(other, name)).rejects.toBeInstanceOf(NotFoundError);
      await expect(other.delete(name)).rejects.toBeInstanceOf(NotFoundError);
      expect(containersNamed(name)).toEqual([name]);
      const theirs = nextName();
      await other.create(await spec(theirs, 'sleep 30'));
      const label = docker(
        'inspect',
        theirs,
        '--format',
        `{{index .Config.Labels "${DOCKER_MANAGED_BY_LABEL}"}}`,
      );
      expect(label).toBe('pman-other');
      expect((await backend.list()).map((j) => j.name)).not.toContain(theirs);
      expect((await other.list()).map((j) => j.name)).toEqual([theirs]);
      await other.delete(theirs);
      await backend.delete(name);
    });
  },
);

describe.skipIf(!engineUp)('resolveLocalVolume (docker_local_volume storage)', () => {
  const run = `pman-lv-${randomBytes(3).toString('hex')}`;
  const engine = { tlsVerify: false };
  const selector = `org.chrisproject.role=${run}`;

  afterAll(() => {
    for (const name of containersNamed(run)) docker('rm', '-f', '-v', name);
    const volumes = docker('volume', 'ls', '-q', '--filter', `name=${run}`);
    for (const v of volumes === '' ? [] : volumes.split('\n')) docker('volume', 'rm', '-f', v);
  });

  it('VOLUME_NAME → the volume mountpoint; an unknown volume → ConfigError', async () => {
    const volume = `${run}-vol`;
    docker('volume', 'create', volume);
    const mountpoint = docker('volume', 'inspect', '--format', '{{.Mountpoint}}', volume);
    const opts = { volumeName: volume, pfconSelector: selector };
    expect(await resolveLocalVolume(engine, opts, 10_000)).toBe(mountpoint);
    const missing = { volumeName: `${run}-nope`, pfconSelector: selector };
    await expect(resolveLocalVolume(engine, missing, 10_000)).rejects.toBeInstanceOf(ConfigError);
  });

  it('no VOLUME_NAME → the storeBase mount of the container matching PFCON_SELECTOR', async () => {
    await expect(resolveLocalVolume(engine, { pfconSelector: selector }, 10_000)).rejects.toThrow(
      /no container matches PFCON_SELECTOR/,
    );
    const volume = `${run}-pfcon`;
    docker('volume', 'create', volume);
    const mountpoint = docker('volume', 'inspect', '--format', '{{.Mountpoint}}', volume);
    docker(
      'create',
      '--name',
      `${run}-pfcon`,
      '--label',
      selector,
      '-v',
      `${volume}:/var/local/storeBase`,
      IMAGE,
      'true',
    );
    expect(await resolveLocalVolume(engine, { pfconSelector: selector }, 10_000)).toBe(mountpoint);
  });
});

describe('docker backend without an engine', () => {
  it('an unreachable engine → BackendUnavailableError at start-up', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // The port was just freed: nothing listens there.
    const cfg = config({ engine: { host: `tcp://127.0.0.1:${port}`, tlsVerify: false } });
    await expect(createDockerBackend(cfg, { log, timeoutMs: 5000 })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });
});
