// fromService: every row of the task-state table (api.md §9.2), plus the start-up reading of the engine.
import { describe, expect, it } from 'vitest';
import { assertSwarmManager, largestReadyNode } from '../../src/backends/swarm/capacity.js';
import {
  TASK_STATES,
  fromService,
  newestTask,
  parseService,
  parseTasks,
  requestedImage,
  type SwarmTask,
  type TaskState,
} from '../../src/backends/swarm/status.js';
import { BackendRefusedError } from '../../src/domain/errors.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
const COMMAND = ['/bin/sh', '-c', 'echo hi', '/share/outgoing'];
const CREATED = '2026-11-23T11:47:16.701088882Z';

// Shapes copied from a real Docker 20.10 engine (GET /services/<id>, GET /tasks).
const service = parseService({
  ID: 'w7hftoo2e1bv7g1vz8ilkso1p',
  Version: { Index: 24 },
  CreatedAt: CREATED,
  UpdatedAt: CREATED,
  Spec: {
    Name: 'chris-jid-7',
    Labels: { 'org.chrisproject.managed-by': 'pman' },
    TaskTemplate: {
      ContainerSpec: { Image: IMAGE, Command: COMMAND, TTY: true, Isolation: 'default' },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      ForceUpdate: 0,
      Runtime: 'container',
    },
    Mode: { Replicated: { Replicas: 1 } },
  },
  Endpoint: { Spec: {} },
});

function task(
  state: string,
  extra: {
    Err?: string;
    Message?: string;
    ExitCode?: number;
    CreatedAt?: string;
    Timestamp?: string;
  } = {},
): SwarmTask {
  const [parsed] = parseTasks([
    {
      ID: `task-${state}`,
      ServiceID: service.ID,
      CreatedAt: extra.CreatedAt ?? '2026-11-23T11:47:17.1Z',
      DesiredState: 'running',
      Status: {
        Timestamp: extra.Timestamp ?? '2026-11-23T11:47:27.780280211Z',
        State: state,
        Message: extra.Message ?? state,
        ...(extra.Err !== undefined && { Err: extra.Err }),
        ...(extra.ExitCode !== undefined && {
          ContainerStatus: { ContainerID: 'abc', PID: 0, ExitCode: extra.ExitCode },
        }),
        PortStatus: {},
      },
    },
  ]);
  if (parsed === undefined) throw new Error('parseTasks dropped the task');
  return parsed;
}

