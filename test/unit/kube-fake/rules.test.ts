// The fake kube-api's rules: quantities, selectors, 422 validation, SCC admission, logs, controller variants, TTL.

import { afterEach, describe, expect, it } from 'vitest';
import { sccViolations } from '../../fakes/kube-api/admission.js';
import { startFakeKubeApi, type FakeKubeApi, type Job } from '../../fakes/kube-api/index.js';
import { LogBook } from '../../fakes/kube-api/pod-logs.js';
import { canonicalQuantity, parseQuantity } from '../../fakes/kube-api/quantity.js';
import { parseFieldSelector, parseLabelSelector } from '../../fakes/kube-api/selectors.js';
import type { KubeObject } from '../../fakes/kube-api/types.js';
import { validateJob } from '../../fakes/kube-api/validate.js';

const NS = 'default';
let fake: FakeKubeApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function job(
  overrides: {
    name?: string;
    container?: Record<string, unknown>;
    spec?: Record<string, unknown>;
    pod?: Record<string, unknown>;
  } = {},
): Job {
  const name = overrides.name ?? 'j';
  return {
    kind: 'Job',
    apiVersion: 'batch/v1',
    metadata: { name, labels: { 'job-name': name } },
    spec: {
      backoffLimit: 0,
      ...overrides.spec,
      template: {
        metadata: { labels: { 'job-name': name } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'c', image: 'busybox:1.36', ...overrides.container }],
          ...overrides.pod,
        },
      },
    },
    status: {},
  };
}

function messages(j: Job): string[] {
  return validateJob(j).map((c) => `${c.field}: ${c.message}`);
}

