// The Kubernetes backend with the real @kubernetes/client-node against the fake API server
// (kubernetes.md §9.2): the conformance suite, then the Kubernetes-specific cases.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesBackend } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesExtras } from '../../src/backends/kubernetes/kubernetes.js';
import { podsExplainJob } from '../../src/backends/kubernetes/view.js';
import type { KubernetesBackendConfig } from '../../src/config/config.js';
import {
  BackendRefusedError,
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
} from '../../src/domain/errors.js';
import { TERMINAL_STATUSES } from '../../src/domain/job.js';
import type { JobInfo, JobSpec } from '../../src/domain/job.js';
import type { JobRead } from '../../src/backends/backend.js';
import { JobService } from '../../src/service/jobs.js';
import { Ledger } from '../../src/store/ledger.js';
import { logsOf, sampleRequest, statusOf, testConfig } from '../fixtures.js';
import { startFakeKubeApi } from '../fakes/kube-api/index.js';
import { selfSignedCert } from '../fakes/kube-api/tls.js';
import type { FakeKubeApi, FakeKubeApiOptions } from '../fakes/kube-api/index.js';
import { describeBackend, runPrefix, until } from './backend.contract.js';
import { kubeConfig, kubeHarness, outcomeSteps, pvcMounts, startKubeRig } from './kube-rig.js';
import type { KubeRig } from './kube-rig.js';

const NS = 'chris';
const silent = pino({ level: 'silent' });

const config = (
  kubeconfig: string,
  extra: Partial<KubernetesBackendConfig> = {},
): KubernetesBackendConfig => kubeConfig(NS, kubeconfig, extra);

const rig = (
  fakeOpts: FakeKubeApiOptions = {},
  cfg: Partial<KubernetesBackendConfig> = {},
  extras: KubernetesExtras = {},
  timeoutMs = 5_000,
): Promise<KubeRig> =>
  startKubeRig({ namespace: NS, fake: fakeOpts, config: cfg, extras, timeoutMs });

function jobSpec(name: string, extra: Partial<JobSpec> = {}): JobSpec {
  return {
    name,
    image: 'busybox',
    command: ['/bin/sh', '-c', 'echo hi'],
    env: {},
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
    mounts: pvcMounts(name),
    labels: { 'app.kubernetes.io/managed-by': 'pman' },
    ...extra,
  };
}

/** The Job and Pod informers have listed and are watching (the fake counts open streams). */
async function bothWatchesOpen(r: { fake: FakeKubeApi }): Promise<void> {
  await until(
    'both watches open',
    () => Promise.resolve(r.fake.openWatches),
    (k) => k >= 2,
    10_000,
  );
}

describeBackend('kubernetes (fake API)', () => kubeHarness({ namespace: NS }));

