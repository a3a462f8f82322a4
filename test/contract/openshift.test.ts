// The OpenShift profile against the fake API in restricted-v2 admission mode (kubernetes.md §8.8, §9.2).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesBackend } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesBackend } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesBackendConfig } from '../../src/config.js';
import type { JobSpec, Mount } from '../../src/job.js';
import { startFakeKubeApi } from '../fakes/kube-api/index.js';
import type { FakeKubeApi, Step } from '../fakes/kube-api/index.js';
import { describeBackend } from './backend.contract.js';
import type { Harness, Outcome } from './backend.contract.js';

const NS = 'chris-project';
const UID_RANGE: [number, number] = [1000620000, 1000629999];
const silent = pino({ level: 'silent' });

function config(kubeconfig: string, kind: 'kubernetes' | 'openshift'): KubernetesBackendConfig {
  return {
    kind,
    namespace: NS,
    kubeconfig,
    inCluster: false,
    nodeSelector: {},
    tolerations: [],
    imagePullSecrets: [],
    ttlSecondsAfterFinished: 86400,
    activeDeadlineSeconds: 604800,
    pullFailureSeconds: 300,
    admissionFailureSeconds: 60,
    gpuResourceName: 'nvidia.com/gpu',
    requestRatio: 1,
    runAsNonRoot: kind === 'openshift',
  };
}

const mounts = (name: string): Mount[] => [
  {
    kind: 'volume',
    source: 'storebase',
    subPath: `${name}/in`,
    containerPath: '/share/incoming',
    readOnly: true,
  },
  {
    kind: 'volume',
    source: 'storebase',
    subPath: `${name}/out`,
    containerPath: '/share/outgoing',
    readOnly: false,
  },
];

function outcomeSteps(outcome: Outcome): Step[] {
  const start: Step[] = [{ pod: 'create' }, { schedule: true }, { waiting: 'ContainerCreating' }];
  if (outcome === 'oom') return [...start, { running: true }, { exit: 137, reason: 'OOMKilled' }];
  return [
    ...start,
    { running: true, ...(outcome.logs !== undefined && { log: outcome.logs }) },
    { exit: outcome.exitCode, reason: outcome.exitCode === 0 ? 'Completed' : 'Error' },
  ];
}

interface Rig {
  fake: FakeKubeApi;
  backend: KubernetesBackend;
  close(): Promise<void>;
}

async function rig(kind: 'kubernetes' | 'openshift' = 'openshift'): Promise<Rig> {
  const fake = await startFakeKubeApi({ namespaces: [NS], openshift: { uidRange: UID_RANGE } });
  const dir = await mkdtemp(path.join(tmpdir(), 'pman-ocp-'));
  const file = path.join(dir, 'kubeconfig');
  await writeFile(file, fake.kubeconfig({ namespace: NS }));
  const backend = await createKubernetesBackend(
    config(file, kind),
    { log: silent, timeoutMs: 5000, now: () => fake.clock.now() },
    { home: dir },
  );
  return {
    fake,
    backend,
    async close() {
      // Nothing this suite sends may carry a fixed UID, a host path or an fsGroup.
      for (const q of fake.requests.filter((r) => r.method === 'POST' && kind === 'openshift')) {
        expect(q.body).not.toMatch(/runAsUser|runAsGroup|fsGroup|hostPath/);
      }
      await backend.close();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function harness(): Promise<Harness> {
  const r = await rig();
  return {
    backend: r.backend,
    image: 'busybox',
    mounts: (name) => Promise.resolve(mounts(name)),
    async finish(name, outcome) {
      r.fake.scenario(name, outcomeSteps(outcome));
      await r.fake.runToEnd(NS, name);
    },
    cleanup: () => r.close(),
  };
}

describeBackend('openshift (fake API, restricted-v2)', harness);

function spec(name: string, extra: Partial<JobSpec> = {}): JobSpec {
  return {
    name,
    image: 'busybox',
    command: ['/bin/sh', '-c', 'id -u'],
    env: { HOME: '/tmp' },
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
    mounts: mounts(name),
    labels: { 'app.kubernetes.io/managed-by': 'pman' },
    ...extra,
  };
}

describe('openshift profile', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig();
  });
  afterAll(async () => {
    await r?.close();
  });

  it('declares what restricted-v2 allows: no fixed users, PVC storage only', () => {
    expect(r.backend.name).toBe('openshift');
    expect(r.backend.capabilities.runAsUser).toBe(false);
    expect(r.backend.capabilities.mountKinds).toEqual(['volume']);
  });

  it('an admitted pod runs with a UID from the range and the restricted security context', async () => {
    await r.backend.create(spec('ocp-admitted', { user: { uid: 1000, gid: 1000 } }));
    r.fake.scenario('ocp-admitted', outcomeSteps({ exitCode: 0, logs: '1000620000\n' }));
    await r.fake.runToEnd(NS, 'ocp-admitted');
    const [pod] = r.fake.pods(NS, 'ocp-admitted');
    expect(pod?.metadata.annotations?.['openshift.io/scc']).toBe('restricted-v2');
    const ctx = pod?.spec.containers?.[0]?.securityContext;
    expect(ctx).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
    });
    expect(pod?.spec.containers?.[0]?.env).toContainEqual({ name: 'HOME', value: '/tmp' });
    expect((await r.backend.get('ocp-admitted')).status).toBe('finishedSuccessfully');
  });
});

describe('openshift admission refusal', () => {
  it('a pod with a fixed UID is refused: FailedCreate → notstarted, then finishedWithError', async () => {
    // The kubernetes profile against an OpenShift namespace is the mis-configuration that sets a UID.
    const r = await rig('kubernetes');
    try {
      await r.backend.create(spec('ocp-refused', { user: { uid: 1000, gid: 1000 } }));
      await r.fake.advance(NS, 'ocp-refused', 2);
      const early = await r.backend.get('ocp-refused');
      expect(early.status).toBe('notstarted');
      expect(early.message).toMatch(
        /^FailedCreate: Error creating: pods "ocp-refused-" is forbidden: .*runAsUser/,
      );
      r.fake.clock.tick(61_000);
      const late = await r.backend.get('ocp-refused');
      expect(late.status).toBe('finishedWithError');
      expect(late.message).toMatch(/must be in the ranges: \[1000620000, 1000629999\]/);
    } finally {
      await r.close();
    }
  });
});