async function post(body: unknown): Promise<{ status: number; json: { message?: string } }> {
  const res = await fetch(`${fake?.url ?? ''}/apis/batch/v1/namespaces/${NS}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { message?: string } };
}

describe('quantities', () => {
  it.each([
    ['1000m', '1'],
    ['500m', '500m'],
    ['0.5', '500m'],
    ['2000', '2k'],
    ['200Mi', '200Mi'],
    ['1024Mi', '1Gi'],
    ['0.5Gi', '512Mi'],
    ['1', '1'],
  ])('%s is written back as %s', (input, out) => {
    expect(canonicalQuantity(input)).toBe(out);
  });

  it('refuses malformed quantities and keeps negative ones for validation', () => {
    expect(parseQuantity('1Gb')).toBeUndefined();
    expect(parseQuantity('abc')).toBeUndefined();
    expect(parseQuantity('-1')).toBe(-1);
    expect(parseQuantity('1Ki')).toBe(1024);
  });
});

describe('selectors', () => {
  const obj = (labels: Record<string, string>): KubeObject => ({
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { labels },
  });

  it('supports equality, inequality, existence and set-based label terms', () => {
    const sel = parseLabelSelector(
      'app.kubernetes.io/managed-by=pman,tier!=db,team,!legacy,env in (a,b)',
    );
    if (!sel.ok) throw new Error(sel.message);
    expect(sel.match(obj({ 'app.kubernetes.io/managed-by': 'pman', team: 'x', env: 'a' }))).toBe(
      true,
    );
    expect(sel.match(obj({ 'app.kubernetes.io/managed-by': 'pman', team: 'x', env: 'c' }))).toBe(
      false,
    );
    expect(
      sel.match(obj({ 'app.kubernetes.io/managed-by': 'pman', team: 'x', env: 'a', legacy: '1' })),
    ).toBe(false);
    expect(parseLabelSelector('a=b=c').ok).toBe(false);
  });

  it('refuses an unsupported field label with the real text', () => {
    expect(parseFieldSelector('involvedObject.name=x,type=Warning', 'events').ok).toBe(true);
    expect(parseFieldSelector('spec.foo=x', 'events')).toEqual({
      ok: false,
      message: 'field label not supported: spec.foo',
    });
  });
});

describe('Job validation (422 causes)', () => {
  it('accepts a valid Job', () => {
    expect(messages(job())).toEqual([]);
  });

  it('names: subdomain for the Job, label for containers', () => {
    expect(messages(job({ name: 'Bad_Name' }))[0]).toMatch(
      /^metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    expect(messages(job({ container: { name: 'Bad' } }))[0]).toMatch(
      /^spec\.template\.spec\.containers\[0\]\.name: Invalid value: "Bad": a lowercase RFC 1123 label/,
    );
    expect(messages(job({ container: { image: undefined } }))).toEqual([
      'spec.template.spec.containers[0].image: Required value',
    ]);
  });

  it('a name longer than 63 characters fails as a label value', () => {
    const long = 'a'.repeat(64);
    expect(messages(job({ name: long }))).toContain(
      `spec.template.labels: Invalid value: "${long}": must be no more than 63 characters`,
    );
  });

  it('volume mounts must name volumes and use relative subPaths without ..', () => {
    const out = messages(
      job({
        container: {
          volumeMounts: [
            { name: 'nope', mountPath: '/x' },
            { name: 'v', mountPath: '/y', subPath: 'a/../b' },
            { name: 'v', mountPath: '/z', subPath: '/abs' },
          ],
        },
        pod: { volumes: [{ name: 'v', emptyDir: {} }] },
      }),
    );
    expect(out).toEqual([
      'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "nope"',
      `spec.template.spec.containers[0].volumeMounts[1].subPath: Invalid value: "a/../b": must not contain '..'`,
      'spec.template.spec.containers[0].volumeMounts[2].subPath: Invalid value: "/abs": must be a relative path',
    ]);
  });

  it('resources: negative, requests above limits, extended resources whole and equal', () => {
    const res = (resources: unknown): string[] => messages(job({ container: { resources } }));
    expect(res({ limits: { cpu: '-1' } })).toEqual([
      'spec.template.spec.containers[0].resources.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
    expect(res({ limits: { cpu: '1' }, requests: { cpu: '2' } })).toEqual([
      'spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ]);
    expect(
      res({ limits: { 'nvidia.com/gpu': '500m' }, requests: { 'nvidia.com/gpu': '500m' } }),
    ).toContain(
      'spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]: Invalid value: "500m": must be an integer',
    );
    expect(res({ limits: { 'nvidia.com/gpu': '2' }, requests: { 'nvidia.com/gpu': '1' } })).toEqual(
      [
        'spec.template.spec.containers[0].resources.requests[nvidia.com/gpu]: Invalid value: "1": must be equal to nvidia.com/gpu limit of 2',
      ],
    );
  });

  it('counters and labels', () => {
    expect(
      messages(
        job({ spec: { backoffLimit: -1, ttlSecondsAfterFinished: -1, activeDeadlineSeconds: 0 } }),
      ),
    ).toEqual([
      'spec.activeDeadlineSeconds: Invalid value: 0: must be greater than 0',
      'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
      'spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0',
    ]);
    const bad = job();
    bad.metadata.labels = { 'bad key!': 'x' };
    expect(messages(bad)[0]).toMatch(
      /^metadata\.labels: Invalid value: "bad key!": name part must consist/,
    );
  });

  it('several causes make the bracketed message over HTTP', async () => {
    fake = await startFakeKubeApi();
    const res = await post(
      job({ name: 'x', spec: { backoffLimit: -1 }, pod: { restartPolicy: 'Always' } }),
    );
    expect(res.status).toBe(422);
    expect(res.json.message).toBe(
      'Job.batch "x" is invalid: [spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0, spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"]',
    );
  });
});

describe('OpenShift restricted-v2', () => {
  it('lists every violation', () => {
    const v = sccViolations(
      {
        hostNetwork: true,
        securityContext: { fsGroup: 5 },
        volumes: [{ name: 'h', hostPath: { path: '/' } }],
        containers: [
          {
            name: 'c',
            securityContext: {
              privileged: true,
              capabilities: { add: ['SYS_ADMIN', 'NET_BIND_SERVICE'] },
            },
          },
        ],
      },
      [1000, 2000],
    );
    expect(v).toEqual([
      '.spec.securityContext.fsGroup: Invalid value: []int64{5}: 5 is not an allowed group',
      '.spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used',
      'spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used',
      '.containers[0].privileged: Invalid value: true: Privileged containers are not allowed',
      '.containers[0].allowPrivilegeEscalation: Invalid value: nil: Allowing privilege escalation for containers is not allowed',
      '.containers[0].capabilities.add: Invalid value: "SYS_ADMIN": capability may not be added',
    ]);
  });
});

describe('logs', () => {
  it('tailLines, limitBytes (may cut UTF-8), timestamps, sinceSeconds', () => {
    const book = new LogBook();
    const t0 = new Date('2026-11-22T14:16:57Z');
    book.append('ns', 'p', 'c', 'one\ntw', t0);
    book.append('ns', 'p', 'c', 'o\nthré\n', new Date(t0.getTime() + 60_000));
    const now = new Date(t0.getTime() + 61_000);
    expect(book.read('ns', 'p', 'c', {}, now).toString()).toBe('one\ntwo\nthré\n');
    expect(book.read('ns', 'p', 'c', { tailLines: 1 }, now).toString()).toBe('thré\n');
    expect([...book.read('ns', 'p', 'c', { tailLines: 1, limitBytes: 4 }, now)]).toEqual([
      0x74, 0x68, 0x72, 0xc3,
    ]);
    expect(book.read('ns', 'p', 'c', { timestamps: true, tailLines: 1 }, now).toString()).toBe(
      '2026-11-22T14:17:57.000000000Z thré\n',
    );
    expect(book.read('ns', 'p', 'c', { sinceSeconds: 30 }, now).toString()).toBe('thré\n');
  });
});

describe('controller variants', () => {
  async function created(
    opts: Parameters<typeof startFakeKubeApi>[0],
    body: Job,
  ): Promise<FakeKubeApi> {
    fake = await startFakeKubeApi(opts);
    expect((await post(body)).status).toBe(201);
    return fake;
  }

  it('servers before 1.31 skip the interim conditions', async () => {
    const f = await created({ serverVersion: '1.30' }, job());
    await f.runToEnd(NS, 'j');
    expect(f.getJob(NS, 'j')?.status.conditions?.map((c) => c.type)).toEqual(['Complete']);
  });

  it('deadline: FailureTarget with terminating pods, then Failed once the pods are gone', async () => {
    const f = await created({}, job());
    f.scenario('j', [{ pod: 'create' }, { schedule: true }, { running: true }, { deadline: true }]);
    await f.advance(NS, 'j', 4);
    const mid = f.getJob(NS, 'j')?.status;
    expect(mid?.conditions?.map((c) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'DeadlineExceeded'],
    ]);
    expect(mid?.terminating).toBe(1);
    expect(f.pods(NS)[0]?.metadata.deletionTimestamp).toBeDefined();
    await f.advance(NS, 'j');
    const end = f.getJob(NS, 'j')?.status;
    expect(end?.conditions?.map((c) => c.type)).toEqual(['FailureTarget', 'Failed']);
    expect([end?.terminating, end?.failed]).toEqual([0, 1]);
    expect(f.pods(NS)).toEqual([]);
  });

  it('activeDeadlineSeconds fires on the fake clock', async () => {
    const f = await created({}, job({ spec: { activeDeadlineSeconds: 60 } }));
    await f.advance(NS, 'j', 2);
    f.clock.tick(61_000);
    expect(f.getJob(NS, 'j')?.status.conditions?.[0]?.reason).toBe('DeadlineExceeded');
  });

  it('eviction fails the pod with reason Evicted and DisruptionTarget', async () => {
    const f = await created({}, job());
    f.scenario('j', [
      { pod: 'create' },
      { schedule: true },
      { running: true },
      { evict: 'The node was low on resource: memory.' },
    ]);
    await f.runToEnd(NS, 'j');
    const pod = f.pods(NS)[0];
    expect([pod?.status.phase, pod?.status.reason]).toEqual(['Failed', 'Evicted']);
    expect(pod?.status.conditions?.[0]?.type).toBe('DisruptionTarget');
    expect(f.getJob(NS, 'j')?.status.failed).toBe(1);
  });

  it('ImagePullBackOff and Unschedulable never fail the Job by themselves', async () => {
    const f = await created({}, job());
    f.scenario('j', [
      { pod: 'create' },
      { unschedulable: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' },
      { waiting: 'ErrImagePull' },
      { waiting: 'ImagePullBackOff' },
    ]);
    await f.runToEnd(NS, 'j');
    const status = f.getJob(NS, 'j')?.status;
    expect([status?.active, status?.conditions]).toEqual([1, undefined]);
    expect(f.pods(NS)[0]?.status.containerStatuses?.[0]?.state.waiting).toEqual({
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "busybox:1.36"',
    });
  });

  it('backoffLimit retries with replacement pods before failing', async () => {
    const f = await created({}, job({ spec: { backoffLimit: 1 } }));
    f.scenario('j', [{ pod: 'create' }, { schedule: true }, { running: true }, { exit: 2 }]);
    await f.runToEnd(NS, 'j');
    expect(f.pods(NS, 'j')).toHaveLength(2);
    expect(f.getJob(NS, 'j')?.status.failed).toBe(2);
    expect(f.getJob(NS, 'j')?.status.conditions?.at(-1)?.type).toBe('Failed');
  });

  it('TTL deletes a finished Job and its pods when the fake clock passes it', async () => {
    const f = await created({}, job({ spec: { ttlSecondsAfterFinished: 100 } }));
    await f.runToEnd(NS, 'j');
    f.clock.tick(99_000);
    expect(f.getJob(NS, 'j')).toBeDefined();
    f.clock.tick(1_000);
    expect(f.getJob(NS, 'j')).toBeUndefined();
    expect(f.pods(NS)).toEqual([]);
  });

  it("autoAdvance 'perRead' advances one step per GET of the Job", async () => {
    const f = await created({ autoAdvance: 'perRead' }, job());
    const get = (): Promise<Response> => fetch(`${f.url}/apis/batch/v1/namespaces/${NS}/jobs/j`);
    await get();
    expect(f.pods(NS)).toHaveLength(1);
    await get();
    expect(f.pods(NS)[0]?.spec.nodeName).toBe('fake-node-1');
  });

  it('watch replays changes after a resourceVersion, filtered by label selector, and honours timeoutSeconds', async () => {
    const f = await created({}, job());
    const rv = f.getJob(NS, 'j')?.metadata.resourceVersion ?? '';
    await post(job({ name: 'other' }));
    await f.advance(NS, 'j');
    const res = await fetch(
      `${f.url}/apis/batch/v1/namespaces/${NS}/jobs?watch=true&resourceVersion=${rv}&labelSelector=job-name%3Dj&timeoutSeconds=1`,
    );
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: Job });
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(lines.map((l) => [l.type, l.object.metadata.name, l.object.kind])).toEqual([
      ['MODIFIED', 'j', 'Job'],
    ]);
  });
});