describe('fromService: the task-state table', () => {
  it('before any task: notstarted / "task not available yet" with image, cmd and the service creation time', () => {
    expect(fromService(service, [])).toStrictEqual({
      name: 'chris-jid-7',
      image: IMAGE,
      command: COMMAND,
      status: 'notstarted',
      message: 'task not available yet',
      timestamp: CREATED,
    });
  });

  const waiting: [TaskState, string][] = [
    ['new', 'created'],
    ['allocated', 'allocated'],
    ['pending', 'pending task scheduling'],
    ['assigned', 'scheduler assigned task to node'],
    ['accepted', 'accepted'],
    ['preparing', 'preparing'],
    ['ready', 'prepared'],
    ['starting', 'starting'],
  ];
  it.each(waiting)('%s → notstarted with the task message', (state, message) => {
    const info = fromService(service, [task(state, { Message: message })]);
    expect(info).toMatchObject({ status: 'notstarted', message });
    expect(info.timestamp).toBe('2026-11-23T11:47:27.780280211Z');
  });

  it('running → started / "started"', () => {
    expect(fromService(service, [task('running', { Message: 'started' })])).toMatchObject({
      status: 'started',
      message: 'started',
    });
  });

  it('complete → finishedSuccessfully / "finished"', () => {
    const info = fromService(service, [task('complete', { Message: 'finished', ExitCode: 0 })]);
    expect(info).toMatchObject({ status: 'finishedSuccessfully', message: 'finished' });
  });

  it('failed → finishedWithError / Status.Err with the exit code (pman hid it behind "started")', () => {
    const info = fromService(service, [
      task('failed', { Message: 'started', Err: 'task: non-zero exit (3)', ExitCode: 3 }),
    ]);
    expect(info).toMatchObject({ status: 'finishedWithError', message: 'task: non-zero exit (3)' });
  });

  it('failed with exit code 137 adds the out-of-memory hint', () => {
    const info = fromService(service, [
      task('failed', { Message: 'started', Err: 'task: non-zero exit (137)', ExitCode: 137 }),
    ]);
    expect(info).toMatchObject({
      status: 'finishedWithError',
      message: 'task: non-zero exit (137) (killed: out of memory?)',
    });
  });

  it('shutdown with exit code 137 → "shutdown by docker swarm (out of memory)"', () => {
    const info = fromService(service, [task('shutdown', { Message: 'shutdown', ExitCode: 137 })]);
    expect(info).toMatchObject({
      status: 'finishedWithError',
      message: 'shutdown by docker swarm (out of memory)',
    });
  });

  it('shutdown otherwise → finishedWithError with the task message', () => {
    const info = fromService(service, [task('shutdown', { Message: 'shutdown', ExitCode: 0 })]);
    expect(info).toMatchObject({ status: 'finishedWithError', message: 'shutdown' });
  });

  it('rejected (missing image) → finishedWithError / the engine message (pman: undefined forever)', () => {
    const info = fromService(service, [
      task('rejected', { Message: 'preparing', Err: `No such image: ${IMAGE}` }),
    ]);
    expect(info).toMatchObject({ status: 'finishedWithError', message: `No such image: ${IMAGE}` });
  });

  it('rejected (missing bind source) → finishedWithError / the engine message', () => {
    const err =
      'invalid mount config for type "bind": bind source path does not exist: /storebase/key-x/incoming';
    const info = fromService(service, [task('rejected', { Message: 'preparing', Err: err })]);
    expect(info).toMatchObject({ status: 'finishedWithError', message: err });
  });

  it.each(['remove', 'orphaned'] as const)('%s → undefined', (state) => {
    expect(fromService(service, [task(state)]).status).toBe('undefined');
  });

  it('an unknown future state → undefined with its text, never a guess', () => {
    expect(fromService(service, [task('hibernating', { Message: '' })])).toMatchObject({
      status: 'undefined',
      message: 'hibernating',
    });
  });

  it('the table covers every TaskState and only the documented statuses', () => {
    expect(Object.keys(TASK_STATES).sort()).toEqual(
      [
        'accepted',
        'allocated',
        'assigned',
        'complete',
        'failed',
        'new',
        'orphaned',
        'pending',
        'preparing',
        'ready',
        'rejected',
        'remove',
        'running',
        'shutdown',
        'starting',
      ].sort(),
    );
  });

  it("never reports Go's zero time: the service creation time stands in", () => {
    const info = fromService(service, [task('new', { Timestamp: '0001-01-01T00:00:00Z' })]);
    expect(info.timestamp).toBe(CREATED);
  });

  it('falls back to Status.Message, then the state, when Err is empty', () => {
    expect(fromService(service, [task('failed', { Err: '', Message: 'started' })]).message).toBe(
      'started',
    );
    expect(fromService(service, [task('failed', { Err: '', Message: '' })]).message).toBe('failed');
  });
});

describe('newestTask', () => {
  it('compares creation times with different fraction lengths correctly', () => {
    const older = task('failed', { CreatedAt: '2026-11-23T11:47:32.55481797Z' });
    const newer = task('running', { CreatedAt: '2026-11-23T11:47:32.554817971Z' });
    expect(newestTask([older, newer])).toBe(newer);
    expect(newestTask([newer, older])).toBe(newer);
    const whole = task('complete', { CreatedAt: '2026-11-23T11:47:33Z' });
    expect(newestTask([newer, whole, older])).toBe(whole);
  });

  it('the newest task decides the job', () => {
    const old = task('failed', {
      CreatedAt: '2026-11-23T11:00:00.1Z',
      Err: 'task: non-zero exit (1)',
    });
    const cur = task('running', { CreatedAt: '2026-11-23T11:00:01.1Z', Message: 'started' });
    expect(fromService(service, [old, cur]).status).toBe('started');
  });
});

