// How many engine calls one read costs on the docker and swarm backends (fake Engine API): status
// and log tail come from one look, and a live view answers a finished job without the engine.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import { DOCKER_MANAGED_BY_LABEL } from '../../src/backends/shared/labels.js';
import type { JobSpec } from '../../src/domain/job.js';
import { statusOf } from '../fixtures.js';
import { startEngineFake, type EngineFake } from '../fakes/engine-api.js';
import { until } from './backend.contract.js';
import { FAKE_IMAGE, openOnFake, type EngineKind } from './engine-rig.js';

function spec(name: string): JobSpec {
  return {
    name,
    image: FAKE_IMAGE,
    command: ['/bin/sh', '-c', 'echo hi'],
    env: {},
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 64, gpus: 0 },
    mounts: [],
    labels: {},
  };
}

/** The engine calls a step made, without the heartbeat and event-stream traffic. */
async function callsOf(fake: EngineFake, step: () => Promise<unknown>): Promise<string[]> {
  const before = fake.requests.length;
  await step();
  return fake.requests.slice(before).filter((r) => r !== 'GET /_ping' && r !== 'GET /events');
}

const LIMITS = { tail: 10, maxBytes: 1000 };

/** Docker starts a container after create answered (issue 11): wait for that start to land. */
async function startedOnFake(fake: EngineFake, name: string): Promise<void> {
  await until(
    `${name} to leave created`,
    () => Promise.resolve(fake.containers.get(name)?.status),
    (s) => s !== 'created',
    5000,
  );
}

describe.each<[EngineKind, string[]]>([
  ['docker', ['GET /containers/j1/json', 'GET /containers/j1/logs']],
  ['swarm', ['GET /services/j1', 'GET /tasks', 'GET /services/svc1/logs']],
])('%s backend: reads on the fake engine', (kind, coldRead) => {
  let fake: EngineFake;
  let backend: Backend;

  beforeEach(async () => {
    fake = await startEngineFake();
    fake.images.add(FAKE_IMAGE);
  });
  afterEach(async () => {
    await backend.close();
    await fake.close();
  });

  it('without a live view, status and log tail come from one look at the engine', async () => {
    fake.events.down = true;
    backend = await openOnFake(kind, fake);
    await backend.create(spec('j1'));
    await startedOnFake(fake, 'j1');
    fake.finish('j1', { exitCode: 0, logs: 'hi\n' });
    let read = { info: { status: '' }, logs: '' };
    const calls = await callsOf(fake, async () => {
      read = await backend.read('j1', { logs: LIMITS });
    });
    expect(read.info.status).toBe('finishedSuccessfully');
    expect(read.logs.replace(/\r/g, '')).toBe('hi\n');
    expect(calls).toEqual(coldRead);
  });

  it('with a live view, a finished job’s status needs no engine call at all', async () => {
    backend = await openOnFake(kind, fake);
    await backend.create(spec('j1'));
    fake.finish('j1', { exitCode: 0 });
    await until(
      'j1 to finish',
      () => statusOf(backend, 'j1'),
      (i) => i.status === 'finishedSuccessfully',
      5000,
    );
    // Once the first resync has landed (the view went live), the answer costs no engine call.
    await until(
      'the view to answer j1',
      () => callsOf(fake, () => statusOf(backend, 'j1')),
      (calls) => calls.length === 0,
      5000,
    );
    expect(await callsOf(fake, () => statusOf(backend, 'j1'))).toEqual([]);
  });

  it('a duplicate name is a ConflictError from the engine, the first job untouched', async () => {
    backend = await openOnFake(kind, fake);
    await backend.create(spec('j1'));
    await expect(backend.create({ ...spec('j1'), command: ['false'] })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await statusOf(backend, 'j1')).command).toEqual(['/bin/sh', '-c', 'echo hi']);
  });

  it('a job without our label is not ours: read and delete answer NotFound and leave it', async () => {
    backend = await openOnFake(kind, fake);
    await backend.create(spec('mine'));
    // Someone else's job of another name, made behind the backend's back (no event reaches it).
    const theirs = { [DOCKER_MANAGED_BY_LABEL]: 'someone-else' };
    const mine = fake.containers.get('mine');
    if (mine !== undefined) {
      fake.containers.set('j1', {
        ...mine,
        id: 'c-theirs',
        name: 'j1',
        body: { ...mine.body, Labels: theirs },
      });
    } else {
      const svc = fake.services.get('mine');
      if (svc === undefined) throw new Error('the fake holds no job "mine"');
      fake.services.set('j1', {
        ...svc,
        ID: 'svc-theirs',
        Spec: { ...svc.Spec, Name: 'j1', Labels: theirs },
      });
    }
    await expect(statusOf(backend, 'j1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(backend.delete('j1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(backend.create(spec('j1'))).rejects.toBeInstanceOf(ConflictError);
    expect((await backend.list()).map((j) => j.name)).toEqual(['mine']);
    expect(fake.containers.has('j1') || fake.services.has('j1')).toBe(true);
  });
});

describe('swarm backend: a dead container’s task on the fake engine', () => {
  it('a task still listed running after its container died is not settled as running', async () => {
    const fake = await startEngineFake();
    fake.images.add(FAKE_IMAGE);
    const backend = await openOnFake('swarm', fake);
    try {
      await backend.create(spec('j1'));
      // The view answers the running job by itself first …
      await until(
        'the view to answer j1',
        () => callsOf(fake, () => statusOf(backend, 'j1')),
        (calls) => calls.length === 0,
        5000,
      );
      // … then the container dies while the manager still lists the task as running.
      fake.finish('j1', { exitCode: 3 }, 300);
      const done = await until(
        'j1 to settle',
        () => statusOf(backend, 'j1'),
        (i) => i.status !== 'started',
        5000,
      );
      expect(done).toMatchObject({ status: 'finishedWithError' });
      expect(done.message).toContain('non-zero exit (3)');
    } finally {
      await backend.close();
      await fake.close();
    }
  });
});
