// The swarm backend against the real engine and its single-node swarm: the conformance suite,
// then what only Swarm shows (limits in the ServiceSpec, TTY logs, rejected tasks, our label).
import { REACH_PROBE, startHostListener } from './host-listener.js';
import type { HostListener } from './host-listener.js';
import { statusOf, logsOf } from '../fixtures.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BackendDeps, JobRead } from '../../src/backends/backend.js';
import { createSwarmBackend } from '../../src/backends/swarm/swarm.js';
import type { SwarmBackendConfig } from '../../src/config/config.js';
import { ConflictError, DirectoryError, NotFoundError } from '../../src/domain/errors.js';
import { TERMINAL_STATUSES, type JobInfo, type JobSpec } from '../../src/domain/job.js';
import { defaultJobHardening } from '../../src/backends/shared/job-hardening.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../src/backends/shared/labels.js';
import { describeBackend, until } from '../contract/backend.contract.js';
import { realHarness } from '../contract/real-harness.js';
import { requireEngine } from './engine-available.js';
import { hostJobSpec, untilFinished } from './host-job.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
/** The tests' own job overlay (created by the backend at start-up, removed after the run). */
const JOB_NETWORK = 'pman-test-jobs';
const CFG: SwarmBackendConfig = {
  kind: 'swarm',
  engine: {
    ...(process.env.DOCKER_HOST !== undefined && { host: process.env.DOCKER_HOST }),
    tlsVerify: process.env.DOCKER_TLS_VERIFY === '1',
  },
  hardening: defaultJobHardening(JOB_NETWORK),
};
const deps = (): BackendDeps => ({ log: pino({ level: 'silent' }), timeoutMs: 30_000 });

const engineUp = await requireEngine();

