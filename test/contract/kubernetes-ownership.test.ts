// Issue 10, item 5 (and 12 on Kubernetes): read, logs and delete touch only Jobs carrying this
// instance's managed-by label — any other Job in JOB_NAMESPACE is "not found" — and a delete
// names the uid it read, so a Job recreated under the same name in between is not removed.
// Item 1 on Kubernetes: a hostPath storeBase is re-checked right before the Job is created.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, loadKubeConfig } from '../../src/backends/kubernetes/client.js';
import type { KubeClient } from '../../src/backends/kubernetes/client.js';
import { KubernetesBackend } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesBackendConfig } from '../../src/config/config.js';
import { DirectoryError, NotFoundError } from '../../src/domain/errors.js';
import type { JobSpec, Mount } from '../../src/domain/job.js';
import { statusOf } from '../fixtures.js';
import { runPrefix, until } from './backend.contract.js';
import { kubeConfig, pvcMounts, startKubeRig } from './kube-rig.js';
import type { KubeRig } from './kube-rig.js';

const NS = 'chris';
const LABEL = 'app.kubernetes.io/managed-by';
const silent = pino({ level: 'silent' });
const prefix = runPrefix('kown');
let n = 0;
const next = (): string => `${prefix}-${++n}`;

let rig: KubeRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

function jobSpec(name: string, mounts: Mount[] = pvcMounts(name)): JobSpec {
  return {
    name,
    image: 'busybox',
    command: ['/bin/sh', '-c', 'echo hi'],
    env: {},
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
    mounts,
    labels: {},
  };
}

