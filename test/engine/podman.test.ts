// CONTAINER_ENV=podman on rootful Podman 4.3 (scripts/podman-up.sh): the conformance suite, then
// the Docker suite's cases where Podman answers differently (README "Podman"): how inspect reports
// binds and capabilities, `stopped` before cleanup, "remove" instead of "destroy", Podman's own PID
// limit default, GPU requests it would ignore. The server-level cases are e2e.test.ts's podman run.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, JobRead } from '../../src/backends/backend.js';
import { createPodmanBackend } from '../../src/backends/podman/podman.js';
import type { PodmanBackendConfig } from '../../src/backends/podman/settings.js';
import { defaultJobHardening } from '../../src/backends/shared/job-hardening.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../src/backends/shared/labels.js';
import { resolveLocalVolume } from '../../src/backends/shared/local-volume.js';
import { ConfigError } from '../../src/config/errors.js';
import { assertSupported } from '../../src/domain/capabilities.js';
import {
  BackendUnavailableError,
  ConflictError,
  NotFoundError,
  UnsupportedError,
} from '../../src/domain/errors.js';
import { INCOMING, OUTGOING, TERMINAL_STATUSES } from '../../src/domain/job.js';
import type { JobInfo, JobSpec } from '../../src/domain/job.js';
import { describeBackend, until } from '../contract/backend.contract.js';
import { realHarness } from '../contract/real-harness.js';
import { logsOf, statusOf } from '../fixtures.js';
import { hostJobSpec, untilFinished } from './host-job.js';
import { REACH_PROBE, startHostListener } from './host-listener.js';
import type { HostListener } from './host-listener.js';
import { PODMAN_HOST, podman, requirePodman } from './podman-available.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
const podmanUp = await requirePodman();
const log = pino({ level: 'silent' });
const deps = { log, timeoutMs: 30_000 };

function config(overrides: Partial<PodmanBackendConfig> = {}): PodmanBackendConfig {
  return {
    kind: 'podman',
    engine: { host: PODMAN_HOST, tlsVerify: false },
    ignoreLimits: false,
    memoryLimitMode: 'hard',
    imagePullWaitSeconds: 0,
    imagePullTimeoutSeconds: 600,
    maxConcurrentPulls: 8,
    hardening: defaultJobHardening('none'),
    ...overrides,
  };
}

/** Names of all containers (any state) whose name starts with `prefix` (Podman's name filter is
 *  a regular expression on the name without Docker's leading slash). */
function containersNamed(prefix: string): string[] {
  const out = podman('ps', '-a', '--filter', `name=^${prefix}`, '--format', '{{.Names}}');
  return out === '' ? [] : out.split('\n');
}

if (podmanUp) {
  describeBackend('podman', async () =>
    realHarness(await createPodmanBackend(config(), deps), IMAGE),
  );
}