function docker(...args: string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Removes every service whose name starts with the prefix (runs even after failures). */
function removeServices(prefix: string): void {
  const names = docker('service', 'ls', '--filter', `name=${prefix}`, '--format', '{{.Name}}')
    .split('\n')
    .filter((n) => n.startsWith(prefix));
  if (names.length > 0) docker('service', 'rm', ...names);
}

/** Removes the tests' job overlay once no task uses it any more (the engine detaches late). */
async function removeJobNetwork(): Promise<void> {
  for (let i = 0; i < 40; i++) {
    try {
      docker('network', 'rm', JOB_NETWORK);
      return;
    } catch (err) {
      if (/No such network|not found/i.test(String(err))) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

afterAll(async () => {
  if (engineUp) await removeJobNetwork();
});

describe.skipIf(!engineUp)('swarm job hardening on the real engine (issue 10: 9, 4, 1, 12)', () => {
  const prefix = `swh-${randomBytes(3).toString('hex')}`;
  let n = 0;
  const nextName = (): string => `${prefix}-${++n}`;
  let backend: Backend;
  let storeBase: string;
  const opened: Backend[] = [];
  const open = async (cfg: Partial<SwarmBackendConfig> = {}): Promise<Backend> => {
    const b = await createSwarmBackend({ ...CFG, ...cfg }, deps());
    opened.push(b);
    return b;
  };

  beforeAll(async () => {
    backend = await open();
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-swh-'));
  });
  afterAll(async () => {
    removeServices(prefix);
    for (const b of opened) await b.close();
    if (storeBase !== undefined) await rm(storeBase, { recursive: true, force: true });
  });

  const spec = (name: string, script: string, extra: Partial<JobSpec> = {}): Promise<JobSpec> =>
    hostJobSpec(
      {
        storeBase,
        name,
        image: IMAGE,
        command: ['/bin/sh', '-c', script],
        labels: {},
        input: { file: 'data.txt', content: `payload of ${name}\n` },
      },
      extra,
    );

  it('start-up made the job overlay: swarm-scoped, internal, attachable', () => {
    const net = JSON.parse(docker('network', 'inspect', JOB_NETWORK)) as [
      { Driver: string; Scope: string; Internal: boolean; Attachable: boolean },
    ];
    expect(net[0]).toMatchObject({
      Driver: 'overlay',
      Scope: 'swarm',
      Internal: true,
      Attachable: true,
    });
  });

  it('capabilities, PID limit and network are in the ServiceSpec and on the task container', async () => {
    const name = nextName();
    await backend.create(
      await spec(name, 'grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status; sleep 20'),
    );
    const [svc] = JSON.parse(docker('service', 'inspect', name)) as [
      {
        Spec: {
          TaskTemplate: {
            ContainerSpec: { CapabilityDrop?: string[]; CapabilityAdd?: string[] };
            Resources: { Limits: { Pids?: number } };
            Networks?: { Target: string }[];
          };
        };
      },
    ];
    const t = svc.Spec.TaskTemplate;
    expect(t.ContainerSpec.CapabilityDrop).toEqual(['ALL']);
    expect(t.ContainerSpec.CapabilityAdd).toEqual([
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_SETUID',
      'CAP_SETGID',
    ]);
    expect(t.Resources.Limits.Pids).toBe(1024);
    const netId = docker('network', 'inspect', JOB_NETWORK, '--format', '{{.Id}}');
    expect(t.Networks?.map((x) => x.Target)).toEqual([netId]);
    const container = await until(
      `${name}'s container`,
      () =>
        Promise.resolve(
          docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}`),
        ),
      (id) => id !== '',
      60_000,
    );
    const [c] = JSON.parse(docker('inspect', container)) as [
      { HostConfig: { CapDrop: string[]; CapAdd: string[]; PidsLimit: number } },
    ];
    expect(c.HostConfig).toMatchObject({ CapDrop: ['ALL'], PidsLimit: 1024 });
    expect(c.HostConfig.CapAdd).toHaveLength(5);
    const status = docker('exec', container, 'cat', '/proc/1/status');
    expect(status).toMatch(/^CapBnd:\s+0*cb$/m);
    await backend.delete(name);
  });

  it("pfcon's flow: a root plugin writes into an outgoing folder another uid created (0755)", async () => {
    const name = nextName();
    const s = await spec(
      name,
      'cp /share/incoming/data.txt /share/outgoing/out.txt && chown 1001 /share/outgoing/out.txt',
    );
    const outgoing = path.join(storeBase, name, 'outgoing');
    await chown(outgoing, 1001, 1001);
    await chmod(outgoing, 0o755);
    await backend.create(s);
    expect(await untilFinished(backend, name)).toMatchObject({ status: 'finishedSuccessfully' });
    expect(await readFile(path.join(outgoing, 'out.txt'), 'utf8')).toBe(`payload of ${name}\n`);
    expect((await stat(path.join(outgoing, 'out.txt'))).uid).toBe(1001);
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

    it('on the job overlay the connection fails, and the job runs to its end', async () => {
      const name = nextName();
      await backend.create(await spec(name, probe, { env: { TARGET: target } }));
      const done = await untilFinished(backend, name);
      expect(done.status).toBe('finishedWithError');
      expect(done.message).toContain('non-zero exit (7)');
      expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toMatch(
        /^unreachable\r?$/m,
      );
    });

    it('control: JOB_NETWORK=bridge (the old behaviour) reaches it, so the probe is real', async () => {
      const open1 = await open({ hardening: defaultJobHardening('bridge') });
      const name = nextName();
      await open1.create(await spec(name, probe, { env: { TARGET: target } }));
      expect(await untilFinished(open1, name)).toMatchObject({ status: 'finishedSuccessfully' });
      expect(await logsOf(open1, name, { tail: 10, maxBytes: 1000 })).toMatch(/^reached\r?$/m);
    });
  });

  it('start-up refuses what this engine cannot honour: JOB_NO_NEW_PRIVILEGES=yes on API 1.41, a local network', async () => {
    const api = docker('version', '--format', '{{.Server.APIVersion}}');
    if (api === '1.41') {
      await expect(
        open({ hardening: { ...defaultJobHardening(JOB_NETWORK), noNewPrivilegesExplicit: true } }),
      ).rejects.toThrow(/JOB_NO_NEW_PRIVILEGES/);
    }
    await expect(open({ hardening: defaultJobHardening('docker_gwbridge') })).rejects.toThrow(
      /JOB_NETWORK: network "docker_gwbridge" is local-scoped/,
    );
  });

  it('the mount re-check runs right before createService; a refusal leaves no service', async () => {
    const name = nextName();
    let calls = 0;
    const recheckMounts = (): Promise<void> => {
      calls += 1;
      return Promise.reject(new DirectoryError({ output: 'leads outside storeBase' }));
    };
    await expect(
      backend.create(await spec(name, 'true'), { recheckMounts }),
    ).rejects.toBeInstanceOf(DirectoryError);
    expect(calls).toBe(1);
    expect(docker('service', 'ls', '--filter', `name=${name}`, '--format', '{{.Name}}')).toBe('');
  });

  it('INSTANCE_ID: another instance neither lists, reads nor deletes our job', async () => {
    const other = await open({ instanceId: 'other' });
    const name = nextName();
    await backend.create(await spec(name, 'sleep 20'));
    expect((await other.list()).map((j) => j.name)).not.toContain(name);
    await expect(statusOf(other, name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(other.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    const theirs = nextName();
    await other.create(await spec(theirs, 'sleep 20'));
    expect(
      docker(
        'service',
        'inspect',
        theirs,
        '--format',
        `{{index .Spec.Labels "${DOCKER_MANAGED_BY_LABEL}"}}`,
      ),
    ).toBe('pman-other');
    expect((await backend.list()).map((j) => j.name)).not.toContain(theirs);
    await other.delete(theirs);
    await backend.delete(name);
  });
});

describe.skipIf(!engineUp)('swarm backend on the real engine', () => {
  describeBackend('swarm', async () => realHarness(await createSwarmBackend(CFG, deps()), IMAGE));

  describe('swarm specifics', () => {
    const prefix = `sw-${randomBytes(3).toString('hex')}`;
    let n = 0;
    const nextName = (): string => `${prefix}-${++n}`;
    let backend: Backend;
    let storeBase: string;

    beforeAll(async () => {
      backend = await createSwarmBackend(CFG, deps());
      storeBase = await mkdtemp(path.join(tmpdir(), 'pman-swarm-'));
    });
    afterAll(async () => {
      removeServices(prefix);
      await backend?.close();
      if (storeBase !== undefined) await rm(storeBase, { recursive: true, force: true });
    });

    const spec = (name: string, script: string, extra: Partial<JobSpec> = {}): Promise<JobSpec> =>
      hostJobSpec(
        {
          storeBase,
          name,
          image: IMAGE,
          command: ['/bin/sh', '-c', script],
          labels: { [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE, 'pman-test-run': prefix },
          input: { file: 'data.txt', content: `payload of ${name}\n` },
        },
        extra,
      );

    const terminal = (name: string, ms = 60_000): Promise<JobInfo> =>
      untilFinished(backend, name, ms);

    it('reports the capabilities of this engine: one worker, the node size, no GPUs without a resource', () => {
      const caps = backend.capabilities;
      expect(caps.maxWorkers).toBe(1);
      expect(caps.gpus).toBe(false);
      expect(caps.gpuUnavailableReason).toMatch(/SWARM_GPU_RESOURCE/);
      const ncpu = Number(docker('info', '--format', '{{.NCPU}}'));
      expect(caps.maxCpuMillicores).toBe(ncpu * 1000);
      expect(caps.maxMemoryMiB).toBeGreaterThan(0);
    });

    it('create answers notstarted with image, cmd and timestamp filled; input is copied to output', async () => {
      const name = nextName();
      const s = await spec(
        name,
        'cp /share/incoming/data.txt /share/outgoing/copy.txt && echo copied',
      );
      const created = await backend.create(s);
      expect(created).toMatchObject({ name, image: IMAGE, status: 'notstarted' });
      expect(created.command).toEqual(s.command);
      expect(created.message).not.toBe('');
      expect(created.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      const done = await terminal(name);
      expect(done).toMatchObject({
        status: 'finishedSuccessfully',
        message: 'finished',
        image: IMAGE,
      });
      expect(await readFile(path.join(storeBase, name, 'outgoing', 'copy.txt'), 'utf8')).toBe(
        `payload of ${name}\n`,
      );
    });

    it('issue 11: watchJobs → exit 3 gives one terminal snapshot with exitCode 3 and its logs, though the service is removed from outside 1 s after the exit', async () => {
      const watching = await createSwarmBackend(CFG, deps());
      try {
        const name = nextName();
        const seen: JobRead[] = [];
        watching.watchJobs?.({ tail: Number.MAX_SAFE_INTEGER, maxBytes: 1 << 20 }, (x) => {
          if (x.info.name === name) seen.push(x);
        });
        await watching.create(await spec(name, 'seq 1 500; exit 3'));
        await until(
          `${name} to fail`,
          () => Promise.resolve(docker('service', 'ps', name, '--format', '{{.CurrentState}}')),
          (state) => state.startsWith('Failed'),
          60_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
        docker('service', 'rm', name);
        await until(
          'the terminal snapshot',
          () => Promise.resolve(seen.filter((x) => TERMINAL_STATUSES.has(x.info.status))),
          (t) => t.length > 0,
          10_000,
        );
        const done = seen.filter((x) => TERMINAL_STATUSES.has(x.info.status));
        expect(done).toHaveLength(1);
        expect(done[0]?.info).toMatchObject({ name, status: 'finishedWithError', exitCode: 3 });
        // TTY logs: lines end with \r\n.
        const expected = Array.from({ length: 500 }, (_, i) => `${i + 1}\r\n`).join('');
        expect(done[0]?.logs).toBe(expected);
        const statuses = seen.map((x) => x.info.status);
        expect(statuses.filter((x, i) => x === statuses[i - 1])).toEqual([]);
      } finally {
        await watching.close();
      }
    });

    it('exit 3 → finishedWithError with "non-zero exit (3)"; TTY logs end lines with \\r\\n', async () => {
      const name = nextName();
      await backend.create(await spec(name, "echo 'fail ✓ é'; echo to-stderr >&2; exit 3"));
      const done = await terminal(name);
      expect(done.status).toBe('finishedWithError');
      expect(done.message).toContain('non-zero exit (3)');
      const logs = await logsOf(backend, name, { tail: 100, maxBytes: 10_000 });
      expect(logs).toBe('fail ✓ é\r\nto-stderr\r\n');
      expect(await logsOf(backend, name, { tail: 1, maxBytes: 10_000 })).toBe('to-stderr\r\n');
    });

    it('honours limits, user, groups, shm, env and labels in the real ServiceSpec', async () => {
      const name = nextName();
      const s = await spec(name, 'id -u; id -G; echo "v=$PMAN_X"; grep /dev/shm /proc/mounts', {
        resources: { workers: 1, cpuMillicores: 250, memoryMiB: 48, gpus: 0 },
        user: { uid: 1234, gid: 4321 },
        shmMiB: 32,
        env: { PMAN_X: 'a b=c' },
      });
      await backend.create(s);
      const inspected = JSON.parse(docker('service', 'inspect', name)) as [
        {
          Spec: {
            Labels: Record<string, string>;
            TaskTemplate: {
              ContainerSpec: Record<string, unknown>;
              Resources: { Limits: { NanoCPUs: number; MemoryBytes: number } };
              RestartPolicy: { Condition: string };
            };
            Mode: unknown;
          };
        },
      ];
      const svc = inspected[0].Spec;
      expect(svc.Labels).toMatchObject({ [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE });
      expect(svc.TaskTemplate.Resources.Limits).toEqual({
        NanoCPUs: 250_000_000,
        MemoryBytes: 48 * 2 ** 20,
        Pids: 1024,
      });
      expect(svc.TaskTemplate.RestartPolicy.Condition).toBe('none');
      expect(svc.Mode).toEqual({ Replicated: { Replicas: 1 } });
      expect(svc.TaskTemplate.ContainerSpec).toMatchObject({
        User: '1234',
        Groups: ['4321'],
        TTY: true,
        Env: ['PMAN_X=a b=c'],
        Labels: { [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      });
      expect(svc.TaskTemplate.ContainerSpec['Mounts']).toContainEqual(
        expect.objectContaining({
          Type: 'tmpfs',
          Target: '/dev/shm',
          TmpfsOptions: { SizeBytes: 32 * 2 ** 20 },
        }),
      );
      expect((await terminal(name)).status).toBe('finishedSuccessfully');
      const logs = (await logsOf(backend, name, { tail: 100, maxBytes: 10_000 })).replace(
        /\r/g,
        '',
      );
      const [uid, groups, env, shm] = logs.split('\n');
      expect(uid).toBe('1234');
      expect(groups?.split(' ')).toContain('4321');
      expect(env).toBe('v=a b=c');
      expect(shm).toMatch(/size=32768k/);
    });

    it('a missing image → finishedWithError "No such image" promptly, and empty logs', async () => {
      const name = nextName();
      const image = '127.0.0.1:5999/pman-ts/does-not-exist:never';
      const created = await backend.create({ ...(await spec(name, 'true')), image });
      expect(created.status).toBe('notstarted');
      const done = await terminal(name, 30_000);
      expect(done).toMatchObject({ status: 'finishedWithError', image });
      expect(done.message).toContain(`No such image: ${image}`);
      expect(await logsOf(backend, name, { tail: 10, maxBytes: 1000 })).toBe('');
    });

    it('a missing input dir → finishedWithError naming the bind source (pman: undefined forever)', async () => {
      const name = nextName();
      const s = await spec(name, 'true');
      await rm(path.join(storeBase, name, 'incoming'), { recursive: true });
      await backend.create(s);
      const done = await terminal(name, 30_000);
      expect(done.status).toBe('finishedWithError');
      expect(done.message).toContain('bind source path does not exist');
    });

    it('with SWARM_GPU_RESOURCE, GPUs become a generic-resource reservation the scheduler waits for', async () => {
      const gpuBackend = await createSwarmBackend({ ...CFG, gpuResource: 'NVIDIA-GPU' }, deps());
      expect(gpuBackend.capabilities.gpus).toBe(true);
      const name = nextName();
      const s = await spec(name, 'true', {
        resources: { workers: 1, cpuMillicores: 100, memoryMiB: 16, gpus: 1 },
      });
      await gpuBackend.create(s);
      const reservations = JSON.parse(
        docker(
          'service',
          'inspect',
          '--format',
          '{{json .Spec.TaskTemplate.Resources.Reservations}}',
          name,
        ),
      ) as unknown;
      expect(reservations).toEqual({
        GenericResources: [{ DiscreteResourceSpec: { Kind: 'NVIDIA-GPU', Value: 1 } }],
      });
      // This node advertises no GPUs: the task waits unscheduled, with the scheduler's reason.
      const waiting = await until(
        `${name} to be pending`,
        () => statusOf(gpuBackend, name),
        (i) => /insufficient resources/.test(i.message),
        30_000,
      );
      expect(waiting.status).toBe('notstarted');
      await gpuBackend.delete(name);
      await gpuBackend.close();
    });

    it('a duplicate name → ConflictError, the first job untouched', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'sleep 3'));
      await expect(backend.create(await spec(name, 'exit 9'))).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect((await statusOf(backend, name)).command).toEqual(['/bin/sh', '-c', 'sleep 3']);
    });

    it('delete removes the service from the engine', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'sleep 30'));
      await backend.delete(name);
      expect(() => docker('service', 'inspect', name)).toThrow();
      await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('streamLogs yields the raw log bytes, with and without a tail', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'echo one; echo two; echo three'));
      await terminal(name);
      const read = async (tail?: number): Promise<string> => {
        const chunks: Uint8Array[] = [];
        for await (const c of backend.streamLogs(name, tail)) chunks.push(c);
        return Buffer.concat(chunks).toString('utf8');
      };
      expect(await read()).toBe('one\r\ntwo\r\nthree\r\n');
      expect(await read(2)).toBe('two\r\nthree\r\n');
      const unknown = backend.streamLogs(`${prefix}-never`)[Symbol.asyncIterator]();
      await expect(unknown.next()).rejects.toBeInstanceOf(NotFoundError);
    });

    it('a service without our label is not ours: get, logs and delete answer NotFound and leave it', async () => {
      const name = nextName();
      docker(
        'service',
        'create',
        '--detach',
        '--quiet',
        '--name',
        name,
        '--restart-condition',
        'none',
        IMAGE,
        'true',
      );
      await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
      await expect(logsOf(backend, name, { tail: 1, maxBytes: 100 })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
      expect((await backend.list()).map((j) => j.name)).not.toContain(name);
      expect(docker('service', 'inspect', '--format', '{{.Spec.Name}}', name)).toBe(name);
    });

    it('a restarted server finds its jobs again through the label', async () => {
      const name = nextName();
      await backend.create(await spec(name, 'echo again'));
      const fresh = await createSwarmBackend(CFG, deps());
      expect((await fresh.list()).map((j) => j.name)).toContain(name);
      expect(
        (
          await until(
            `${name} via a new backend`,
            () => statusOf(fresh, name),
            (i) => TERMINAL_STATUSES.has(i.status),
          )
        ).status,
      ).toBe('finishedSuccessfully');
      await fresh.close();
    });
  });
});

describe.skipIf(!engineUp)('swarm service jobs on the real engine (issue 15)', () => {
  const prefix = `sws-${randomBytes(3).toString('hex')}`;
  let n = 0;
  const nextName = (): string => `${prefix}-${++n}`;
  // Host mode: this sandbox's routing mesh refuses connections (CI sets SERVICE_PUBLISH_MODE=host).
  const SVC_CFG: SwarmBackendConfig = {
    ...CFG,
    service: { publishMode: 'host', bindIp: '127.0.0.1', network: 'bridge' },
  };
  /** The swarm backend implements the Port's optional stop and watchJobs. */
  type Full = Backend & Required<Pick<Backend, 'stop' | 'watchJobs'>>;
  const isFull = (b: Backend): b is Full => b.stop !== undefined && b.watchJobs !== undefined;
  const opened: Backend[] = [];
  const open = async (): Promise<Full> => {
    const b = await createSwarmBackend(SVC_CFG, deps());
    opened.push(b);
    if (!isFull(b)) throw new Error('swarm lacks stop/watchJobs');
    return b;
  };
  let backend: Full;
  let storeBase: string;

  beforeAll(async () => {
    backend = await open();
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-sws-'));
  });
  afterAll(async () => {
    removeServices(prefix);
    for (const b of opened) await b.close();
    if (storeBase !== undefined) await rm(storeBase, { recursive: true, force: true });
  });

  const serviceSpec = (name: string, command: string[]): Promise<JobSpec> =>
    hostJobSpec(
      {
        storeBase,
        name,
        image: IMAGE,
        command,
        labels: { 'pman-test-run': prefix },
        input: { file: 'data.txt', content: `served by ${name}\n` },
      },
      { service: { port: 8080, exposure: 'ClusterIP' } },
    );
  const HTTPD = ['httpd', '-f', '-p', '8080', '-h', '/share/incoming'];

  /** Whether nothing listens on the port any more: we can bind it ourselves (docker-proxy binds
   *  every address, so a bind on loopback fails while it holds the port). */
  const portFree = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });

  it('serves its input folder on 127.0.0.1 at a host port; a new server reports the same endpoint; stop ends it for good; delete frees the port', async () => {
    const name = nextName();
    const created = await backend.create(await serviceSpec(name, HTTPD));
    expect(created.status).toBe('notstarted');
    const [svc] = JSON.parse(docker('service', 'inspect', name)) as [
      {
        Spec: {
          Labels: Record<string, string>;
          TaskTemplate: { RestartPolicy: unknown; Networks?: unknown };
          EndpointSpec: { Ports: { PublishedPort?: number }[] };
        };
      },
    ];
    expect(svc.Spec.Labels['pman.service.port']).toBe('8080');
    expect(svc.Spec.TaskTemplate.RestartPolicy).toMatchObject({ Condition: 'any', MaxAttempts: 0 });
    expect(svc.Spec.TaskTemplate.Networks).toBeUndefined();
    const pinned = svc.Spec.EndpointSpec.Ports[0]?.PublishedPort;
    expect(svc.Spec.EndpointSpec.Ports).toEqual([
      { Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host', PublishedPort: pinned },
    ]);
    expect(pinned).toBeGreaterThan(0);

    const running = await until(
      `${name} to publish its port`,
      () => statusOf(backend, name),
      (i) => i.status === 'started' && i.service?.endpoint !== undefined,
    );
    const endpoint = running.service?.endpoint ?? '';
    expect(endpoint).toBe(`http://127.0.0.1:${String(pinned)}`);
    expect(running.service?.healthy).toBeUndefined();
    const body = await until(
      `${endpoint} to answer`,
      () =>
        fetch(`${endpoint}/data.txt`).then(
          (r) => (r.ok ? r.text() : `HTTP ${r.status}`),
          (err: unknown) => String(err),
        ),
      (text) => !text.startsWith('HTTP ') && !text.includes('Error'),
    );
    expect(body).toBe(`served by ${name}\n`);
    expect((await backend.list()).find((j) => j.name === name)?.service?.endpoint).toBe(endpoint);
    const fresh = await open();
    expect((await statusOf(fresh, name)).service?.endpoint).toBe(endpoint);

    await backend.stop(name, 1);
    const stopped = await untilFinished(backend, name);
    expect(stopped).toMatchObject({ status: 'finishedWithError', message: 'stopped' });
    expect(
      docker('service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}}', name),
    ).toBe('0');
    // Stopped for good: no task is started again.
    expect(docker('service', 'ps', '--filter', 'desired-state=running', '-q', name)).toBe('');

    const port = Number(new URL(endpoint).port);
    await backend.delete(name);
    await until(
      `port ${port} to be free`,
      () => portFree(port),
      (free) => free,
    );
    await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('SERVICE_NETWORK is checked at start-up: missing, local-scoped, or internal in host mode', async () => {
    const withNetwork = (network: string, publishMode: 'host' | 'ingress' = 'host') =>
      createSwarmBackend(
        { ...SVC_CFG, service: { publishMode, bindIp: '127.0.0.1', network } },
        deps(),
      ).then((b) => {
        opened.push(b);
        return b;
      });
    await expect(withNetwork(`${prefix}-none`)).rejects.toThrow(
      `SERVICE_NETWORK: there is no network "${prefix}-none" on this engine`,
    );
    await expect(withNetwork('docker_gwbridge')).rejects.toThrow(/is local-scoped/);
    // The job overlay the suite's backends made: internal, so no host-mode port on it alone.
    await expect(withNetwork(JOB_NETWORK)).rejects.toThrow(
      /SERVICE_NETWORK: network .* is internal/,
    );
    await expect(withNetwork(JOB_NETWORK, 'ingress')).resolves.toBeDefined();
  });

  it('ingress mode: the endpoint is the port the swarm allocated from its range, on SERVICE_BIND_IP (the mesh itself refuses connections in this sandbox)', async () => {
    const ingress = await createSwarmBackend(
      { ...SVC_CFG, service: { publishMode: 'ingress', bindIp: '127.0.0.1', network: 'bridge' } },
      deps(),
    );
    opened.push(ingress);
    const name = nextName();
    await ingress.create(await serviceSpec(name, HTTPD));
    const info = await until(
      `${name}'s ingress port`,
      () => statusOf(ingress, name),
      (i) => i.service?.endpoint !== undefined,
    );
    const port = Number(new URL(info.service?.endpoint ?? '').port);
    expect(info.service?.endpoint).toBe(`http://127.0.0.1:${String(port)}`);
    expect(
      docker(
        'service',
        'inspect',
        name,
        '--format',
        '{{range .Endpoint.Ports}}{{.PublishedPort}} {{.PublishMode}}{{end}}',
      ),
    ).toBe(`${String(port)} ingress`);
    await ingress.delete(name);
  });

  it('a crashing service is restarted by the swarm and never reported terminal until stopped', async () => {
    const watched = await open();
    const name = nextName();
    const snapshots: JobRead[] = [];
    watched.watchJobs({ tail: 100, maxBytes: 10_000 }, (s) => {
      if (s.info.name === name) snapshots.push(s);
    });
    // Serves for a moment, then crashes (its httpd runs in the background of the shell).
    const script = 'echo boom; httpd -p 8080 -h /share/incoming; sleep 2; exit 3';
    await watched.create(await serviceSpec(name, ['sh', '-c', script]));
    const seen: JobInfo[] = [];
    const restarting = await until(
      `${name} to be restarted twice`,
      async () => {
        const info = await statusOf(watched, name);
        seen.push(info);
        return info;
      },
      (i) => (i.service?.restarts ?? 0) >= 2,
    );
    expect(seen.filter((i) => TERMINAL_STATUSES.has(i.status))).toEqual([]);
    expect(snapshots.filter((s) => TERMINAL_STATUSES.has(s.info.status))).toEqual([]);
    expect(restarting.status).toBe('started');
    expect(restarting.message).toMatch(/^restarting after exit code 3 \(\d+ restarts\)$|^running$/);
    expect(restarting).not.toHaveProperty('exitCode');
    // The port was pinned at create: every restarted task serves on the same endpoint.
    const endpoints = new Set(seen.map((i) => i.service?.endpoint));
    expect([...endpoints]).toEqual([restarting.service?.endpoint]);
    const endpoint = restarting.service?.endpoint ?? '';
    const answer = await until(
      `${endpoint} to answer after restarts`,
      () =>
        fetch(`${endpoint}/data.txt`).then(
          (r) => r.text(),
          (err: unknown) => String(err),
        ),
      (text) => text === `served by ${name}\n`,
    );
    expect(answer).toBe(`served by ${name}\n`);

    await watched.stop(name, 1);
    expect(await untilFinished(watched, name)).toMatchObject({
      status: 'finishedWithError',
      message: 'stopped',
    });
    const ends = await until(
      `${name}'s terminal snapshot`,
      () => Promise.resolve(snapshots.filter((s) => TERMINAL_STATUSES.has(s.info.status))),
      (list) => list.length > 0,
    );
    expect(ends).toHaveLength(1);
    expect(ends[0]?.logs).toContain('boom');
    await watched.delete(name);
  });
});