/** A Job another tool made in the namespace, run to the end with a log, straight through the API. */
async function foreignJob(
  r: KubeRig,
  name: string,
  labels: Record<string, string>,
): Promise<string> {
  const res = await fetch(`${r.fake.url}/apis/batch/v1/namespaces/${NS}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, labels },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels },
          spec: { restartPolicy: 'Never', containers: [{ name, image: 'busybox' }] },
        },
      },
    }),
  });
  expect(res.status).toBe(201);
  const uid = ((await res.json()) as { metadata: { uid: string } }).metadata.uid;
  return uid;
}

async function deleteDirect(r: KubeRig, name: string): Promise<void> {
  const res = await fetch(`${r.fake.url}/apis/batch/v1/namespaces/${NS}/jobs/${name}`, {
    method: 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ propagationPolicy: 'Background' }),
  });
  expect(res.status).toBe(200);
}

async function watchesOpen(r: KubeRig): Promise<void> {
  await until(
    'both watches open',
    () => Promise.resolve(r.fake.openWatches),
    (k) => k >= 2,
    10_000,
  );
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += Buffer.from(chunk).toString('utf8');
  return text;
}

/** A backend on the rig's fake whose client is `wrap`ped, never started: every read is direct. */
function directBackend(
  r: KubeRig,
  cfg: Partial<KubernetesBackendConfig> = {},
  wrap: (c: KubeClient) => KubeClient = (c) => c,
): KubernetesBackend {
  const config = kubeConfig(NS, r.kubeconfigPath, cfg);
  const client = wrap(createKubeClient(loadKubeConfig(config, r.dir), 5_000));
  return new KubernetesBackend(config, client, { log: silent, timeoutMs: 5_000 });
}

async function expectUntouchable(
  backend: KubernetesBackend,
  r: KubeRig,
  name: string,
): Promise<void> {
  await expect(statusOf(backend, name)).rejects.toBeInstanceOf(NotFoundError);
  await expect(drain(backend.streamLogs(name))).rejects.toBeInstanceOf(NotFoundError);
  await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
  expect(r.fake.getJob(NS, name)).toBeDefined();
  const deletes = r.fake.requests.filter(
    (q) => q.method === 'DELETE' && q.path.endsWith(`/${name}`),
  );
  expect(deletes).toEqual([]);
}

describe('kubernetes: only Jobs of ours', () => {
  it('a Job without our managed-by label is not found for read, logs and delete (watches live)', async () => {
    rig = await startKubeRig({ namespace: NS });
    await watchesOpen(rig);
    const name = next();
    rig.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'secret\n' }, { exit: 0 }]);
    await foreignJob(rig, name, { app: 'other' });
    await rig.fake.runToEnd(NS, name);
    await expectUntouchable(rig.backend, rig, name);
    expect((await rig.backend.list()).map((j) => j.name)).not.toContain(name);
  });

  it('the same through direct reads (no informer copy)', async () => {
    rig = await startKubeRig({ namespace: NS });
    const name = next();
    rig.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'secret\n' }, { exit: 0 }]);
    await foreignJob(rig, name, {});
    await rig.fake.runToEnd(NS, name);
    await expectUntouchable(directBackend(rig), rig, name);
  });

  it("another instance's Job (INSTANCE_ID) is not found either, and ours carry pman-<id>", async () => {
    rig = await startKubeRig({ namespace: NS, config: { instanceId: 'blue' } });
    await watchesOpen(rig);
    const theirs = next();
    await foreignJob(rig, theirs, { [LABEL]: 'pman' });
    await expectUntouchable(rig.backend, rig, theirs);
    await expectUntouchable(directBackend(rig, { instanceId: 'blue' }), rig, theirs);
    const ours = next();
    await rig.backend.create(jobSpec(ours));
    expect(rig.fake.getJob(NS, ours)?.metadata.labels?.[LABEL]).toBe('pman-blue');
    await expect(statusOf(directBackend(rig), ours)).rejects.toBeInstanceOf(NotFoundError);
    await rig.backend.delete(ours);
    expect(rig.fake.getJob(NS, ours)).toBeUndefined();
  });

  it('delete sends the uid it read as a precondition, with the policy in the body', async () => {
    rig = await startKubeRig({ namespace: NS });
    const name = next();
    await rig.backend.create(jobSpec(name));
    const uid = rig.fake.getJob(NS, name)?.metadata.uid;
    await rig.backend.delete(name);
    const del = rig.fake.requests.filter(
      (q) => q.method === 'DELETE' && q.path.endsWith(`/${name}`),
    );
    expect(del).toHaveLength(1);
    expect(JSON.parse(del[0]?.body ?? '')).toEqual({
      propagationPolicy: 'Background',
      preconditions: { uid },
    });
    expect(rig.fake.getJob(NS, name)).toBeUndefined();
  });

  it('a Job recreated by someone else between the read and the delete is not deleted', async () => {
    rig = await startKubeRig({ namespace: NS });
    const r = rig;
    const name = next();
    await r.backend.create(jobSpec(name));
    let swapped = false;
    // Right after delete() read our Job, another tool replaces it with its own of the same name.
    const backend = directBackend(r, {}, (c) => ({
      ...c,
      readJob: async (job) => {
        const read = await c.readJob(job);
        if (!swapped) {
          swapped = true;
          await deleteDirect(r, job);
          await foreignJob(r, job, {});
        }
        return read;
      },
    }));
    await expect(backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    const survivor = r.fake.getJob(NS, name);
    expect(survivor).toBeDefined();
    expect(survivor?.metadata.labels?.[LABEL]).toBeUndefined();
  });
});

describe('kubernetes: hostPath storeBase is re-checked before create (issue 10, item 1)', () => {
  const hostMounts = (name: string): Mount[] =>
    pvcMounts(name).map((m) => ({ ...m, kind: 'host', source: '/var/local/storeBase' }));

  it('calls recheckMounts right before the Job is created, and creates nothing when it refuses', async () => {
    rig = await startKubeRig({ namespace: NS });
    const r = rig;
    const posts = (): number =>
      r.fake.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/jobs')).length;
    const refused = next();
    const before = posts();
    const recheck = (): Promise<void> =>
      Promise.reject(new DirectoryError({ output: 'changed under storeBase' }));
    await expect(
      r.backend.create(jobSpec(refused, hostMounts(refused)), { recheckMounts: recheck }),
    ).rejects.toBeInstanceOf(DirectoryError);
    expect(posts()).toBe(before);
    expect(r.fake.getJob(NS, refused)).toBeUndefined();

    const ok = next();
    let postsAtCheck = -1;
    await r.backend.create(jobSpec(ok, hostMounts(ok)), {
      recheckMounts: () => {
        postsAtCheck = posts();
        return Promise.resolve();
      },
    });
    expect(postsAtCheck).toBe(before);
    expect(r.fake.getJob(NS, ok)).toBeDefined();
  });

  it('does not ask for a re-check of PVC subPaths (the kubelet keeps them inside the volume)', async () => {
    rig = await startKubeRig({ namespace: NS });
    const name = next();
    let called = false;
    await rig.backend.create(jobSpec(name), {
      recheckMounts: () => {
        called = true;
        return Promise.resolve();
      },
    });
    expect(called).toBe(false);
  });
});