describe('kubernetes backend against the fake API', () => {
  let r: KubeRig;
  const prefix = runPrefix('k8s');
  let n = 0;
  const next = () => `${prefix}-${++n}`;

  beforeAll(async () => {
    r = await rig();
  });
  afterAll(async () => {
    await r?.close();
  });

  it('ImagePullBackOff is notstarted until IMAGE_PULL_FAILURE_SECONDS on the fake clock, then finishedWithError', async () => {
    const name = next();
    r.fake.scenario(name, [
      { pod: 'create' },
      { schedule: true },
      { waiting: 'ErrImagePull' },
      { waiting: 'ImagePullBackOff', message: 'Back-off pulling image "nope"' },
    ]);
    await r.backend.create(jobSpec(name, { image: 'nope' }));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    const early = await statusOf(r.backend, name);
    expect(early).toMatchObject({
      status: 'notstarted',
      message: 'ImagePullBackOff: Back-off pulling image "nope"',
    });
    r.fake.clock.tick(301_000);
    const late = await statusOf(r.backend, name);
    expect(late.status).toBe('finishedWithError');
    expect(late.message).toBe(
      'ImagePullBackOff for more than 300 s: Back-off pulling image "nope"',
    );
    await r.backend.delete(name);
  });

  it('an Unschedulable GPU job stays notstarted with the scheduler message', async () => {
    const name = next();
    const msg = '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.';
    r.fake.scenario(name, [{ pod: 'create' }, { unschedulable: msg }]);
    await r.backend.create(
      jobSpec(name, { resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 1 } }),
    );
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    r.fake.clock.tick(3_600_000);
    expect(await statusOf(r.backend, name)).toMatchObject({
      status: 'notstarted',
      message: `Unschedulable: ${msg}`,
    });
    const sent = JSON.parse(
      r.fake.requests.find((q) => q.method === 'POST' && q.body.includes(name))?.body ?? '{}',
    ) as { spec: { template: { spec: { containers: { resources: unknown }[] } } } };
    expect(sent.spec.template.spec.containers[0]?.resources).toEqual({
      limits: { cpu: '500m', memory: '128Mi', 'nvidia.com/gpu': '1' },
    });
    await r.backend.delete(name);
  });

  it('the deadline ends the job as DeadlineExceeded', async () => {
    const name = next();
    r.fake.scenario(name, [
      { pod: 'create' },
      { schedule: true },
      { running: true },
      { deadline: true },
    ]);
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    expect(await statusOf(r.backend, name)).toMatchObject({
      status: 'finishedWithError',
      message: 'DeadlineExceeded: Job was active longer than specified deadline',
    });
    await r.backend.delete(name);
  });

  it('OOMKilled is in the message and appended to the logs', async () => {
    const name = next();
    r.fake.scenario(name, [
      { pod: 'create' },
      { running: true, log: 'allocating\n' },
      { exit: 137, reason: 'OOMKilled' },
    ]);
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    expect((await statusOf(r.backend, name)).message).toBe('OOMKilled (exit code 137)');
    expect(await logsOf(r.backend, name, { tail: 10, maxBytes: 1000 })).toBe(
      'allocating\n\nOOMKilled',
    );
    await r.backend.delete(name);
  });

  it('logs of a container that never started are "" (the API answers 400)', async () => {
    const name = next();
    r.fake.scenario(name, [
      { pod: 'create' },
      { schedule: true },
      { waiting: 'ErrImagePull' },
      { waiting: 'ImagePullBackOff' },
    ]);
    await r.backend.create(jobSpec(name, { image: 'nope' }));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    // A job that has not started has no logs to read: read() asks the API for none.
    const since = r.fake.requests.length;
    expect(await logsOf(r.backend, name, { tail: 10, maxBytes: 1000 })).toBe('');
    expect(r.fake.requests.slice(since).filter((q) => q.path.endsWith('/log'))).toEqual([]);
    // Past the pull threshold it has ended without ever starting: the log read answers 400.
    r.fake.clock.tick(301_000);
    const ended = await r.backend.read(name, { logs: { tail: 10, maxBytes: 1000 } });
    expect(ended).toMatchObject({ info: { status: 'finishedWithError' }, logs: '' });
    const logReads = r.fake.requests.filter(
      (q) => q.path.endsWith('/log') && q.path.includes(name),
    );
    expect(logReads).toHaveLength(1);
    expect(logReads[0]?.query).toMatchObject({ container: name, tailLines: '10' });
    expect(logReads[0]?.query.limitBytes).toBeDefined();
    await r.backend.delete(name);
  });

  it('several workers: every pod must succeed; logs of all pods in order', async () => {
    const name = next();
    r.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'w\n' }, { exit: 0 }]);
    await r.backend.create(
      jobSpec(name, { resources: { workers: 2, cpuMillicores: 500, memoryMiB: 128, gpus: 0 } }),
    );
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    expect((await statusOf(r.backend, name)).status).toBe('finishedSuccessfully');
    expect(await logsOf(r.backend, name, { tail: 10, maxBytes: 1000 })).toBe('w\nw\n');
    await r.backend.delete(name);
  });

  it('streamLogs streams the pod log', async () => {
    const name = next();
    r.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'a\nb\nc\n' }, { exit: 0 }]);
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    let text = '';
    for await (const chunk of r.backend.streamLogs(name, 2))
      text += Buffer.from(chunk).toString('utf8');
    expect(text).toBe('b\nc\n');
    await r.backend.delete(name);
  });

  // A server that gets a DeleteOptions body ignores the query (kubernetes.md §7.8): the policy is
  // in both, next to the uid precondition (issue 10, item 5).
  it('DELETE sends propagationPolicy=Background in the query and the body, the uid precondition, and no pods remain', async () => {
    const name = next();
    r.fake.scenario(name, [{ pod: 'create' }, { running: true }]);
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    expect(r.fake.pods(NS, name)).toHaveLength(1);
    await r.backend.delete(name);
    const del = r.fake.requests.filter(
      (q) => q.method === 'DELETE' && q.path.endsWith(`/jobs/${name}`),
    );
    expect(del).toHaveLength(1);
    expect(del[0]?.query.propagationPolicy).toBe('Background');
    expect(JSON.parse(del[0]?.body ?? '')).toEqual({
      propagationPolicy: 'Background',
      preconditions: { uid: expect.any(String) as unknown },
    });
    await r.fake.settle();
    expect(r.fake.pods(NS).filter((p) => p.metadata.name?.startsWith(`${name}-`))).toEqual([]);
    await expect(statusOf(r.backend, name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('create of an existing name → ConflictError from the API (409)', async () => {
    const name = next();
    await r.backend.create(jobSpec(name));
    await expect(r.backend.create(jobSpec(name))).rejects.toBeInstanceOf(ConflictError);
    await r.backend.delete(name);
  });

  it('a name the API refuses (422) → InvalidSpecError with the Status message', async () => {
    const err = await r.backend.create(jobSpec('Bad_Name')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as Error).message).toMatch(/is invalid/);
  });

  it('429 and 503 → BackendUnavailableError, keeping the server Retry-After', async () => {
    r.fake.failNext({ method: 'GET', path: /\/jobs\/x429$/ }, { code: 429, retryAfter: 7 });
    const e429 = await statusOf(r.backend, 'x429').catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(BackendUnavailableError);
    expect((e429 as BackendUnavailableError).retryAfterSeconds).toBe(7);
    r.fake.failNext({ method: 'GET', path: /\/jobs\/x503$/ }, { code: 503 });
    await expect(statusOf(r.backend, 'x503')).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('a reset connection → BackendUnavailableError', async () => {
    r.fake.failNext({ method: 'GET', path: /\/jobs\/xreset$/ }, 'reset');
    await expect(statusOf(r.backend, 'xreset')).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('403 → BackendRefusedError naming the refused permission', async () => {
    r.fake.deny({ verb: 'create', resource: 'jobs' });
    const err = await r.backend.create(jobSpec(next())).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendRefusedError);
    expect((err as Error).message).toMatch(/cannot create resource "jobs" in API group "batch"/);
  });

  it('list answers from the informers: a new job at once, a deleted one gone', async () => {
    const fresh = await rig();
    try {
      const name = next();
      await fresh.backend.create(jobSpec(name));
      expect((await fresh.backend.list()).map((j) => j.name)).toContain(name);
      const listsBefore = fresh.fake.requests.filter(
        (q) => q.method === 'GET' && q.query.watch === undefined && q.path.endsWith('/jobs'),
      ).length;
      await fresh.backend.list();
      const listsAfter = fresh.fake.requests.filter(
        (q) => q.method === 'GET' && q.query.watch === undefined && q.path.endsWith('/jobs'),
      ).length;
      expect(listsAfter).toBe(listsBefore);
      await fresh.backend.delete(name);
      expect((await fresh.backend.list()).map((j) => j.name)).not.toContain(name);
    } finally {
      await fresh.close();
    }
  });
});

describe('informers and records', () => {
  let r: KubeRig;
  const records: JobInfo[] = [];
  const recordLogs: string[] = [];
  afterEach(async () => {
    await r?.close();
  });

  const watchRequests = (fake: FakeKubeApi, resource: 'jobs' | 'pods') =>
    fake.requests.filter((q) => q.path.endsWith(`/${resource}`) && q.query.watch === 'true');
  const listRequests = (fake: FakeKubeApi, resource: 'jobs' | 'pods') =>
    fake.requests.filter(
      (q) => q.path.endsWith(`/${resource}`) && q.method === 'GET' && q.query.watch === undefined,
    );

  it('a job finishing while nobody polls gets a record with its logs; TTL deletion leaves it', async () => {
    r = await rig({}, { ttlSecondsAfterFinished: 60 });
    const seen: JobRead[] = [];
    r.backend.watchJobs({ tail: 10, maxBytes: 1000 }, (snapshot) => {
      seen.push(snapshot);
      if (TERMINAL_STATUSES.has(snapshot.info.status)) {
        records.push(snapshot.info);
        recordLogs.push(snapshot.logs);
      }
    });
    const name = `rec-${runPrefix('r')}`;
    r.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'done\n' }, { exit: 0 }]);
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    await until(
      'a record',
      () => Promise.resolve(records.length),
      (k) => k > 0,
      10_000,
    );
    expect(records[0]).toMatchObject({ name, status: 'finishedSuccessfully', exitCode: 0 });
    expect(recordLogs[0]).toBe('done\n');
    // Issue 11: watchJobs reports the way there too (what the informers saw of it: our create
    // at least), each status once, without logs.
    const statuses = seen.map((x) => x.info.status);
    expect(statuses[0]).toBe('notstarted');
    expect(statuses.filter((x, i) => x === statuses[i - 1])).toEqual([]);
    for (const x of seen.filter((y) => !TERMINAL_STATUSES.has(y.info.status)))
      expect(x.logs).toBe('');
    r.fake.clock.tick(61_000);
    await r.fake.settle();
    await r.caughtUp(name);
    await expect(statusOf(r.backend, name)).rejects.toBeInstanceOf(NotFoundError);
    expect(records).toHaveLength(1);
  });

  it('issue 11: exit 3 → one terminal snapshot with exitCode 3 and its logs; the TTL controller deleting the Job after it loses nothing', async () => {
    r = await rig({}, { ttlSecondsAfterFinished: 30 });
    const terminal: JobRead[] = [];
    r.backend.watchJobs({ tail: 10, maxBytes: 1000 }, (snapshot) => {
      if (TERMINAL_STATUSES.has(snapshot.info.status)) terminal.push(snapshot);
    });
    const name = `ttl-${runPrefix('t')}`;
    r.fake.scenario(name, outcomeSteps({ exitCode: 3, logs: 'failing\n' }));
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await until(
      'the terminal snapshot',
      () => Promise.resolve(terminal.length),
      (k) => k > 0,
      10_000,
    );
    // The TTL controller deletes the finished Job and its pods: nothing more is reported.
    r.fake.clock.tick(31_000);
    await r.fake.settle();
    await r.caughtUp(name);
    await expect(statusOf(r.backend, name)).rejects.toBeInstanceOf(NotFoundError);
    expect(terminal).toHaveLength(1);
    expect(terminal[0]?.info).toMatchObject({ name, status: 'finishedWithError', exitCode: 3 });
    // The pod log, and the termination reason the backend appends to a failed pod's log.
    expect(terminal[0]?.logs).toMatch(/^failing\n/);
  });

  it('issue 11: through the job service, a Job the TTL controller deletes keeps its outcome, exit code and log in the store', async () => {
    r = await rig({}, { ttlSecondsAfterFinished: 30 });
    const ledger = Ledger.inMemory();
    const storage = { type: 'kubernetes_pvc', claimName: 'storebase' } as const;
    const jobs = new JobService({ backend: r.backend, ledger, config: testConfig(), storage });
    const name = `svc-${runPrefix('s')}`;
    r.fake.scenario(name, outcomeSteps({ exitCode: 3, logs: 'failing\n' }));
    await jobs.create(sampleRequest({ jid: name }));
    await r.fake.runToEnd(NS, name);
    await until(
      'the run to be recorded as finished',
      () => Promise.resolve(ledger.current(name)?.status),
      (status) => status === 'finishedWithError',
      10_000,
    );
    r.fake.clock.tick(31_000);
    await r.fake.settle();
    await r.caughtUp(name);
    await expect(statusOf(r.backend, name)).rejects.toBeInstanceOf(NotFoundError);
    // Nobody polled; the Job is gone: the store answers, with no API call.
    const { info, logs } = await jobs.read(name);
    expect(info).toMatchObject({ status: 'finishedWithError', exitCode: 3 });
    expect(logs).toMatch(/^failing\n/);
    await jobs.remove(name);
    expect(jobs.historyOf(name)[0]).toMatchObject({ run: 1, exitCode: 3 });
    expect(jobs.runLog(name, 1)).toMatch(/^failing\n/);
    ledger.close();
  });

  it('issue 11: a fresh backend reports the Jobs it finds; a Job we delete ourselves is not reported after', async () => {
    r = await rig();
    const name = `seen-${runPrefix('s')}`;
    r.fake.scenario(name, outcomeSteps({ exitCode: 0, logs: 'ok\n' }));
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    const seen: JobRead[] = [];
    r.backend.watchJobs({ tail: 10, maxBytes: 1000 }, (snapshot) => seen.push(snapshot));
    await until(
      'the first sight',
      () => Promise.resolve(seen.length),
      (k) => k > 0,
      10_000,
    );
    expect(seen[0]?.info).toMatchObject({ name, status: 'finishedSuccessfully', exitCode: 0 });
    expect(seen[0]?.logs).toBe('ok\n');
    await r.backend.delete(name);
    await r.fake.settle();
    expect(seen).toHaveLength(1);
  });

  it('closeWatches() → the informers re-watch from their last resourceVersion without relisting', async () => {
    r = await rig();
    await bothWatchesOpen(r);
    const lists = listRequests(r.fake, 'jobs').length;
    const watches = watchRequests(r.fake, 'jobs').length;
    await r.backend.create(jobSpec('rewatch-1'));
    await until(
      'the create to be seen',
      () => r.backend.list(),
      (l) => l.length === 1,
      10_000,
    );
    r.fake.closeWatches();
    await until(
      'a new jobs watch',
      () => Promise.resolve(watchRequests(r.fake, 'jobs').length),
      (k) => k > watches,
      10_000,
    );
    expect(listRequests(r.fake, 'jobs')).toHaveLength(lists);
    const last = watchRequests(r.fake, 'jobs').at(-1);
    expect(Number(last?.query.resourceVersion)).toBeGreaterThan(0);
  });

  it('a 410 Expired → the informer relists', async () => {
    r = await rig();
    await bothWatchesOpen(r);
    const lists = listRequests(r.fake, 'jobs').length;
    r.fake.expireResourceVersions('event');
    r.fake.closeWatches();
    await until(
      'a relist',
      () => Promise.resolve(listRequests(r.fake, 'jobs').length),
      (k) => k > lists,
      10_000,
    );
  });

  it('a 410 answered before streaming → the informer relists as well', async () => {
    r = await rig();
    await bothWatchesOpen(r);
    const lists = listRequests(r.fake, 'pods').length;
    r.fake.expireResourceVersions('http');
    r.fake.closeWatches();
    await until(
      'a relist',
      () => Promise.resolve(listRequests(r.fake, 'pods').length),
      (k) => k > lists,
      10_000,
    );
  });

  it('a non-410 watch error stops the informer; the backend restarts it', async () => {
    r = await rig();
    await bothWatchesOpen(r);
    const watches = watchRequests(r.fake, 'jobs').length;
    r.fake.failNext({ method: 'GET', path: /\/jobs$/ }, { code: 500 });
    r.fake.closeWatches();
    await until(
      'the jobs watch to be restarted after the error',
      () => Promise.resolve(watchRequests(r.fake, 'jobs').length),
      (k) => k >= watches + 2,
      15_000,
    );
  });
});

describe('read() answers from the informers while their watches are live', () => {
  let r: KubeRig;
  afterEach(async () => {
    await r?.close();
  });

  /** The direct reads made since request `since`: the Job itself, a pod list, an event list. */
  const directReads = (fake: FakeKubeApi, since: number, name: string): string[] =>
    fake.requests
      .slice(since)
      .filter((q) => q.method === 'GET' && q.query.watch === undefined)
      .map((q) =>
        q.path.endsWith(`/jobs/${name}`)
          ? 'job'
          : q.path.endsWith('/pods')
            ? 'pods'
            : q.path.endsWith('/events')
              ? 'events'
              : q.path,
      );
  const podWatches = (fake: FakeKubeApi) =>
    fake.requests.filter((q) => q.path.endsWith('/pods') && q.query.watch === 'true').length;
  // Jobs, pods, and the Deployments of service jobs (issue 15): an unknown name is looked up as a
  // service job only while the Deployments watch is not live.
  const bothWatching = (fake: FakeKubeApi) =>
    until(
      'the three watches open',
      () => Promise.resolve(fake.openWatches),
      (k) => k >= 3,
      10_000,
    );

  it('repeated reads neither read the Job nor list pods, and the status tracks every step', async () => {
    r = await rig();
    await bothWatching(r.fake);
    const name = 'viewed-1';
    const steps = outcomeSteps({ exitCode: 0, logs: 'ok\n' });
    r.fake.scenario(name, steps);
    await r.backend.create(jobSpec(name));
    const statuses: string[] = [];
    const reads: string[][] = [];
    for (let step = 0; ; step++) {
      await r.caughtUp(name);
      const since = r.fake.requests.length;
      const answers = [
        await statusOf(r.backend, name),
        await statusOf(r.backend, name),
        await statusOf(r.backend, name),
      ];
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
      statuses.push(answers[0]?.status ?? '');
      reads.push(directReads(r.fake, since, name));
      if (step === steps.length) break;
      await r.fake.advance(NS, name);
    }
    expect(statuses).toEqual([
      'notstarted', // created
      'notstarted', // pod created
      'notstarted', // scheduled
      'notstarted', // ContainerCreating
      'started',
      'finishedSuccessfully',
    ]);
    // Only a Job without pods needs its events, and those are always read directly.
    expect(reads).toEqual([['events', 'events', 'events'], [], [], [], [], []]);
  });

  it('a read with logs asks the API only for the pod logs, one call per pod', async () => {
    r = await rig();
    await bothWatching(r.fake);
    const name = 'viewed-logs';
    r.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'w\n' }, { exit: 0 }]);
    await r.backend.create(
      jobSpec(name, { resources: { workers: 2, cpuMillicores: 500, memoryMiB: 128, gpus: 0 } }),
    );
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    const since = r.fake.requests.length;
    const read = await r.backend.read(name, { logs: { tail: 10, maxBytes: 1000 } });
    expect(read).toMatchObject({ info: { status: 'finishedSuccessfully' }, logs: 'w\nw\n' });
    const pods = r.fake.pods(NS, name).map((p) => p.metadata.name ?? '');
    expect(pods).toHaveLength(2);
    expect(directReads(r.fake, since, name).sort()).toEqual(
      pods.map((p) => `/api/v1/namespaces/${NS}/pods/${p}/log`).sort(),
    );
  });

  it('while the pod watch is refused, read() reads directly and is right at once', async () => {
    r = await rig();
    await bothWatching(r.fake);
    const name = 'direct-1';
    r.fake.scenario(name, outcomeSteps({ exitCode: 3 }));
    await r.backend.create(jobSpec(name));
    await r.fake.advance(NS, name, 4);
    await r.caughtUp(name);
    expect((await statusOf(r.backend, name)).status).toBe('started');
    r.fake.deny({ verb: 'watch', resource: 'pods' });
    const watches = podWatches(r.fake);
    r.fake.closeWatches();
    await until(
      'a refused pod re-watch',
      () => Promise.resolve(podWatches(r.fake)),
      (k) => k > watches,
      10_000,
    );
    // The exit reaches no watch: only a direct read can know it.
    await r.fake.advance(NS, name);
    const since = r.fake.requests.length;
    expect(await statusOf(r.backend, name)).toMatchObject({
      status: 'finishedWithError',
      message: expect.stringContaining('3') as unknown,
    });
    expect(directReads(r.fake, since, name)).toEqual(['job', 'pods']);
  });

  it('after a failed watch is restarted, read() answers from the view again', async () => {
    r = await rig();
    await bothWatching(r.fake);
    const name = 'restarted-1';
    r.fake.scenario(name, outcomeSteps({ exitCode: 0 }));
    await r.backend.create(jobSpec(name));
    await r.fake.advance(NS, name, 4);
    const watches = podWatches(r.fake);
    r.fake.failNext({ method: 'GET', path: /\/pods$/ }, { code: 500 });
    r.fake.closeWatches();
    await until(
      'the pod watch restarted after its error',
      () => Promise.resolve(podWatches(r.fake)),
      (k) => k >= watches + 2,
      15_000,
    );
    await r.fake.advance(NS, name);
    await r.caughtUp(name);
    const answer = await until(
      'read() to answer without direct reads',
      async () => {
        const since = r.fake.requests.length;
        const info = await statusOf(r.backend, name);
        return { status: info.status, reads: directReads(r.fake, since, name) };
      },
      (v) => v.reads.length === 0,
      10_000,
    );
    expect(answer.status).toBe('finishedSuccessfully');
  });

  it('a job unknown to a live view is read once directly before NotFound', async () => {
    r = await rig();
    await bothWatching(r.fake);
    const since = r.fake.requests.length;
    await expect(statusOf(r.backend, 'no-such-job')).rejects.toBeInstanceOf(NotFoundError);
    expect(directReads(r.fake, since, 'no-such-job')).toEqual(['job']);
  });

  it('a job another process just created is found even before the watch delivers it', async () => {
    r = await rig();
    await bothWatching(r.fake);
    const other = await createKubernetesBackend(
      config(r.kubeconfigPath),
      { log: silent, timeoutMs: 5_000, now: () => r.fake.clock.now() },
      { home: r.dir },
    );
    try {
      await other.create(jobSpec('elsewhere-1'));
      expect(await statusOf(r.backend, 'elsewhere-1')).toMatchObject({
        name: 'elsewhere-1',
        status: 'notstarted',
      });
    } finally {
      await other.close();
    }
  });

  it('pods the Job status counts must be in the view, else read() lists them directly', () => {
    const pod = (uid: string, phase: string) => ({ metadata: { uid }, status: { phase } });
    expect(podsExplainJob({}, [])).toBe(true);
    expect(podsExplainJob({ status: { active: 1 } }, [])).toBe(false);
    expect(podsExplainJob({ status: { active: 1 } }, [pod('a', 'Pending')])).toBe(true);
    expect(podsExplainJob({ status: { succeeded: 1 } }, [pod('a', 'Running')])).toBe(false);
    expect(podsExplainJob({ status: { succeeded: 1 } }, [pod('a', 'Succeeded')])).toBe(true);
    expect(podsExplainJob({ status: { active: 2 } }, [pod('a', 'Running')])).toBe(false);
    const uncounted = { status: { uncountedTerminatedPods: { failed: ['b'] } } };
    expect(podsExplainJob(uncounted, [pod('a', 'Failed')])).toBe(false);
    expect(podsExplainJob(uncounted, [pod('b', 'Failed')])).toBe(true);
  });
});

