// jobInfoOf for service jobs (issue 15): restarted, never terminal while the swarm restarts it,
// terminal once scaled to 0; the endpoint from the service (ingress) or the running task (host).
import { describe, expect, it } from 'vitest';
import { jobInfoOf, restartedBySwarm } from '../../src/backends/swarm/service-status.js';
import { parseService, parseTasks } from '../../src/backends/swarm/status.js';
import { answerableEntry, entryOf } from '../../src/backends/swarm/view.js';
import type { SwarmService, SwarmTask } from '../../src/backends/swarm/status.js';
import { TERMINAL_STATUSES } from '../../src/domain/job.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
const COMMAND = ['httpd', '-f', '-p', '8080', '-h', '/share/incoming'];
const CREATED = '2026-12-05T20:40:54.621502775Z';

/** A service job's inspect, shaped as Docker 20.10 answers it (host or ingress mode). */
function service(
  opts: {
    mode?: 'host' | 'ingress';
    replicas?: number;
    /** Allocated by the swarm (the inspect's Endpoint). */
    published?: number;
    /** Pinned at create (the spec's EndpointSpec). */
    pinned?: number;
    port?: string;
  } = {},
): SwarmService {
  const mode = opts.mode ?? 'host';
  const port = { Protocol: 'tcp', TargetPort: 8080, PublishMode: mode };
  return parseService({
    ID: 'zgpzywn84gnfjxu5gqartdlc4',
    Version: { Index: 30 },
    CreatedAt: CREATED,
    Spec: {
      Name: 'svc-1',
      Labels: {
        'org.chrisproject.managed-by': 'pman',
        ...(opts.port !== 'none' && { 'pman.service.port': opts.port ?? '8080' }),
      },
      TaskTemplate: {
        ContainerSpec: { Image: `${IMAGE}@sha256:${'a'.repeat(64)}`, Command: COMMAND },
        RestartPolicy: { Condition: 'any', Delay: 3_000_000_000, MaxAttempts: 0 },
      },
      Mode: { Replicated: { Replicas: opts.replicas ?? 1 } },
      EndpointSpec: {
        Mode: 'vip',
        Ports: [opts.pinned === undefined ? port : { ...port, PublishedPort: opts.pinned }],
      },
    },
    Endpoint: {
      Spec: { Mode: 'vip', Ports: [port] },
      Ports: [opts.published === undefined ? port : { ...port, PublishedPort: opts.published }],
    },
  });
}

let seq = 0;
/** A task as GET /tasks lists it; `created` orders them (the newest decides). */
function task(
  state: string,
  extra: { exit?: number; err?: string; hostPort?: number; created?: number } = {},
): SwarmTask {
  const created = extra.created ?? ++seq;
  const [t] = parseTasks([
    {
      ID: `t${created}`,
      ServiceID: 'zgpzywn84gnfjxu5gqartdlc4',
      CreatedAt: `2026-12-05T20:41:${String(created).padStart(2, '0')}.5Z`,
      DesiredState: 'running',
      Status: {
        Timestamp: `2026-12-05T20:42:${String(created).padStart(2, '0')}.5Z`,
        State: state,
        Message: state === 'running' ? 'started' : state,
        ...(extra.err !== undefined && { Err: extra.err }),
        ...(extra.exit !== undefined && { ContainerStatus: { ExitCode: extra.exit } }),
        PortStatus:
          extra.hostPort === undefined
            ? {}
            : {
                Ports: [
                  // Docker lists a host-mode port once per address family.
                  {
                    Protocol: 'tcp',
                    TargetPort: 8080,
                    PublishedPort: extra.hostPort,
                    PublishMode: 'host',
                  },
                  {
                    Protocol: 'tcp',
                    TargetPort: 8080,
                    PublishedPort: extra.hostPort,
                    PublishMode: 'host',
                  },
                ],
              },
      },
    },
  ]);
  if (t === undefined) throw new Error('parseTasks dropped the task');
  return t;
}

const failed = (exit: number, created?: number): SwarmTask =>
  task('failed', {
    exit,
    err: `task: non-zero exit (${exit})`,
    ...(created !== undefined && { created }),
  });

