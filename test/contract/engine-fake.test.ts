// The docker backend against the fake Engine API: the error paths a real engine rarely shows on
// demand (500/409 on create, start refusals, calls that never answer) and the background pull.
import { statusOf, logsOf } from '../fixtures.js';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
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
import { type JobSpec } from '../../src/domain/job.js';
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

  it('start refused with 500 → InvalidSpecError with the engine text, container removed', async () => {
    fake.failStart = { status: 500, message: 'failed to create task: weird runtime problem' };
    const err: unknown = await backend.create(spec('job-e')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as Error).message).toBe('failed to create task: weird runtime problem');
    expect(fake.containers.has('job-e')).toBe(false);
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

  it('a pull failing in its progress stream within the wait → InvalidSpecError naming the image', async () => {
    const image = 'example.org/pman/missing:2';
    fake.pulls.set(image, { kind: 'stream-error', message: 'manifest unknown' });
    await expect(backend.create(spec('job-g', image))).rejects.toThrow(
      new InvalidSpecError(`image "${image}" could not be pulled: manifest unknown`),
    );
    expect(fake.containers.size).toBe(0);
  });

  it('a pull refused by the engine within the wait → InvalidSpecError with the engine text', async () => {
    const image = 'example.org/pman/denied:3';
    fake.pulls.set(image, { kind: 'http-error', status: 404, message: 'pull access denied' });
    await expect(backend.create(spec('job-h', image))).rejects.toThrow(
      new InvalidSpecError(`image "${image}" could not be pulled: pull access denied`),
    );
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
    expect(seen).toEqual(['', 'POST /containers/create']);
    expect(fake.containers.get('job-l')?.status).toBe('running');
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
