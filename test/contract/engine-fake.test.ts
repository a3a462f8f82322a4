// The docker backend against the fake Engine API: the error paths a real engine rarely shows on
// demand (500/409 on create, start refusals, calls that never answer), the background start and
// pull (issue 11: create answers once the container exists), resume() and watchJobs().
import { statusOf, logsOf } from '../fixtures.js';
import Docker from 'dockerode';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, JobRead } from '../../src/backends/backend.js';
import { createDockerBackend } from '../../src/backends/docker/docker.js';
import { toContainerCreate } from '../../src/backends/docker/manifest.js';
import {
  BackendUnavailableError,
  ConflictError,
  DirectoryError,
  InvalidSpecError,
  NotFoundError,
  TooManyRequestsError,
} from '../../src/domain/errors.js';
import { type JobInfo, type JobSpec } from '../../src/domain/job.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../src/backends/shared/labels.js';
import { startEngineFake, type EngineFake } from '../fakes/engine-api.js';
import { until } from './backend.contract.js';
import { FAKE_IMAGE, dockerSettings } from './engine-rig.js';

const IMAGE = FAKE_IMAGE;
const log = pino({ level: 'silent' });

function spec(name: string, image = IMAGE): JobSpec {
  return {
    name,
    image,
    command: ['/bin/sh', '-c', 'true', 'sh', '/share/outgoing'],
    env: { A: '1' },
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 64, gpus: 0 },
    mounts: [
      {
        kind: 'host',
        source: '/sb',
        subPath: `${name}/in`,
        containerPath: '/share/incoming',
        readOnly: true,
      },
      {
        kind: 'host',
        source: '/sb',
        subPath: `${name}/out`,
        containerPath: '/share/outgoing',
        readOnly: false,
      },
    ],
    labels: { [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
  };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('docker backend against a fake Engine API', () => {
  let fake: EngineFake;
  let backend: Backend;

  async function build(
    overrides: Parameters<typeof dockerSettings>[1] = {},
    timeoutMs = 5000,
  ): Promise<Backend> {
    return createDockerBackend(dockerSettings(fake, overrides), { log, timeoutMs });
  }

  beforeEach(async () => {
    fake = await startEngineFake();
    fake.images.add(IMAGE);
    backend = await build();
  });

  afterEach(async () => {
    await backend.close();
    await fake.close();
  });

  it('sends the manifest as the create body and answers notstarted / created', async () => {
    const s = spec('job-a');
    const created = await backend.create(s);
    expect(created).toMatchObject({
      name: 'job-a',
      image: IMAGE,
      status: 'notstarted',
      message: 'created',
    });
    const sent = fake.containers.get('job-a')?.body;
    // dockerode sends the name in the query and also leaves it in the body; dockerd ignores the latter.
    const expected = toContainerCreate(s, { ignoreLimits: false, memoryLimitMode: 'hard' });
    expect(sent).toStrictEqual(JSON.parse(JSON.stringify(expected)));
    // The view may answer from before the start event by one round trip; it then follows it.
    await until(
      'job-a to show started',
      () => statusOf(backend, 'job-a'),
      (i) => i.status === 'started',
      5000,
    );
  });

  it('capabilities come from /info', () => {
    expect(backend.capabilities).toMatchObject({ maxCpuMillicores: 4000, maxMemoryMiB: 8192 });
  });

  it('engine 400 on create → InvalidSpecError with the engine text, nothing left', async () => {
    fake.failCreate = { status: 400, message: 'Minimum memory limit allowed is 6MB' };
    await expect(backend.create(spec('job-b'))).rejects.toThrow(
      new InvalidSpecError('Minimum memory limit allowed is 6MB'),
    );
    expect(fake.containers.size).toBe(0);
  });

  it('engine 500 on create for an engine fault → BackendUnavailableError (503)', async () => {
    fake.failCreate = { status: 500, message: 'devmapper: thin pool is full' };
    await expect(backend.create(spec('job-c'))).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(fake.containers.size).toBe(0);
  });

  it('engine 409 on create (a lost race) → ConflictError', async () => {
    fake.conflictOnCreate = true;
    await expect(backend.create(spec('job-d'))).rejects.toThrow(
      new ConflictError('job "job-d" already exists'),
    );
  });

  it('issue 11: start refused with 500 → create answers created; onFailed gets finishedWithError with the engine text, container removed', async () => {
    fake.failStart = { status: 500, message: 'failed to create task: weird runtime problem' };
    const failed: JobInfo[] = [];
    const created = await backend.create(spec('job-e'), { onFailed: (i) => failed.push(i) });
    expect(created).toMatchObject({ name: 'job-e', status: 'notstarted', message: 'created' });
    expect(failed).toEqual([]);
    await until(
      'onFailed',
      () => Promise.resolve(failed.length),
      (n) => n > 0,
      5000,
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      name: 'job-e',
      image: IMAGE,
      status: 'finishedWithError',
      message: 'failed to create task: weird runtime problem',
    });
    expect(fake.containers.has('job-e')).toBe(false);
    // The backend answers the failure too, until DELETE (a name it still holds is a conflict).
    expect(await statusOf(backend, 'job-e')).toMatchObject({
      status: 'finishedWithError',
      message: 'failed to create task: weird runtime problem',
    });
    await expect(backend.create(spec('job-e'))).rejects.toBeInstanceOf(ConflictError);
    await backend.delete('job-e');
    await expect(statusOf(backend, 'job-e')).rejects.toBeInstanceOf(NotFoundError);
    expect(failed).toHaveLength(1);
  });

  it('issue 11: a job deleted while its start is in flight gets no onFailed', async () => {
    fake.failStart = { status: 500, message: 'too late' };
    fake.hang.add('/containers/job-e2/start');
    const failed: JobInfo[] = [];
    const quick = await build({}, 300);
    try {
      await quick.create(spec('job-e2'), { onFailed: (i) => failed.push(i) });
      await quick.delete('job-e2');
      fake.hang.clear();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(failed).toEqual([]);
      await expect(statusOf(quick, 'job-e2')).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      fake.hang.clear();
      await quick.close();
    }
  });

  it('an engine that never answers → BackendUnavailableError after the call timeout', async () => {
    const quick = await build({}, 300);
    try {
      fake.hang.add('/containers/');
      await expect(statusOf(quick, 'job-f')).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(quick.create(spec('job-f'))).rejects.toBeInstanceOf(BackendUnavailableError);
    } finally {
      fake.hang.clear();
      await quick.close();
    }
  });

  it('issue 11: a missing image answers pulling image at once; a pull failing in its stream → onFailed', async () => {
    const image = 'example.org/pman/missing:2';
    const g = gate();
    fake.pulls.set(image, {
      kind: 'wait',
      gate: g.promise,
      then: { error: 'manifest unknown' },
    });
    const failed: JobInfo[] = [];
    const created = await backend.create(spec('job-g', image), {
      onFailed: (i) => failed.push(i),
    });
    // Answered while the pull is still held: the default IMAGE_PULL_WAIT_SECONDS is 0.
    expect(created).toMatchObject({ status: 'notstarted', message: 'pulling image' });
    g.open();
    await until(
      'onFailed',
      () => Promise.resolve(failed.length),
      (n) => n > 0,
      5000,
    );
    expect(failed[0]).toMatchObject({
      name: 'job-g',
      status: 'finishedWithError',
      message: 'image pull failed: manifest unknown',
    });
    expect(fake.containers.size).toBe(0);
    await backend.delete('job-g');
  });

  it('issue 11: a pull refused within IMAGE_PULL_WAIT_SECONDS → still 201 pulling image, then onFailed with the engine text', async () => {
    const waiting = await build({ imagePullWaitSeconds: 5 });
    try {
      const image = 'example.org/pman/denied:3';
      fake.pulls.set(image, { kind: 'http-error', status: 404, message: 'pull access denied' });
      const failed: JobInfo[] = [];
      const created = await waiting.create(spec('job-h', image), {
        onFailed: (i) => failed.push(i),
      });
      expect(created).toMatchObject({ status: 'notstarted', message: 'pulling image' });
      await until(
        'onFailed',
        () => Promise.resolve(failed.length),
        (n) => n > 0,
        5000,
      );
      expect(failed[0]).toMatchObject({
        status: 'finishedWithError',
        message: 'image pull failed: pull access denied',
      });
      expect(await statusOf(waiting, 'job-h')).toMatchObject({ status: 'finishedWithError' });
      await waiting.delete('job-h');
    } finally {
      await waiting.close();
    }
  });

  it('IMAGE_PULL_WAIT_SECONDS: an image that lands within the wait is created at once', async () => {
    const waiting = await build({ imagePullWaitSeconds: 5 });
    try {
      const image = 'example.org/pman/quick:7';
      fake.pulls.set(image, { kind: 'ok' });
      const created = await waiting.create(spec('job-q', image));
      expect(created).toMatchObject({ status: 'notstarted', message: 'created' });
      expect(fake.containers.has('job-q')).toBe(true);
      await waiting.delete('job-q');
    } finally {
      await waiting.close();
    }
  });

  it('a slow pull: 201 pulling image, then the container is created and started when it lands', async () => {
    const slow = await build({ imagePullWaitSeconds: 0.05 });
    try {
      const image = 'example.org/pman/slow:4';
      const g = gate();
      fake.pulls.set(image, { kind: 'wait', gate: g.promise, then: 'ok' });
      const created = await slow.create(spec('job-i', image));
      expect(created).toMatchObject({ status: 'notstarted', message: 'pulling image' });
      expect(await statusOf(slow, 'job-i')).toMatchObject({
        status: 'notstarted',
        message: 'pulling image',
      });
      await expect(slow.create(spec('job-i', image))).rejects.toBeInstanceOf(ConflictError);
      expect(fake.containers.has('job-i')).toBe(false);
      g.open();
      const running = await until(
        'job-i to start',
        () => statusOf(slow, 'job-i'),
        (i) => i.status === 'started',
        5000,
      );
      expect(running).toMatchObject({ name: 'job-i', image, message: 'running' });
      expect(fake.containers.get('job-i')?.body.Image).toBe(image);
      await slow.delete('job-i');
      await expect(statusOf(slow, 'job-i')).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await slow.close();
    }
  });

  it('issue 10 (12): images being pulled are capped; a create that needs one more image gets 429, then is accepted', async () => {
    const slow = await build({ imagePullWaitSeconds: 0.05, maxConcurrentPulls: 1 });
    try {
      const first = 'example.org/pman/cap-a:1';
      const second = 'example.org/pman/cap-b:1';
      const g = gate();
      fake.pulls.set(first, { kind: 'wait', gate: g.promise, then: 'ok' });
      fake.pulls.set(second, { kind: 'wait', gate: g.promise, then: 'ok' });
      expect((await slow.create(spec('job-cap-a', first))).message).toBe('pulling image');
      const refused = slow.create(spec('job-cap-b', second));
      await expect(refused).rejects.toBeInstanceOf(TooManyRequestsError);
      await expect(refused).rejects.toThrow('1 images are already being pulled; retry shortly');
      // Another job on the image already being pulled is not refused: the cap counts images.
      expect((await slow.create(spec('job-cap-a2', first))).message).toBe('pulling image');
      expect(fake.containers.has('job-cap-b')).toBe(false);
      g.open();
      await until(
        'job-cap-a to start',
        () => statusOf(slow, 'job-cap-a'),
        (i) => i.status === 'started',
        5000,
      );
      expect((await slow.create(spec('job-cap-b', second))).name).toBe('job-cap-b');
      await slow.delete('job-cap-a');
      await slow.delete('job-cap-a2');
      await slow.delete('job-cap-b');
    } finally {
      await slow.close();
    }
  });

  it('a slow pull that then fails → finishedWithError "image pull failed: …" until DELETE', async () => {
    const slow = await build({ imagePullWaitSeconds: 0.05 });
    try {
      const image = 'example.org/pman/slow-fail:5';
      const g = gate();
      fake.pulls.set(image, { kind: 'wait', gate: g.promise, then: { error: 'unauthorized' } });
      expect((await slow.create(spec('job-j', image))).message).toBe('pulling image');
      g.open();
      const failed = await until(
        'job-j to fail',
        () => statusOf(slow, 'job-j'),
        (i) => i.status === 'finishedWithError',
        5000,
      );
      expect(failed.message).toBe('image pull failed: unauthorized');
      expect((await slow.list()).find((j) => j.name === 'job-j')?.status).toBe('finishedWithError');
      expect(await logsOf(slow, 'job-j', { tail: 10, maxBytes: 100 })).toBe('');
      await slow.delete('job-j');
      await expect(statusOf(slow, 'job-j')).rejects.toBeInstanceOf(NotFoundError);
      expect(fake.containers.size).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('issue 10 (1): after a background pull, a refused mount re-check fails the job naming the directory, nothing created', async () => {
    const slow = await build({ imagePullWaitSeconds: 0.05 });
    try {
      const image = 'example.org/pman/slow-swap:6';
      const g = gate();
      fake.pulls.set(image, { kind: 'wait', gate: g.promise, then: 'ok' });
      let checks = 0;
      const recheckMounts = (): Promise<void> => {
        checks += 1;
        // While the image was pulling, outgoing was swapped for a symlink leading out.
        return Promise.reject(new DirectoryError({ output: '"key/out" leads outside storeBase' }));
      };
      const created = await slow.create(spec('job-k', image), { recheckMounts });
      expect(created.message).toBe('pulling image');
      expect(checks).toBe(0);
      g.open();
      const failed = await until(
        'job-k to fail',
        () => statusOf(slow, 'job-k'),
        (i) => i.status === 'finishedWithError',
        5000,
      );
      expect(failed.message).toMatch(/output: "key\/out" leads outside storeBase/);
      expect(checks).toBe(1);
      expect(fake.requests).not.toContain('POST /containers/create');
      expect(fake.containers.size).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('issue 10 (1): the re-check runs right before create and again right before start', async () => {
    const seen: string[] = [];
    const recheckMounts = (): Promise<void> => {
      seen.push(fake.requests.filter((r) => r.startsWith('POST /containers/')).join(','));
      return Promise.resolve();
    };
    await backend.create(spec('job-l'), { recheckMounts });
    // The start (and its re-check) goes on after create answered.
    await until(
      'job-l to run',
      () => Promise.resolve(fake.containers.get('job-l')?.status),
      (s) => s === 'running',
      5000,
    );
    expect(seen).toEqual(['', 'POST /containers/create']);
  });

  it('issue 11: a re-check refused right before the background start → onFailed naming the directory, nothing left', async () => {
    let checks = 0;
    const recheckMounts = (): Promise<void> =>
      ++checks === 1
        ? Promise.resolve()
        : Promise.reject(new DirectoryError({ output: '"key/out" leads outside storeBase' }));
    const failed: JobInfo[] = [];
    const created = await backend.create(spec('job-l2'), {
      recheckMounts,
      onFailed: (i) => failed.push(i),
    });
    expect(created.status).toBe('notstarted');
    await until(
      'onFailed',
      () => Promise.resolve(failed.length),
      (n) => n > 0,
      5000,
    );
    expect(failed[0]?.message).toBe('output: "key/out" leads outside storeBase');
    expect(fake.containers.has('job-l2')).toBe(false);
    expect(fake.requests).not.toContain('POST /containers/job-l2/start');
    await backend.delete('job-l2');
  });

  it('issue 11: resume() starts a container created but never started; a no-op once it runs; NotFound when unknown', async () => {
    // A container made by an earlier process that died before its start.
    const docker = new Docker({ host: fake.url.host, port: fake.url.port, protocol: 'http' });
    const body = toContainerCreate(spec('job-r'), { ignoreLimits: false, memoryLimitMode: 'hard' });
    await docker.createContainer(body);
    expect(await statusOf(backend, 'job-r')).toMatchObject({
      status: 'notstarted',
      message: 'created',
    });
    await backend.resume?.('job-r');
    expect(fake.containers.get('job-r')?.status).toBe('running');
    await backend.resume?.('job-r');
    expect(fake.requests.filter((r) => r === 'POST /containers/job-r/start')).toHaveLength(1);
    fake.finish('job-r', { exitCode: 0 });
    await backend.resume?.('job-r');
    expect(fake.containers.get('job-r')?.status).toBe('exited');
    await expect(backend.resume?.('job-none')).rejects.toBeInstanceOf(NotFoundError);
    await backend.delete('job-r');
  });

  it('issue 11: resume() whose start the engine refuses → InvalidSpecError with its text, container removed', async () => {
    const docker = new Docker({ host: fake.url.host, port: fake.url.port, protocol: 'http' });
    const body = toContainerCreate(spec('job-r2'), {
      ignoreLimits: false,
      memoryLimitMode: 'hard',
    });
    await docker.createContainer(body);
    fake.failStart = { status: 400, message: 'exec: "nope": executable file not found' };
    await expect(backend.resume?.('job-r2')).rejects.toThrow(
      new InvalidSpecError('exec: "nope": executable file not found'),
    );
    expect(fake.containers.has('job-r2')).toBe(false);
  });

  it('issue 11: watchJobs → every status change once; exit 3 → a terminal snapshot with exitCode 3 and its logs, even when the container is removed right after', async () => {
    const seen: JobRead[] = [];
    backend.watchJobs?.({ tail: 100, maxBytes: 10_000 }, (s) => seen.push(s));
    await backend.create(spec('job-w'));
    await until(
      'started',
      () => Promise.resolve(seen.map((s) => s.info.status)),
      (l) => l.includes('started'),
      5000,
    );
    fake.finish('job-w', { exitCode: 3, logs: 'one\ntwo\n' });
    // Removed from outside a moment after the exit, before anyone read the job.
    await new Promise((resolve) => setTimeout(resolve, 200));
    fake.containers.delete('job-w');
    await until(
      'the terminal snapshot',
      () => Promise.resolve(seen.at(-1)?.info.status),
      (s) => s === 'finishedWithError',
      5000,
    );
    const terminal = seen.filter((s) => s.info.status === 'finishedWithError');
    expect(terminal).toHaveLength(1);
    expect(terminal[0]?.info).toMatchObject({
      name: 'job-w',
      message: 'exited with code 3',
      exitCode: 3,
    });
    expect(terminal[0]?.logs).toBe('one\ntwo\n');
    // Non-terminal snapshots carry no logs, and no status is reported twice in a row.
    for (const s of seen.filter((x) => x.info.status !== 'finishedWithError'))
      expect(s.logs).toBe('');
    const statuses = seen.map((s) => s.info.status);
    expect(statuses.filter((x, i) => x === statuses[i - 1])).toEqual([]);
  });

  it('issue 11: watchJobs reports the jobs a fresh backend finds, the finished ones with their logs', async () => {
    await backend.create(spec('job-x'));
    await until(
      'job-x to run',
      () => Promise.resolve(fake.containers.get('job-x')?.status),
      (s) => s === 'running',
      5000,
    );
    fake.finish('job-x', { exitCode: 0, logs: 'fine\n' });
    const fresh = await build();
    try {
      const seen: JobRead[] = [];
      fresh.watchJobs?.({ tail: 100, maxBytes: 10_000 }, (s) => seen.push(s));
      await until(
        'the first sight',
        () => Promise.resolve(seen.length),
        (n) => n > 0,
        5000,
      );
      expect(seen).toEqual([
        {
          info: expect.objectContaining({
            name: 'job-x',
            status: 'finishedSuccessfully',
            exitCode: 0,
          }) as JobInfo,
          logs: 'fine\n',
        },
      ]);
    } finally {
      await fresh.close();
    }
  });

  it('issue 10 (10): one container whose inspect hangs does not take the list down', async () => {
    await backend.create(spec('job-m'));
    await backend.create(spec('job-n'));
    const quick = await build({}, 300);
    try {
      fake.hang.add('/containers/job-n/json');
      const jobs = await quick.list();
      expect(jobs.find((j) => j.name === 'job-m')).toMatchObject({ status: 'started' });
      const stuck = jobs.find((j) => j.name === 'job-n');
      expect(stuck).toMatchObject({ status: 'undefined' });
      expect(stuck?.message).toMatch(/could not describe this container/);
    } finally {
      fake.hang.clear();
      await quick.close();
    }
  });

  it('INSTANCE_ID: a second instance on the same engine neither lists nor deletes our jobs', async () => {
    await backend.create(spec('job-o'));
    const other = await build({ instanceId: 'b' });
    try {
      await other.create(spec('job-p'));
      expect(fake.containers.get('job-p')?.body.Labels).toMatchObject({
        [DOCKER_MANAGED_BY_LABEL]: 'pman-b',
      });
      expect((await other.list()).map((j) => j.name)).toEqual(['job-p']);
      expect((await backend.list()).map((j) => j.name)).toEqual(['job-o']);
      await expect(other.delete('job-o')).rejects.toBeInstanceOf(NotFoundError);
      expect(fake.containers.has('job-o')).toBe(true);
    } finally {
      await other.close();
    }
  });
});
