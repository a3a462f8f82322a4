// The OpenShift profile against the fake API in restricted-v2 admission mode (kubernetes.md §8.8, §9.2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/domain/job.js';
import { describeBackend } from './backend.contract.js';
import { statusOf } from '../fixtures.js';
import { kubeHarness, outcomeSteps, pvcMounts, startKubeRig } from './kube-rig.js';
import type { KubeRig, KubeRigOptions } from './kube-rig.js';

const NS = 'chris-project';
const UID_RANGE: [number, number] = [1000620000, 1000629999];

/**
 * A backend on a fake OpenShift namespace. The openshift profile may never send a fixed UID, a host
 * path or an fsGroup: close() checks every POST of the suite for them.
 */
function rig(kind: 'kubernetes' | 'openshift' = 'openshift'): Promise<KubeRig> {
  return startKubeRig(rigOptions(kind));
}

function rigOptions(kind: 'kubernetes' | 'openshift'): KubeRigOptions {
  return {
    namespace: NS,
    fake: { openshift: { uidRange: UID_RANGE } },
    config: { kind, runAsNonRoot: kind === 'openshift' },
    beforeClose(fake) {
      for (const q of fake.requests.filter((r) => r.method === 'POST' && kind === 'openshift')) {
        expect(q.body).not.toMatch(/runAsUser|runAsGroup|fsGroup|hostPath/);
      }
    },
  };
}

describeBackend('openshift (fake API, restricted-v2)', () => kubeHarness(rigOptions('openshift')));

function spec(name: string, extra: Partial<JobSpec> = {}): JobSpec {
  return {
    name,
    image: 'busybox',
    command: ['/bin/sh', '-c', 'id -u'],
    env: { HOME: '/tmp' },
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
    mounts: pvcMounts(name),
    labels: { 'app.kubernetes.io/managed-by': 'pman' },
    ...extra,
  };
}

describe('openshift profile', () => {
  let r: KubeRig;
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
    // The scenario first: the fake's controller may pick up the Job as soon as it exists.
    r.fake.scenario('ocp-admitted', outcomeSteps({ exitCode: 0, logs: '1000620000\n' }));
    await r.backend.create(spec('ocp-admitted', { user: { uid: 1000, gid: 1000 } }));
    await r.fake.runToEnd(NS, 'ocp-admitted');
    await r.caughtUp('ocp-admitted');
    const [pod] = r.fake.pods(NS, 'ocp-admitted');
    expect(pod?.metadata.annotations?.['openshift.io/scc']).toBe('restricted-v2');
    const ctx = pod?.spec.containers?.[0]?.securityContext;
    expect(ctx).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
    });
    expect(pod?.spec.containers?.[0]?.env).toContainEqual({ name: 'HOME', value: '/tmp' });
    expect((await statusOf(r.backend, 'ocp-admitted')).status).toBe('finishedSuccessfully');
  });
});

describe('openshift admission refusal', () => {
  it('a pod with a fixed UID is refused: FailedCreate → notstarted, then finishedWithError', async () => {
    // The kubernetes profile against an OpenShift namespace is the mis-configuration that sets a UID.
    const r = await rig('kubernetes');
    try {
      await r.backend.create(spec('ocp-refused', { user: { uid: 1000, gid: 1000 } }));
      await r.fake.advance(NS, 'ocp-refused', 2);
      await r.caughtUp('ocp-refused');
      const early = await statusOf(r.backend, 'ocp-refused');
      expect(early.status).toBe('notstarted');
      expect(early.message).toMatch(
        /^FailedCreate: Error creating: pods "ocp-refused-" is forbidden: .*runAsUser/,
      );
      r.fake.clock.tick(61_000);
      const late = await statusOf(r.backend, 'ocp-refused');
      expect(late.status).toBe('finishedWithError');
      expect(late.message).toMatch(/must be in the ranges: \[1000620000, 1000629999\]/);
    } finally {
      await r.close();
    }
  });
});