describe('configuration and transport', () => {
  it('401 (wrong token) → BackendRefusedError at start-up', async () => {
    const fake = await startFakeKubeApi({ namespaces: [NS], token: 'right' });
    const dir = await mkdtemp(path.join(tmpdir(), 'pman-kube-'));
    try {
      const file = path.join(dir, 'kubeconfig');
      await writeFile(file, fake.kubeconfig().replace('token: right', 'token: wrong'));
      await expect(
        createKubernetesBackend(config(file), { log: silent, timeoutMs: 2000 }, { home: dir }),
      ).rejects.toBeInstanceOf(BackendRefusedError);
      await writeFile(file, fake.kubeconfig());
      const ok = await createKubernetesBackend(
        config(file),
        { log: silent, timeoutMs: 2000 },
        { home: dir },
      );
      await ok.close();
      expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer right');
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a hanging server → the call times out as BackendUnavailableError', async () => {
    const r = await rig({}, {}, {}, 500);
    try {
      r.fake.failNext({ method: 'GET', path: /\/jobs\/hang$/ }, 'hang');
      await expect(statusOf(r.backend, 'hang')).rejects.toBeInstanceOf(BackendUnavailableError);
    } finally {
      await r.close();
    }
  });

  it('no configuration at all → a clear start-up error (not localhost:8080)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pman-kube-'));
    try {
      const { kubeconfig: _unused, ...cfg } = config('unused');
      const err = await createKubernetesBackend(
        cfg,
        { log: silent, timeoutMs: 1000 },
        { home: dir },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendRefusedError);
      expect((err as Error).message).toMatch(/no cluster configured/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('KUBECONFIG lists are honoured: the first file loaded, the others merged', async () => {
    const fake = await startFakeKubeApi({ namespaces: [NS] });
    const dir = await mkdtemp(path.join(tmpdir(), 'pman-kube-'));
    try {
      const file = path.join(dir, 'kubeconfig');
      await writeFile(file, fake.kubeconfig());
      const other = path.join(dir, 'other');
      await writeFile(
        other,
        'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n',
      );
      const { namespace: _ns, ...cfg } = config(`${file}${path.delimiter}${other}`);
      const backend = await createKubernetesBackend(
        cfg,
        { log: silent, timeoutMs: 2000 },
        { home: dir },
      );
      expect(backend.namespace).toBe(NS);
      await backend.close();
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('in a pod: loadFromCluster with the service-account token, CA and trimmed namespace', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pman-sa-'));
    const { cert, key } = selfSignedCert();
    const fake = await startFakeKubeApi({
      namespaces: [NS],
      token: 'sa-token',
      tls: { cert, key },
    });
    try {
      const sa = path.join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
      await mkdir(sa, { recursive: true });
      await writeFile(path.join(sa, 'token'), 'sa-token');
      await writeFile(path.join(sa, 'ca.crt'), cert);
      await writeFile(path.join(sa, 'namespace'), `${NS}\n`);
      const port = new URL(fake.url).port;
      const { namespace: _ns, kubeconfig: _kc, ...cfg } = config('unused', { inCluster: true });
      const backend = await createKubernetesBackend(
        { ...cfg, inCluster: true },
        { log: silent, timeoutMs: 2000 },
        {
          inCluster: {
            pathPrefix: dir,
            env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
          },
        },
      );
      expect(backend.namespace).toBe(NS);
      await backend.create(jobSpec('in-cluster'));
      expect(fake.getJob(NS, 'in-cluster')).toBeDefined();
      expect(fake.requests.find((q) => q.method === 'POST')?.headers.authorization).toBe(
        'Bearer sa-token',
      );
      await backend.close();
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('https with the fake certificate as certificate-authority-data', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pman-tls-'));
    const { cert, key } = selfSignedCert();
    const fake = await startFakeKubeApi({ namespaces: [NS], tls: { cert, key } });
    try {
      const file = path.join(dir, 'kubeconfig');
      await writeFile(file, fake.kubeconfig({ namespace: NS }));
      expect(await readFile(file, 'utf8')).toContain('certificate-authority-data');
      const backend = await createKubernetesBackend(
        config(file),
        { log: silent, timeoutMs: 2000 },
        { home: dir },
      );
      await backend.create(jobSpec('over-tls'));
      expect((await statusOf(backend, 'over-tls')).status).toBe('notstarted');
      await backend.close();
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
