// Pins the fake kube-api's wire answers to recorded real shapes (test/fakes/kube-api/fixtures).

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ORPHAN_WARNING, startFakeKubeApi, type FakeKubeApi } from '../../fakes/kube-api/index.js';

const NS = 'chris';
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;
let fake: FakeKubeApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function fixture(name: string): unknown {
  return JSON.parse(
    readFileSync(new URL(`../../fakes/kube-api/fixtures/${name}`, import.meta.url), 'utf8'),
  );
}

/** Replaces volatile values with the fixtures' placeholders. */
function placeholders(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => placeholders(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, placeholders(v, k)]));
  }
  if (typeof value !== 'string') return value;
  if (key === 'resourceVersion') return '<rv>';
  return value
    .replace(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, '<uid>')
    .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '<time>')
    .replace(/\.[0-9a-f]{16}$/, '.<hex16>')
    .replace(/too old resource version: \d+ \(\d+\)/, 'too old resource version: <rv> (<rv>)');
}

/** The Job of kubernetes.md §2.1, as the backend sends it. */
function manifest(name = 'chris-jid-42'): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'pman' } },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 0,
      ttlSecondsAfterFinished: 86400,
      activeDeadlineSeconds: 604800,
      template: {
        metadata: { labels: { 'app.kubernetes.io/managed-by': 'pman' } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          nodeSelector: {},
          tolerations: [],
          imagePullSecrets: [],
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name,
              image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
              command: ['simpledsapp', '/share/incoming', '/share/outgoing'],
              env: [{ name: 'CHRIS_JID', value: name }],
              resources: { limits: { cpu: '1000m', memory: '200Mi', 'nvidia.com/gpu': '1' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                runAsUser: 1000,
                runAsGroup: 1000,
              },
              volumeMounts: [
                {
                  name: 'storebase',
                  mountPath: '/share/incoming',
                  subPath: `key-${name}/incoming`,
                  readOnly: true,
                },
                {
                  name: 'storebase',
                  mountPath: '/share/outgoing',
                  subPath: `key-${name}/outgoing`,
                },
                { name: 'dshm', mountPath: '/dev/shm' },
              ],
            },
          ],
          volumes: [
            { name: 'storebase', persistentVolumeClaim: { claimName: 'storebase' } },
            { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const res = await fetch(`${fake?.url ?? ''}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

describe('fake kube-api wire shapes', () => {
  it('Job after create: server defaults, canonical quantities, omitted empties, status {}', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    const res = await call('POST', JOBS, manifest());
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(placeholders(res.json)).toEqual(fixture('job-after-create.json'));
  });

  it('Status objects for 409, 404, 405, 422, 400, unknown paths and namespaces', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    await call('POST', JOBS, manifest());
    expect((await call('POST', JOBS, manifest())).json).toEqual(
      fixture('status-409-already-exists.json'),
    );
    await call('DELETE', `${JOBS}/chris-jid-42`, undefined);
    await fake.settle();
    const missing = await call('GET', `${JOBS}/chris-jid-42`);
    expect([missing.status, missing.json]).toEqual([404, fixture('status-404-job.json')]);
    const pod = await call('GET', `/api/v1/namespaces/${NS}/pods/chris-jid-42-abcde`);
    expect(pod.json).toEqual(fixture('status-404-pod.json'));
    const patch = await call(
      'PATCH',
      `${JOBS}/x`,
      {},
      { 'content-type': 'application/merge-patch+json' },
    );
    // Jobs are patchable (a cancel sets activeDeadlineSeconds, issue 13): a missing one is a 404.
    expect([patch.status, patch.json]).toEqual([
      404,
      {
        ...(fixture('status-404-job.json') as Record<string, unknown>),
        message: 'jobs.batch "x" not found',
        details: { name: 'x', group: 'batch', kind: 'jobs' },
      },
    ]);
    expect((await call('PUT', `${JOBS}/x`, {})).json).toEqual(fixture('status-405.json'));
    const always = manifest();
    (
      always.spec as { template: { spec: { restartPolicy?: string } } }
    ).template.spec.restartPolicy = undefined;
    const invalid = await call('POST', JOBS, always);
    expect([invalid.status, invalid.json]).toEqual([
      422,
      fixture('status-422-restart-policy.json'),
    ]);
    const badQuantity = manifest();
    const text = JSON.stringify(badQuantity).replace('"200Mi"', '"1Gb"');
    const decode = await call('POST', JOBS, text);
    expect([decode.status, decode.json]).toEqual([400, fixture('status-400-quantity.json')]);
    expect((await call('GET', '/apis/batch/v2/whatever')).json).toEqual(
      fixture('status-404-path.json'),
    );
    const elsewhere = manifest();
    delete (elsewhere.metadata as { namespace?: string }).namespace;
    const noNs = await call('POST', '/apis/batch/v1/namespaces/nowhere/jobs', elsewhere);
    expect(noNs.json).toEqual(fixture('status-404-namespace.json'));
  });

  it('401 without the token, 403 for a denied verb', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS], token: 't0k3n' });
    const res = await call('GET', JOBS, undefined, { authorization: 'Bearer nope' });
    expect([res.status, res.json]).toEqual([401, fixture('status-401.json')]);
    fake.deny({ verb: 'create', resource: 'jobs' });
    const denied = await call('POST', JOBS, manifest(), { authorization: 'Bearer t0k3n' });
    expect([denied.status, denied.json]).toEqual([403, fixture('status-403-create-jobs.json')]);
  });

  it('version, an empty JobList and the Background delete answer', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    expect((await call('GET', '/version')).json).toMatchObject(
      fixture('version-1.31.json') as object,
    );
    expect(placeholders((await call('GET', JOBS)).json)).toEqual(fixture('joblist-empty.json'));
    await call('POST', JOBS, manifest());
    const del = await call('DELETE', `${JOBS}/chris-jid-42?propagationPolicy=Background`);
    expect(placeholders(del.json)).toEqual(fixture('delete-background.json'));
  });

  it('DELETE without a policy orphans: the Job with finalizers and the Warning header', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    await call('POST', JOBS, manifest());
    await fake.advance(NS, 'chris-jid-42');
    const del = await call('DELETE', `${JOBS}/chris-jid-42`);
    expect(del.headers.get('warning')).toBe(ORPHAN_WARNING);
    expect(del.json).toMatchObject({ kind: 'Job', metadata: { finalizers: ['orphan'] } });
    expect(
      (del.json as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp,
    ).toMatch(/Z$/);
    await fake.settle();
    expect(fake.getJob(NS, 'chris-jid-42')).toBeUndefined();
    expect(fake.pods(NS)).toHaveLength(1);
    const explicit = await call('POST', JOBS, manifest('other'));
    expect(explicit.status).toBe(201);
    const orphan = await call('DELETE', `${JOBS}/other?propagationPolicy=Orphan`);
    expect(orphan.headers.get('warning')).toBeNull();
  });

  it('DELETE reads the policy from a non-empty body and ignores the query', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    await call('POST', JOBS, manifest());
    await fake.advance(NS, 'chris-jid-42');
    const del = await call('DELETE', `${JOBS}/chris-jid-42?propagationPolicy=Background`, {
      propagationPolicy: 'Foreground',
    });
    expect(del.json).toMatchObject({
      kind: 'Job',
      metadata: { finalizers: ['foregroundDeletion'] },
    });
    await fake.settle();
    expect(fake.pods(NS)).toEqual([]);
    expect(fake.getJob(NS, 'chris-jid-42')).toBeUndefined();
  });

  it('the Job status at each step of the default scenario (1.31)', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    const steps = fixture('job-status-steps.json') as Record<string, unknown>;
    await call('POST', JOBS, manifest());
    const status = (): unknown => placeholders(fake?.getJob(NS, 'chris-jid-42')?.status);
    expect(status()).toEqual(steps.created);
    await fake.advance(NS, 'chris-jid-42'); // pod create
    expect(status()).toEqual(steps.podCreated);
    await fake.advance(NS, 'chris-jid-42', 3); // schedule, ContainerCreating, running
    expect(status()).toEqual(steps.running);
    await fake.advance(NS, 'chris-jid-42'); // exit 0: the uncounted window (pman #225)
    expect(status()).toEqual(steps.uncountedSucceeded);
    expect(fake.getJob(NS, 'chris-jid-42')?.status.uncountedTerminatedPods?.succeeded).toEqual([
      fake.pods(NS)[0]?.metadata.uid,
    ]);
    await fake.advance(NS, 'chris-jid-42'); // counted
    expect(status()).toEqual(steps.success);
  });

  it('the failed Job status and the pod terminated state', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    fake.scenario('chris-jid-42', [
      { pod: 'create' },
      { schedule: true },
      { running: true },
      { exit: 137, reason: 'OOMKilled' },
    ]);
    await call('POST', JOBS, manifest());
    await fake.runToEnd(NS, 'chris-jid-42');
    expect(placeholders(fake.getJob(NS, 'chris-jid-42')?.status)).toEqual(
      (fixture('job-status-steps.json') as Record<string, unknown>).failure,
    );
    const pod = fake.pods(NS)[0];
    expect(pod?.status.phase).toBe('Failed');
    expect(pod?.status.containerStatuses?.[0]?.state.terminated).toMatchObject({
      exitCode: 137,
      reason: 'OOMKilled',
    });
    expect(pod?.status.containerStatuses?.[0]?.lastState).toEqual({});
  });

  it('a watch from an expired resourceVersion answers the ERROR line, or HTTP 410', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    await call('POST', JOBS, manifest());
    fake.expireResourceVersions();
    const res = await call('GET', `${JOBS}?watch=true&resourceVersion=1`);
    expect(res.status).toBe(200);
    const line = res.text.trim();
    expect(placeholders(JSON.parse(line))).toEqual(
      JSON.parse(
        readFileSync(
          new URL('../../fakes/kube-api/fixtures/watch-expired.jsonl', import.meta.url),
          'utf8',
        ),
      ),
    );
    fake.expireResourceVersions('http');
    const http = await call('GET', `${JOBS}?watch=true&resourceVersion=1`);
    expect(http.status).toBe(410);
    expect(http.json).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('openshift mode: FailedCreate event with the SCC refusal text; admitted pods get the range start', async () => {
    fake = await startFakeKubeApi({
      namespaces: [NS],
      openshift: { uidRange: [1000620000, 1000629999] },
    });
    // The recorded refusal is for a fixed runAsUser alone.
    const fixedUid = manifest();
    const c0 = (
      fixedUid.spec as {
        template: { spec: { containers: { securityContext: Record<string, unknown> }[] } };
      }
    ).template.spec.containers[0];
    if (c0) delete c0.securityContext.runAsGroup;
    await call('POST', JOBS, fixedUid);
    await fake.advance(NS, 'chris-jid-42', 2);
    expect(fake.pods(NS)).toEqual([]);
    const events = await call(
      'GET',
      `/api/v1/namespaces/${NS}/events?fieldSelector=reason%3DFailedCreate`,
    );
    const items = (events.json as { items: unknown[] }).items;
    expect(items).toHaveLength(1);
    const expected = fixture('event-failed-create.json') as Record<string, unknown>;
    const { kind: _k, apiVersion: _a, ...itemShape } = expected;
    expect(placeholders(items[0])).toEqual({ ...itemShape, count: 2 });
    const ok = manifest('fine');
    const container = (
      ok.spec as {
        template: { spec: { containers: { securityContext: Record<string, unknown> }[] } };
      }
    ).template.spec.containers[0];
    if (container)
      container.securityContext = {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      };
    await call('POST', JOBS, ok);
    await fake.advance(NS, 'fine');
    const pod = fake.pods(NS, 'fine')[0];
    expect(pod?.spec.containers?.[0]?.securityContext?.runAsUser).toBe(1000620000);
    expect(pod?.metadata.annotations?.['openshift.io/scc']).toBe('restricted-v2');
  });
});
