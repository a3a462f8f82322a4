// fromContainer / fromPending: every row of the Docker table (api.md §9.1) and the timestamp rule.
import { describe, expect, it } from 'vitest';
import {
  fromContainer,
  fromPending,
  hasStarted,
  toUtc,
  type ContainerView,
} from '../../src/backends/docker/status.js';

const ZERO = '0001-01-01T00:00:00Z';
const CREATED = '2024-05-07T15:00:00.111111111Z';
const STARTED = '2024-05-07T15:01:00.222222222Z';
const FINISHED = '2024-05-07T15:02:11.123456789Z';

type State = ContainerView['State'];

function container(state: Partial<State>, overrides: Partial<ContainerView> = {}): ContainerView {
  return {
    Name: '/chris-jid-42',
    Created: CREATED,
    State: {
      Status: 'exited',
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      ExitCode: 0,
      Error: '',
      StartedAt: STARTED,
      FinishedAt: FINISHED,
      ...state,
    },
    Config: {
      Image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
      Entrypoint: ['simpledsapp', '/share/incoming', '/share/outgoing'],
      Labels: { 'org.chrisproject.managed-by': 'pman' },
    },
    ...overrides,
  };
}

describe('fromContainer: the state table, in order', () => {
  // The last column: JobInfo.exitCode (issue 11), set on terminal rows only.
  const rows: [string, Partial<State>, string, string, string, number?][] = [
    [
      'running',
      { Status: 'running', Running: true, FinishedAt: ZERO },
      'started',
      'running',
      STARTED,
    ],
    [
      'paused',
      { Status: 'paused', Running: true, Paused: true, FinishedAt: ZERO },
      'started',
      'paused',
      STARTED,
    ],
    [
      'restarting',
      { Status: 'restarting', Running: true, Restarting: true },
      'started',
      'restarting',
      STARTED,
    ],
    [
      'created',
      { Status: 'created', StartedAt: ZERO, FinishedAt: ZERO },
      'notstarted',
      'created',
      CREATED,
    ],
    [
      'OOMKilled',
      { Status: 'exited', OOMKilled: true, ExitCode: 137 },
      'finishedWithError',
      'OOMKilled (exit code 137)',
      FINISHED,
      137,
    ],
    [
      'OOMKilled, actual code',
      { OOMKilled: true, ExitCode: 1 },
      'finishedWithError',
      'OOMKilled (exit code 1)',
      FINISHED,
      1,
    ],
    ['dead', { Status: 'dead', Dead: true, ExitCode: 0 }, 'finishedWithError', 'dead', FINISHED],
    ['exited 0', { Status: 'exited', ExitCode: 0 }, 'finishedSuccessfully', 'exited', FINISHED, 0],
    [
      'dead, with the code its process exited with',
      { Status: 'dead', Dead: true, ExitCode: 143 },
      'finishedWithError',
      'dead',
      FINISHED,
      143,
    ],
    [
      'exited 3',
      { Status: 'exited', ExitCode: 3 },
      'finishedWithError',
      'exited with code 3',
      FINISHED,
      3,
    ],
    [
      'exited 127 with State.Error',
      { Status: 'exited', ExitCode: 127, Error: 'exec: "x": executable file not found in $PATH' },
      'finishedWithError',
      'exited with code 127: exec: "x": executable file not found in $PATH',
      FINISHED,
      127,
    ],
    ['removing', { Status: 'removing' }, 'undefined', 'removing', STARTED],
    ['an unknown state', { Status: 'frobnicated' }, 'undefined', 'frobnicated', STARTED],
  ];

  it.each(rows)('%s', (_label, state, status, message, timestamp, exitCode) => {
    expect(fromContainer(container(state))).toStrictEqual({
      name: 'chris-jid-42',
      image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
      command: ['simpledsapp', '/share/incoming', '/share/outgoing'],
      status,
      message,
      timestamp,
      ...(exitCode !== undefined && { exitCode }),
    });
  });

  it('a running container with an old FinishedAt (restarted) shows its start time', () => {
    expect(fromContainer(container({ Status: 'running', Running: true })).timestamp).toBe(STARTED);
  });

  it('a terminal container without FinishedAt falls back to StartedAt, then Created', () => {
    expect(fromContainer(container({ Dead: true, FinishedAt: ZERO })).timestamp).toBe(STARTED);
    expect(
      fromContainer(container({ Dead: true, FinishedAt: ZERO, StartedAt: '' })).timestamp,
    ).toBe(CREATED);
  });

  it('takes the command from Entrypoint, whatever its shape', () => {
    const withConfig = (Entrypoint: ContainerView['Config']['Entrypoint']): ContainerView =>
      container({}, { Config: { Image: 'i', Entrypoint } });
    expect(fromContainer(withConfig('/bin/true')).command).toEqual(['/bin/true']);
    expect(fromContainer(withConfig(null)).command).toEqual([]);
    expect(fromContainer(withConfig(undefined)).command).toEqual([]);
  });
});

describe('timestamps', () => {
  it('keeps UTC times with their precision', () => {
    expect(toUtc(FINISHED)).toBe(FINISHED);
    expect(toUtc('2024-05-07T15:02:11Z')).toBe('2024-05-07T15:02:11Z');
  });

  it('folds an offset (Podman) into UTC with Z, keeping the fraction', () => {
    expect(toUtc('2024-05-07T17:02:11.123456789+02:00')).toBe('2024-05-07T15:02:11.123456789Z');
    expect(toUtc('2024-05-07T00:30:00-01:00')).toBe('2024-05-07T01:30:00Z');
  });

  it('hasStarted is false for the zero time and for an empty value', () => {
    expect(hasStarted(container({ StartedAt: ZERO }))).toBe(false);
    expect(hasStarted(container({ StartedAt: '' }))).toBe(false);
    expect(hasStarted(container({}))).toBe(true);
  });
});

describe('fromPending: jobs whose image is being pulled', () => {
  const base = {
    name: 'chris-jid-7',
    image: 'example/slow:1',
    command: ['run', '/share/outgoing'],
    acceptedAt: '2024-05-07T15:00:00.000Z',
  };

  it('pull in progress → notstarted / pulling image, at the time of the create', () => {
    expect(fromPending(base)).toStrictEqual({
      name: 'chris-jid-7',
      image: 'example/slow:1',
      command: ['run', '/share/outgoing'],
      status: 'notstarted',
      message: 'pulling image',
      timestamp: '2024-05-07T15:00:00.000Z',
    });
  });

  it('pull failed → finishedWithError with the failure, at the time it failed', () => {
    const failed = {
      ...base,
      failure: {
        message: 'image pull failed: timed out after 600 s',
        at: '2024-05-07T15:10:00.000Z',
      },
    };
    expect(fromPending(failed)).toMatchObject({
      status: 'finishedWithError',
      message: 'image pull failed: timed out after 600 s',
      timestamp: '2024-05-07T15:10:00.000Z',
    });
  });
});