describe('jobInfoOf: service jobs on Swarm (issue 15)', () => {
  it('before a task: notstarted, the image as requested, no endpoint yet, 0 restarts', () => {
    expect(jobInfoOf(service(), [], '127.0.0.1')).toStrictEqual({
      name: 'svc-1',
      image: IMAGE,
      command: COMMAND,
      status: 'notstarted',
      message: 'task not available yet',
      timestamp: CREATED,
      service: { restarts: 0 },
    });
  });

  it('a first task still preparing: notstarted with its own words', () => {
    const info = jobInfoOf(service(), [task('preparing')], '127.0.0.1');
    expect(info).toMatchObject({ status: 'notstarted', message: 'preparing' });
  });

  it('host mode: running → started, endpoint from the running task on SERVICE_BIND_IP, healthy left to the job service', () => {
    const info = jobInfoOf(service(), [task('running', { hostPort: 32768 })], '127.0.0.1');
    expect(info).toMatchObject({ status: 'started', message: 'running' });
    expect(info.service).toStrictEqual({ endpoint: 'http://127.0.0.1:32768', restarts: 0 });
    expect(info).not.toHaveProperty('exitCode');
  });

  it('SERVICE_BIND_IP may be IPv6 (in brackets)', () => {
    const info = jobInfoOf(service(), [task('running', { hostPort: 32768 })], '::1');
    expect(info.service?.endpoint).toBe('http://[::1]:32768');
  });

  it('ingress mode: the endpoint is the service published port, known before a task runs', () => {
    const info = jobInfoOf(service({ mode: 'ingress', published: 30001 }), [], '10.1.2.3');
    expect(info.service?.endpoint).toBe('http://10.1.2.3:30001');
    expect(info.status).toBe('notstarted');
  });

  it('a crashing service is never terminal: the failed task and its waiting replacement read started/restarting', () => {
    const crashed = [failed(3, 1)];
    const waiting = [failed(3, 1), failed(3, 2), task('ready', { created: 3 })];
    for (const tasks of [crashed, waiting]) {
      const info = jobInfoOf(service(), tasks, '127.0.0.1');
      expect(TERMINAL_STATUSES.has(info.status)).toBe(false);
      expect(info.status).toBe('started');
      expect(info).not.toHaveProperty('exitCode');
    }
    expect(jobInfoOf(service(), crashed, '127.0.0.1')).toMatchObject({
      message: 'restarting after exit code 3 (1 restart)',
      service: { restarts: 1 },
    });
    const info = jobInfoOf(service(), waiting, '127.0.0.1');
    expect(info.message).toBe('restarting after exit code 3 (2 restarts)');
    // host mode: no running task, so no endpoint to call meanwhile.
    expect(info.service).toStrictEqual({ restarts: 2 });
  });

  it('host mode with the port pinned at create: the same endpoint while it runs and while it restarts', () => {
    // The engine has not allocated it yet (Endpoint without it): the spec says it all the same.
    const pinned = service({ mode: 'host', pinned: 41234 });
    const runs = jobInfoOf(pinned, [task('running', { hostPort: 41234 })], '127.0.0.1');
    const restarts = jobInfoOf(pinned, [failed(1, 1), task('ready', { created: 2 })], '127.0.0.1');
    expect(runs.service?.endpoint).toBe('http://127.0.0.1:41234');
    expect(restarts.service).toStrictEqual({ endpoint: 'http://127.0.0.1:41234', restarts: 1 });
  });

  it('an exit 0 is restarted too (condition any), and a rejected task says why', () => {
    const done = jobInfoOf(service(), [task('complete', { exit: 0 })], '127.0.0.1');
    expect(done).toMatchObject({
      status: 'started',
      message: 'restarting after exit code 0 (1 restart)',
    });
    const rejected = jobInfoOf(
      service(),
      [task('rejected', { err: `No such image: ${IMAGE}` }), task('pending')],
      '127.0.0.1',
    );
    expect(rejected).toMatchObject({
      status: 'started',
      message: `restarting after No such image: ${IMAGE} (1 restart)`,
    });
  });

  it('running again after crashes: started, counts the restarts, endpoint of the running task only', () => {
    const tasks = [
      task('failed', { exit: 1, hostPort: 32768, created: 1 }),
      task('running', { hostPort: 32771, created: 2 }),
    ];
    const info = jobInfoOf(service(), tasks, '127.0.0.1');
    expect(info).toMatchObject({ status: 'started', message: 'running' });
    expect(info.service).toStrictEqual({ endpoint: 'http://127.0.0.1:32771', restarts: 1 });
  });

  it('scaled to 0 (stop): started/stopping while a task may still run, then finishedWithError "stopped"', () => {
    const stopping = jobInfoOf(
      service({ replicas: 0 }),
      [task('running', { hostPort: 1 })],
      '127.0.0.1',
    );
    expect(stopping).toMatchObject({ status: 'started', message: 'stopping' });
    const stopped = jobInfoOf(
      service({ replicas: 0 }),
      [failed(3, 1), task('shutdown', { exit: 137, created: 2 })],
      '127.0.0.1',
    );
    expect(stopped).toMatchObject({
      status: 'finishedWithError',
      message: 'stopped',
      exitCode: 137,
      service: { restarts: 1 },
    });
    // The swarm may drop a scaled-down service's tasks altogether: still stopped.
    expect(jobInfoOf(service({ replicas: 0 }), [], '127.0.0.1')).toMatchObject({
      status: 'finishedWithError',
      message: 'stopped',
    });
  });

  it('a state the table does not know stays undefined, never guessed', () => {
    const info = jobInfoOf(service(), [task('hibernating')], '127.0.0.1');
    expect(info).toMatchObject({ status: 'undefined', message: 'hibernating' });
  });

  it('a batch job (no port label, or a malformed one) keeps the batch table: its failed task is its end', () => {
    for (const port of ['none', 'http'] as const) {
      const info = jobInfoOf(service({ port }), [failed(3)], '127.0.0.1');
      expect(info).toMatchObject({ status: 'finishedWithError', exitCode: 3 });
      expect(info).not.toHaveProperty('service');
    }
  });

  it('the event-fed view answers for a service job only while a task of it runs', () => {
    expect(answerableEntry(entryOf(service(), [task('running')], '127.0.0.1'))).toBe(true);
    // Its replacement's container started, but the manager lists it starting: read the engine.
    const restarting = [failed(3, 1), task('starting', { created: 3 })];
    expect(answerableEntry(entryOf(service(), restarting, '127.0.0.1'))).toBe(false);
    expect(answerableEntry(entryOf(service(), [failed(3, 1)], '127.0.0.1'))).toBe(false);
    // Stopped for good: final, kept in the view.
    const stopped = entryOf(service({ replicas: 0 }), [failed(3, 1)], '127.0.0.1');
    expect(answerableEntry(stopped)).toBe(true);
  });

  it('restartedBySwarm: a service job not scaled to 0 only', () => {
    expect(restartedBySwarm(service())).toBe(true);
    expect(restartedBySwarm(service({ replicas: 0 }))).toBe(false);
    expect(restartedBySwarm(service({ port: 'none' }))).toBe(false);
  });
});