describe('requestedImage', () => {
  it('strips the digest swarm pins to a tag', () => {
    expect(requestedImage(`${IMAGE}@sha256:${'a'.repeat(64)}`)).toBe(IMAGE);
    expect(requestedImage(`busybox:1.36@sha256:${'b'.repeat(64)}`)).toBe('busybox:1.36');
  });

  it('keeps references that were asked for with a digest, or without one', () => {
    const byDigest = `fnndsc/pl-x@sha256:${'c'.repeat(64)}`;
    expect(requestedImage(byDigest)).toBe(byDigest);
    expect(requestedImage('localhost:5000/x')).toBe('localhost:5000/x');
    expect(requestedImage(IMAGE)).toBe(IMAGE);
  });

  it('is applied to the job image', () => {
    const pinned = parseService({
      ID: 's',
      CreatedAt: CREATED,
      Spec: {
        Name: 'n',
        TaskTemplate: {
          ContainerSpec: { Image: `${IMAGE}@sha256:${'d'.repeat(64)}`, Command: ['x'] },
        },
      },
    });
    expect(fromService(pinned, []).image).toBe(IMAGE);
  });
});

describe('parseService / parseTasks', () => {
  it('refuse shapes that are not an engine answer', () => {
    expect(() => parseService({ ID: 1 })).toThrow();
    expect(() => parseTasks({})).toThrow();
  });

  it('tolerate a service without labels or command', () => {
    const bare = parseService({
      ID: 'x',
      Spec: { Name: 'n', TaskTemplate: { ContainerSpec: { Image: 'i' } } },
    });
    expect(bare.Spec.Labels).toEqual({});
    expect(fromService(bare, []).command).toEqual([]);
  });
});

describe('start-up reading of the engine', () => {
  it('accepts an active swarm manager', () => {
    expect(() =>
      assertSwarmManager({ Swarm: { LocalNodeState: 'active', ControlAvailable: true } }),
    ).not.toThrow();
  });

  it('refuses an engine without an active swarm with the docker swarm init hint', () => {
    expect(() => assertSwarmManager({ Swarm: { LocalNodeState: 'inactive' } })).toThrow(
      new BackendRefusedError('docker swarm is not active on this engine: run docker swarm init'),
    );
    expect(() => assertSwarmManager({})).toThrow(/docker swarm init/);
  });

  it('refuses a swarm worker node', () => {
    expect(() =>
      assertSwarmManager({ Swarm: { LocalNodeState: 'active', ControlAvailable: false } }),
    ).toThrow(/manager/);
  });

  it('reads the biggest ready node per resource', () => {
    const nodes = [
      {
        Status: { State: 'ready' },
        Description: { Resources: { NanoCPUs: 2e9, MemoryBytes: 25276063744 } },
      },
      {
        Status: { State: 'ready' },
        Description: { Resources: { NanoCPUs: 8e9, MemoryBytes: 2 ** 30 } },
      },
      {
        Status: { State: 'down' },
        Description: { Resources: { NanoCPUs: 64e9, MemoryBytes: 2 ** 40 } },
      },
    ];
    expect(largestReadyNode(nodes)).toEqual({ maxCpuMillicores: 8000, maxMemoryMiB: 24105 });
  });

  it('leaves drained nodes out', () => {
    const nodes = [
      {
        Status: { State: 'ready' },
        Spec: { Availability: 'drain' },
        Description: { Resources: { NanoCPUs: 64e9, MemoryBytes: 2 ** 40 } },
      },
      {
        Status: { State: 'ready' },
        Spec: { Availability: 'active' },
        Description: { Resources: { NanoCPUs: 2e9, MemoryBytes: 2 ** 31 } },
      },
    ];
    expect(largestReadyNode(nodes)).toEqual({ maxCpuMillicores: 2000, maxMemoryMiB: 2048 });
  });

  it('knows nothing without a ready node', () => {
    expect(largestReadyNode([])).toEqual({ maxCpuMillicores: null, maxMemoryMiB: null });
  });
});

describe('fromService: exitCode (issue 11)', () => {
  it("a terminal task reports its container's exit code", () => {
    expect(fromService(service, [task('complete', { ExitCode: 0 })]).exitCode).toBe(0);
    expect(fromService(service, [task('failed', { ExitCode: 3 })]).exitCode).toBe(3);
    expect(fromService(service, [task('shutdown', { ExitCode: 137 })]).exitCode).toBe(137);
  });

  it('a running task, and a rejected one that never had a container, report none', () => {
    expect(fromService(service, [task('running', { ExitCode: 0 })])).not.toHaveProperty('exitCode');
    expect(fromService(service, [task('rejected', { Err: 'No such image' })])).not.toHaveProperty(
      'exitCode',
    );
  });
});
