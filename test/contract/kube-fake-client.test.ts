// The real @kubernetes/client-node 1.4 against the fake API server: proves the fake speaks what the client expects.

import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  VersionApi,
  Watch,
  createConfiguration,
  ServerConfiguration,
  type V1Job,
} from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../fakes/kube-api/tls.js';
import { startFakeKubeApi, type FakeKubeApi } from '../fakes/kube-api/index.js';

const NS = 'chris';
let fake: FakeKubeApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts: Parameters<typeof startFakeKubeApi>[0] = {}): Promise<{
  fake: FakeKubeApi;
  kc: KubeConfig;
  batch: BatchV1Api;
  core: CoreV1Api;
}> {
  fake = await startFakeKubeApi({ namespaces: [NS], ...opts });
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  return { fake, kc, batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api) };
}

function jobBody(name: string, image = 'busybox:1.36'): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'pman' } },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 60,
      template: {
        metadata: { labels: { 'app.kubernetes.io/managed-by': 'pman' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name,
              image,
              command: ['sh', '-c', 'echo hi'],
              resources: { limits: { cpu: '500m', memory: '64Mi' } },
            },
          ],
        },
      },
    },
  };
}

/** Bounded polling: no sleeps, fails loudly. */
async function until<T>(what: string, probe: () => T | undefined | false, tries = 500): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function apiError(p: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e;
    throw e;
  }
  throw new Error('expected an ApiException');
}

function statusOf(e: ApiException<unknown>): { message: string; reason: string; code: number } {
  return JSON.parse(String(e.body)) as { message: string; reason: string; code: number };
}