describe.skipIf(!podmanUp)('podman backend on rootful Podman', () => {
  const run = `pman-pm-${randomBytes(3).toString('hex')}`;
  let storeBase: string;
  let backend: Backend;
  let n = 0;
  const nextName = (): string => `${run}-${++n}`;
  const opened: Backend[] = [];
  const open = async (overrides: Partial<PodmanBackendConfig> = {}): Promise<Backend> => {
    const b = await createPodmanBackend(config(overrides), deps);
    opened.push(b);
    return b;
  };

  beforeAll(async () => {
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-podman-'));
    backend = await open();
  });

  afterAll(async () => {
    for (const b of opened) await b.close();
    for (const name of containersNamed(run)) podman('rm', '-f', '-v', name);
    await rm(storeBase, { recursive: true, force: true });
  });

  const spec = (name: string, script: string, extra: Partial<JobSpec> = {}): Promise<JobSpec> =>
    hostJobSpec(
      {
        storeBase,
        name,
        image: IMAGE,
        command: ['/bin/sh', '-c', script, 'sh', INCOMING, OUTGOING],
        labels: { [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE, 'org.example.team': 'pman-tests' },
        input: { file: 'input.txt', content: 'data from pfcon\n' },
      },
      extra,
    );

  const untilStarted = (b: Backend, name: string): Promise<JobInfo> =>
    until(
      `${name} to start`,
      () => statusOf(b, name),
      (i) => i.status !== 'notstarted',
      30_000,
    );

  it('serves CONTAINER_ENV=podman, reports its host, and refuses GPU requests up front (Podman would ignore them)', async () => {
    expect(backend.name).toBe('podman');
    const nodes = (await backend.capacity?.()) ?? [];
    expect(nodes).toHaveLength(1);
    expect(nodes[0]?.cpuMillicores).toBeGreaterThan(0);
    expect(nodes[0]?.memoryMiB).toBeGreaterThan(0);
    expect(backend.capabilities).toMatchObject({ gpus: false, maxWorkers: 1, runAsUser: true });
    const s: JobSpec = {
      name: 'gpu',
      image: IMAGE,
      command: ['true'],
      env: {},
      labels: {},
      mounts: [],
      resources: { workers: 1, cpuMillicores: 500, memoryMiB: 64, gpus: 1 },
    };
    expect(() => assertSupported(s, backend.capabilities, 'podman')).toThrow(UnsupportedError);
    expect(() => assertSupported(s, backend.capabilities, 'podman')).toThrow(/DeviceRequests/);
  });

  it('copies incoming to outgoing; the exit is final at once ("stopped" before cleanup is never reported as undefined)', async () => {
    const watching = await open();
    const name = nextName();
    const seen: JobRead[] = [];
    watching.watchJobs?.({ tail: 100, maxBytes: 10_000 }, (x) => {
      if (x.info.name === name) seen.push(x);
    });
    await watching.create(await spec(name, 'cp "$1/input.txt" "$2/copied.txt"; echo done'));
    const done = await untilFinished(watching, name);
    expect(done).toMatchObject({ status: 'finishedSuccessfully', message: 'exited', exitCode: 0 });
    expect(done.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(await readFile(path.join(storeBase, name, 'outgoing', 'copied.txt'), 'utf8')).toBe(
      'data from pfcon\n',
    );
    await until(
      'the terminal snapshot',
      () => Promise.resolve(seen.filter((x) => TERMINAL_STATUSES.has(x.info.status))),
      (t) => t.length > 0,
      30_000,
    );
    expect(seen.map((x) => x.info.status)).not.toContain('undefined');
    expect(seen.find((x) => TERMINAL_STATUSES.has(x.info.status))?.logs).toBe('done\n');
  });

  it('applies limits, user, groups, shm, env and labels (podman inspect; binds carry rprivate,rbind)', async () => {
    const name = nextName();
    const s = await spec(name, 'sleep 30', {
      env: { GREETING: 'a=b c', HOME: '/tmp' },
      user: { uid: 1234, gid: 5678 },
      shmMiB: 32,
      resources: { workers: 1, cpuMillicores: 250, memoryMiB: 100, gpus: 0 },
    });
    await backend.create(s);
    const [c] = JSON.parse(podman('container', 'inspect', name)) as [
      {
        Config: { User: string; Env: string[]; Labels: Record<string, string> };
        HostConfig: {
          NanoCpus: number;
          Memory: number;
          MemoryReservation: number;
          ShmSize: number;
          GroupAdd: string[];
          Binds: string[];
          RestartPolicy: { Name: string };
        };
      },
    ];
    const { Config, HostConfig } = c;
    expect(HostConfig.NanoCpus).toBe(250_000_000);
    expect(HostConfig.Memory).toBe(100 * 2 ** 20);
    expect(HostConfig.MemoryReservation).toBe(100 * 2 ** 20);
    expect(HostConfig.ShmSize).toBe(32 * 2 ** 20);
    expect(HostConfig.GroupAdd).toEqual(['5678']);
    expect(['no', '']).toContain(HostConfig.RestartPolicy.Name);
    // Podman's inspect lists the binds in no fixed order.
    expect([...HostConfig.Binds].sort()).toEqual([
      `${storeBase}/${name}/incoming:/share/incoming:ro,rprivate,rbind`,
      `${storeBase}/${name}/outgoing:/share/outgoing:rw,rprivate,rbind`,
    ]);
    expect(Config.User).toBe('1234');
    expect(Config.Env).toEqual(expect.arrayContaining(['GREETING=a=b c', 'HOME=/tmp']));
    expect(Config.Labels).toMatchObject({
      [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      'org.example.team': 'pman-tests',
    });
    await untilStarted(backend, name);
    // Podman adds an /etc/passwd entry for the uid, so `id` names it.
    expect(podman('exec', name, 'id')).toMatch(/^uid=1234\b.*groups=.*\b5678\b/);
    await backend.delete(name);
    expect(containersNamed(name)).toEqual([]);
    await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('confines the job: the process has the five capabilities, NoNewPrivs, 1024 PIDs and no network', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'sleep 30'));
    await untilStarted(backend, name);
    const [c] = JSON.parse(podman('container', 'inspect', name)) as [
      { HostConfig: { PidsLimit: number; SecurityOpt: string[]; NetworkMode: string } },
    ];
    expect(c.HostConfig).toMatchObject({
      PidsLimit: 1024,
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
    });
    // Podman's inspect lists the dropped capabilities one by one instead of ALL + CapAdd, so the
    // process itself is what is checked: 0xcb = CHOWN|DAC_OVERRIDE|FOWNER|SETGID|SETUID.
    const status = podman('exec', name, 'cat', '/proc/1/status');
    expect(status).toMatch(/^CapBnd:\s+0*cb$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(podman('exec', name, 'ls', '/sys/class/net')).toBe('lo');
    await backend.delete(name);
  });

  it('JOB_PIDS_LIMIT=0 means no limit on Podman too (sent as -1, not left to Podman’s 2048)', async () => {
    const open0 = await open({ hardening: { ...defaultJobHardening('none'), pidsLimit: 0 } });
    const name = nextName();
    await open0.create(
      await spec(
        name,
        'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
      ),
    );
    expect(await untilFinished(open0, name)).toMatchObject({ status: 'finishedSuccessfully' });
    expect(await logsOf(open0, name, { tail: 10, maxBytes: 100 })).toBe('max\n');
    const control = nextName();
    await backend.create(
      await spec(
        control,
        'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
      ),
    );
    await untilFinished(backend, control);
    expect(await logsOf(backend, control, { tail: 10, maxBytes: 100 })).toBe('1024\n');
  });

  it('exit 3 → one terminal snapshot with exitCode 3 and its whole log, though `podman rm -f` removes the container 1 s after the exit', async () => {
    const watching = await open();
    const name = nextName();
    const seen: JobRead[] = [];
    watching.watchJobs?.({ tail: Number.MAX_SAFE_INTEGER, maxBytes: 1 << 20 }, (x) => {
      if (x.info.name === name) seen.push(x);
    });
    await watching.create(await spec(name, 'seq 1 2000; exit 3'));
    await until(
      `${name} to exit`,
      () => Promise.resolve(podman('inspect', '-f', '{{.State.Status}}', name)),
      (state) => state === 'exited' || state === 'stopped',
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    podman('rm', '-f', name);
    await until(
      'the terminal snapshot',
      () => Promise.resolve(seen.filter((x) => TERMINAL_STATUSES.has(x.info.status))),
      (t) => t.length > 0,
      10_000,
    );
    const terminal = seen.filter((x) => TERMINAL_STATUSES.has(x.info.status));
    expect(terminal).toHaveLength(1);
    expect(terminal[0]?.info).toMatchObject({
      status: 'finishedWithError',
      message: 'exited with code 3',
      exitCode: 3,
    });
    expect(terminal[0]?.logs).toBe(Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join(''));
    // Podman says "remove" where Docker says "destroy": the view lets the job go all the same.
    await until(
      `${name} gone from the view`,
      () =>
        statusOf(watching, name).then(
          () => false,
          (err: unknown) => err instanceof NotFoundError,
        ),
      (gone) => gone,
      10_000,
    );
  });

  it('a missing image → 201 pulling image, then onFailed naming the pull error, no container', async () => {
    const name = nextName();
    const failed: JobInfo[] = [];
    const image = `127.0.0.1:5999/pman-ts/${run}-missing:test`;
    const created = await backend.create(await spec(name, 'true', { image }), {
      onFailed: (info) => failed.push(info),
    });
    expect(created).toMatchObject({ status: 'notstarted', message: 'pulling image' });
    await until(
      'the pull failure',
      () => Promise.resolve(failed.length),
      (k) => k > 0,
      60_000,
    );
    expect(failed[0]?.message).toMatch(/^image pull failed: .+/);
    expect(containersNamed(name)).toEqual([]);
    await backend.delete(name);
  });

  it('a start failure (missing executable) → onFailed with the engine text, container removed', async () => {
    const name = nextName();
    const failed: JobInfo[] = [];
    const s = { ...(await spec(name, 'true')), command: ['/no/such/executable', OUTGOING] };
    await backend.create(s, { onFailed: (info) => failed.push(info) });
    await until(
      'the start failure',
      () => Promise.resolve(failed.length),
      (k) => k > 0,
      60_000,
    );
    expect(failed[0]?.message).toMatch(/no such file or directory|not found/i);
    expect(containersNamed(name)).toEqual([]);
    await backend.delete(name);
  });

  it('OOM: 8 MiB and a shell that allocates → finishedWithError with the kill', async () => {
    const name = nextName();
    await backend.create(
      await spec(name, 'head -c 64m /dev/zero | tail', {
        resources: { workers: 1, cpuMillicores: 500, memoryMiB: 8, gpus: 0 },
      }),
    );
    const done = await untilFinished(backend, name);
    expect(done.status).toBe('finishedWithError');
    expect(done.message).toMatch(/^OOMKilled \(exit code \d+\)$|^exited with code 137/);
  });

  it('logs/?follow=1: the followed stream passes output as it is written and ends with the container', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'echo first; sleep 2; echo second'));
    await untilStarted(backend, name);
    const parts: string[] = [];
    for await (const chunk of backend.streamLogs(name, undefined, { follow: true })) {
      parts.push(Buffer.from(chunk).toString('utf8'));
    }
    expect(parts.join('')).toBe('first\nsecond\n');
    expect((await untilFinished(backend, name)).status).toBe('finishedSuccessfully');
  });

  it('stop (cancel, deadlines): SIGTERM then SIGKILL after the grace; the container and its log stay', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'echo before; sleep 300'));
    await untilStarted(backend, name);
    await backend.stop?.(name, 1);
    const done = await untilFinished(backend, name);
    expect(done.status).toBe('finishedWithError');
    expect(containersNamed(name)).toEqual([name]);
    expect(await logsOf(backend, name, { tail: 10, maxBytes: 100 })).toBe('before\n');
    // Ended already: a no-op. Unknown: NotFound.
    await backend.stop?.(name, 1);
    await expect(backend.stop?.(`${name}-none`, 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a foreign container of the same name: create Conflict, get/delete NotFound, never removed', async () => {
    const name = nextName();
    podman('create', '--name', name, IMAGE, 'true');
    await expect(backend.create(await spec(name, 'true'))).rejects.toBeInstanceOf(ConflictError);
    await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    expect((await backend.list()).map((j) => j.name)).not.toContain(name);
    expect(containersNamed(name)).toEqual([name]);
  });

  it('a restarted server (a new backend) finds the job again from Podman alone', async () => {
    const name = nextName();
    await backend.create(await spec(name, 'echo before restart'));
    await untilFinished(backend, name);
    const restarted = await open();
    expect(await statusOf(restarted, name)).toMatchObject({
      name,
      image: IMAGE,
      status: 'finishedSuccessfully',
    });
    expect((await restarted.list()).map((j) => j.name)).toContain(name);
    expect(await logsOf(restarted, name, { tail: 10, maxBytes: 100 })).toBe('before restart\n');
    // Podman sizes a buffer by the tail it is sent; a huge one is asked as "all" and cut here.
    const huge = { tail: Number.MAX_SAFE_INTEGER, maxBytes: 100 };
    expect(await logsOf(restarted, name, huge)).toBe('before restart\n');
    const parts: Uint8Array[] = [];
    for await (const chunk of restarted.streamLogs(name, 1e12)) parts.push(chunk);
    expect(Buffer.concat(parts).toString('utf8')).toBe('before restart\n');
  });

  it('INSTANCE_ID: another instance neither lists, reads nor deletes our job', async () => {
    const other = await open({ instanceId: 'other' });
    const name = nextName();
    await backend.create(await spec(name, 'sleep 30'));
    expect((await other.list()).map((j) => j.name)).not.toContain(name);
    await expect(statusOf(other, name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    expect(containersNamed(name)).toEqual([name]);
    await backend.delete(name);
  });

  describe('JOB_NETWORK: a job cannot reach a port the host listens on', () => {
    let listener: HostListener;
    beforeAll(async () => {
      listener = await startHostListener();
    });
    afterAll(() => listener.close());

    it('the default ("none"): the connection fails, and the job itself runs to its end', async () => {
      const name = nextName();
      await backend.create(await spec(name, REACH_PROBE, { env: { TARGET: listener.target } }));
      expect(await untilFinished(backend, name)).toMatchObject({
        status: 'finishedWithError',
        message: 'exited with code 7',
      });
      expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toMatch(/^unreachable$/m);
    });

    it("control: JOB_NETWORK=bridge (Podman's default network) reaches it, so the probe is real", async () => {
      const bridged = await open({ hardening: defaultJobHardening('bridge') });
      const name = nextName();
      await bridged.create(await spec(name, REACH_PROBE, { env: { TARGET: listener.target } }));
      expect(await untilFinished(bridged, name)).toMatchObject({ status: 'finishedSuccessfully' });
      expect(await logsOf(bridged, name, { tail: 10, maxBytes: 1000 })).toMatch(/^reached$/m);
    });

    it('start-up refuses JOB_NETWORK=host and a network that does not exist', async () => {
      await expect(open({ hardening: defaultJobHardening('host') })).rejects.toThrow(/JOB_NETWORK/);
      await expect(open({ hardening: defaultJobHardening(`${run}-nonet`) })).rejects.toBeInstanceOf(
        ConfigError,
      );
    });
  });

  it('docker_local_volume: VOLUME_NAME → the Podman volume mountpoint; an unknown one → ConfigError', async () => {
    const volume = `${run}-vol`;
    podman('volume', 'create', volume);
    try {
      const mountpoint = podman('volume', 'inspect', '--format', '{{.Mountpoint}}', volume);
      const engine = { host: PODMAN_HOST, tlsVerify: false };
      const selector = `org.chrisproject.role=${run}`;
      expect(
        await resolveLocalVolume(engine, { volumeName: volume, pfconSelector: selector }, 10_000),
      ).toBe(mountpoint);
      await expect(
        resolveLocalVolume(engine, { volumeName: `${run}-nope`, pfconSelector: selector }, 10_000),
      ).rejects.toThrow(/does not exist/);
    } finally {
      podman('volume', 'rm', '-f', volume);
    }
  });
});

describe('podman backend without Podman', () => {
  it('an unreachable socket → BackendUnavailableError at start-up', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const cfg = config({ engine: { host: `tcp://127.0.0.1:${port}`, tlsVerify: false } });
    await expect(createPodmanBackend(cfg, { log, timeoutMs: 5000 })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });
});