describe('fake kube-api with client-node 1.4', () => {
  it('answers VersionApi.getCode per serverVersion', async () => {
    const { kc } = await start({ serverVersion: '1.29' });
    const v = await kc.makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toBe('v1.29.0');
    expect(v.minor).toBe('29');
  });

  it('creates, reads and lists a Job with server defaults', async () => {
    const { batch, fake } = await start();
    const created = await batch.createNamespacedJob({ namespace: NS, body: jobBody('j1') });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.spec?.selector?.matchLabels?.['batch.kubernetes.io/controller-uid']).toBe(
      created.metadata?.uid,
    );
    expect(created.spec?.template.spec?.containers[0]?.resources?.requests).toEqual({
      cpu: '500m',
      memory: '64Mi',
    });
    expect(created.status).toEqual({});
    const read = await batch.readNamespacedJob({ name: 'j1', namespace: NS });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    const list = await batch.listNamespacedJob({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/managed-by=pman',
    });
    expect(list.items.map((j) => j.metadata?.name)).toEqual(['j1']);
    const none = await batch.listNamespacedJob({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/managed-by!=pman',
    });
    expect(none.items).toEqual([]);
    expect(fake.requests.find((r) => r.method === 'POST')?.headers.authorization).toBe(
      'Bearer fake-token',
    );
  });

  it('answers 409, 422, 404 and a missing namespace with Status bodies', async () => {
    const { batch } = await start();
    await batch.createNamespacedJob({ namespace: NS, body: jobBody('dup') });
    const conflict = await apiError(
      batch.createNamespacedJob({ namespace: NS, body: jobBody('dup') }),
    );
    expect(conflict.code).toBe(409);
    expect(statusOf(conflict).message).toBe('jobs.batch "dup" already exists');
    const invalid = await apiError(
      batch.createNamespacedJob({ namespace: NS, body: jobBody('Bad_Name') }),
    );
    expect(invalid.code).toBe(422);
    expect(statusOf(invalid).reason).toBe('Invalid');
    const missing = await apiError(batch.readNamespacedJob({ name: 'nope', namespace: NS }));
    expect(missing.code).toBe(404);
    expect(statusOf(missing).message).toBe('jobs.batch "nope" not found');
    const noNs = await apiError(
      batch.createNamespacedJob({ namespace: 'elsewhere', body: jobBody('x') }),
    );
    expect(noNs.code).toBe(404);
    expect(statusOf(noNs).message).toBe('namespaces "elsewhere" not found');
  });

  it('runs the default scenario: pods by selector, status to Complete, logs with tail and byte limit', async () => {
    const { batch, core, fake } = await start();
    fake.scenario('busybox:1.36', [
      { pod: 'create' },
      { schedule: true },
      { running: true, log: 'one\ntwo\nthree\n' },
      { exit: 0 },
    ]);
    const job = await batch.createNamespacedJob({ namespace: NS, body: jobBody('run') });
    await fake.advance(NS, 'run', 3);
    const selector = Object.entries(job.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: selector });
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0];
    expect(pod?.metadata?.name).toMatch(/^run-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod?.status?.phase).toBe('Running');
    const podName = pod?.metadata?.name ?? '';
    expect(
      await core.readNamespacedPodLog({ name: podName, namespace: NS, container: 'run' }),
    ).toBe('one\ntwo\nthree\n');
    expect(await core.readNamespacedPodLog({ name: podName, namespace: NS, tailLines: 2 })).toBe(
      'two\nthree\n',
    );
    expect(await core.readNamespacedPodLog({ name: podName, namespace: NS, limitBytes: 6 })).toBe(
      'one\ntw',
    );
    await fake.runToEnd(NS, 'run');
    const done = await batch.readNamespacedJob({ name: 'run', namespace: NS });
    expect(done.status?.succeeded).toBe(1);
    expect(done.status?.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(done.status?.completionTime).toBeInstanceOf(Date);
  });

  it('answers log errors as 400 Status while the container waits', async () => {
    const { batch, core, fake } = await start();
    fake.scenario('missing:1', [
      { pod: 'create' },
      { schedule: true },
      { waiting: 'ImagePullBackOff' },
    ]);
    await batch.createNamespacedJob({ namespace: NS, body: jobBody('wait', 'missing:1') });
    await fake.advance(NS, 'wait', 1);
    const podName = fake.pods(NS, 'wait')[0]?.metadata.name ?? '';
    const unscheduled = await apiError(core.readNamespacedPodLog({ name: podName, namespace: NS }));
    expect(unscheduled.code).toBe(400);
    expect(statusOf(unscheduled).message).toBe(`pod "${podName}" does not have a host assigned`);
    await fake.runToEnd(NS, 'wait');
    const waiting = await apiError(core.readNamespacedPodLog({ name: podName, namespace: NS }));
    expect(statusOf(waiting).message).toBe(
      `container "wait" in pod "${podName}" is waiting to start: trying and failing to pull image`,
    );
    const wrong = await apiError(
      core.readNamespacedPodLog({ name: podName, namespace: NS, container: 'x' }),
    );
    expect(statusOf(wrong).message).toBe(`container x is not valid for pod ${podName}`);
  });

  it('lists events with field selectors', async () => {
    const { batch, core, fake } = await start();
    fake.scenario('denied:1', [
      { refuseAdmission: 'pods "deny-" is forbidden: exceeded quota' },
      { refuseAdmission: 'pods "deny-" is forbidden: exceeded quota' },
    ]);
    await batch.createNamespacedJob({ namespace: NS, body: jobBody('deny', 'denied:1') });
    await fake.runToEnd(NS, 'deny');
    const events = await core.listNamespacedEvent({
      namespace: NS,
      fieldSelector: 'involvedObject.kind=Job,involvedObject.name=deny',
    });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]?.reason).toBe('FailedCreate');
    expect(events.items[0]?.count).toBe(2);
    expect(events.items[0]?.message).toBe(
      'Error creating: pods "deny-" is forbidden: exceeded quota',
    );
    const bad = await apiError(
      core.listNamespacedEvent({ namespace: NS, fieldSelector: 'spec.foo=bar' }),
    );
    expect(statusOf(bad).message).toBe('field label not supported: spec.foo');
  });

  it('deletes with propagationPolicy Background in the query and no body; pods go', async () => {
    const { batch, fake } = await start();
    await batch.createNamespacedJob({ namespace: NS, body: jobBody('del') });
    await fake.advance(NS, 'del', 2);
    expect(fake.pods(NS, 'del')).toHaveLength(1);
    const status = await batch.deleteNamespacedJob({
      name: 'del',
      namespace: NS,
      propagationPolicy: 'Background',
    });
    expect(status.status).toBe('Success');
    const req = fake.requests.find((r) => r.method === 'DELETE');
    expect(req?.query.propagationPolicy).toBe('Background');
    expect(req?.body).toBe('');
    await fake.settle();
    expect(fake.pods(NS)).toEqual([]);
    const gone = await apiError(batch.readNamespacedJob({ name: 'del', namespace: NS }));
    expect(gone.code).toBe(404);
  });

  it('orphans pods when the body {} hides the query policy (kubernetes-client/javascript#2698)', async () => {
    const { batch, fake } = await start();
    await batch.createNamespacedJob({ namespace: NS, body: jobBody('orphan') });
    await fake.advance(NS, 'orphan', 1);
    await batch.deleteNamespacedJob({
      name: 'orphan',
      namespace: NS,
      propagationPolicy: 'Background',
      body: {},
    });
    await fake.settle();
    expect(fake.getJob(NS, 'orphan')).toBeUndefined();
    const pods = fake.pods(NS);
    expect(pods).toHaveLength(1);
    expect(pods[0]?.metadata.ownerReferences).toBeUndefined();
  });

  it('streams watch events from a list resourceVersion', async () => {
    const { kc, batch, fake } = await start();
    const list = await batch.listNamespacedJob({ namespace: NS });
    const seen: { type: string; name: string | undefined; rv: string | undefined }[] = [];
    const controller = await new Watch(kc).watch(
      `/apis/batch/v1/namespaces/${NS}/jobs`,
      { resourceVersion: list.metadata?.resourceVersion },
      (type, obj: V1Job) =>
        seen.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion }),
      () => undefined,
    );
    await batch.createNamespacedJob({ namespace: NS, body: jobBody('w1') });
    await fake.advance(NS, 'w1', 1);
    await until('ADDED and MODIFIED', () => seen.length >= 2);
    controller.abort();
    expect(seen[0]).toMatchObject({ type: 'ADDED', name: 'w1' });
    expect(seen[1]).toMatchObject({ type: 'MODIFIED', name: 'w1' });
    expect(Number(seen[1]?.rv)).toBeGreaterThan(Number(seen[0]?.rv));
  });

  it('informer: closeWatches() re-watches from the last resourceVersion without relisting', async () => {
    const { kc, batch, fake } = await start();
    const path = `/apis/batch/v1/namespaces/${NS}/jobs`;
    const informer = makeInformer(kc, path, () => batch.listNamespacedJob({ namespace: NS }));
    const added: string[] = [];
    informer.on('add', (j) => added.push(j.metadata?.name ?? ''));
    await informer.start();
    await until('watch open', () => fake.openWatches === 1);
    await batch.createNamespacedJob({ namespace: NS, body: jobBody('inf') });
    await until('add', () => added.includes('inf'));
    const rvAfterAdd = fake.getJob(NS, 'inf')?.metadata.resourceVersion;
    fake.closeWatches();
    await until(
      're-watch',
      () =>
        fake.requests.filter((r) => r.query.watch === 'true').length === 2 &&
        fake.openWatches === 1,
    );
    const lists = fake.requests.filter(
      (r) => r.method === 'GET' && r.path === path && r.query.watch === undefined,
    );
    expect(lists).toHaveLength(1);
    expect(fake.requests.filter((r) => r.query.watch === 'true')[1]?.query.resourceVersion).toBe(
      rvAfterAdd,
    );
    await informer.stop();
  });

  it.each(['event', 'http'] as const)(
    'informer: an expired resourceVersion (%s form) makes it relist',
    async (form) => {
      const { kc, batch, fake } = await start();
      const path = `/apis/batch/v1/namespaces/${NS}/jobs`;
      const informer = makeInformer(kc, path, () => batch.listNamespacedJob({ namespace: NS }));
      const errors: unknown[] = [];
      informer.on('error', (e) => errors.push(e));
      await informer.start();
      await until('watch open', () => fake.openWatches === 1);
      fake.expireResourceVersions(form);
      fake.closeWatches();
      const isList = (r: { path: string; query: Record<string, string> }): boolean =>
        r.path === path && r.query.watch === undefined;
      await until('relist', () => fake.requests.filter(isList).length === 2);
      await until('watch again', () => fake.openWatches === 1);
      expect(errors).toEqual([]);
      await informer.stop();
    },
  );

  it('answers 401 without the right token, 403 for a denied verb', async () => {
    const { batch, fake } = await start({ token: 'right' });
    const wrong = new KubeConfig();
    wrong.loadFromString(fake.kubeconfig().replace('token: right', 'token: wrong'));
    const e401 = await apiError(
      wrong.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: NS }),
    );
    expect(e401.code).toBe(401);
    fake.deny({ verb: 'create', resource: 'jobs' });
    const kc = new KubeConfig();
    kc.loadFromString(fake.kubeconfig());
    const e403 = await apiError(
      kc.makeApiClient(BatchV1Api).createNamespacedJob({ namespace: NS, body: jobBody('x') }),
    );
    expect(e403.code).toBe(403);
    expect(statusOf(e403).message).toBe(
      `jobs.batch is forbidden: User "system:serviceaccount:${NS}:pman" cannot create resource "jobs" in API group "batch" in the namespace "${NS}"`,
    );
    void batch;
  });

  it('injects 429 with Retry-After, a reset connection, and a hang that a client timeout ends', async () => {
    const { batch, kc, fake } = await start();
    fake.failNext({ method: 'GET', path: /\/jobs$/ }, { code: 429, retryAfter: 7 });
    const e429 = await apiError(batch.listNamespacedJob({ namespace: NS }));
    expect(e429.code).toBe(429);
    expect(e429.headers['retry-after']).toBe('7');
    fake.failNext({ path: `/apis/batch/v1/namespaces/${NS}/jobs` }, 'reset');
    await expect(batch.listNamespacedJob({ namespace: NS })).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    fake.failNext({}, 'hang');
    const cluster = kc.getCurrentCluster();
    const timed = new BatchV1Api(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster?.server ?? '', {}),
        authMethods: { default: kc },
        promiseMiddleware: [
          {
            pre: (ctx) => {
              ctx.setSignal(AbortSignal.timeout(200));
              return Promise.resolve(ctx);
            },
            post: (r) => Promise.resolve(r),
          },
        ],
      }),
    );
    await expect(timed.listNamespacedJob({ namespace: NS })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect((await batch.listNamespacedJob({ namespace: NS })).items).toEqual([]);
  });

  it('serves https with its certificate as certificate-authority-data', async (ctx) => {
    let tls: { cert: string; key: string };
    try {
      tls = selfSignedCert();
    } catch {
      ctx.skip('openssl CLI not available to make a self-signed certificate');
      return;
    }
    {
      const { batch, fake } = await start({ tls });
      expect(fake.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(fake.kubeconfig()).toContain('certificate-authority-data');
      expect((await batch.listNamespacedJob({ namespace: NS })).kind).toBe('JobList');
    }
  });
});
