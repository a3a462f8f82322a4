// toJob: golden Jobs for both profiles and storage types (kubernetes.md §2, §9.1).
import { describe, expect, it } from 'vitest';
import { toJob } from '../../src/backends/kubernetes/manifest.js';
import type { ManifestOptions } from '../../src/backends/kubernetes/manifest.js';
import { UnsupportedError } from '../../src/domain/errors.js';
import type { JobSpec, Mount } from '../../src/domain/job.js';
import { sccViolations } from '../fakes/kube-api/admission.js';
import { decodeError, validateJob } from '../fakes/kube-api/validate.js';
import type { Job as WireJob } from '../fakes/kube-api/types.js';

const pvcMounts: Mount[] = [
  {
    kind: 'volume',
    source: 'storebase',
    subPath: 'key-chris-jid-42/incoming',
    containerPath: '/share/incoming',
    readOnly: true,
  },
  {
    kind: 'volume',
    source: 'storebase',
    subPath: 'key-chris-jid-42/outgoing',
    containerPath: '/share/outgoing',
    readOnly: false,
  },
];

const hostMounts: Mount[] = pvcMounts.map((m) => ({
  ...m,
  kind: 'host',
  source: '/var/local/storeBase',
}));

function spec(extra: Partial<JobSpec> = {}): JobSpec {
  return {
    name: 'chris-jid-42',
    image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
    command: [
      'simpledsapp',
      '--saveinputmeta',
      '--saveoutputmeta',
      '--prefix',
      'hello_',
      '/share/incoming',
      '/share/outgoing',
    ],
    env: { CHRIS_JID: 'chris-jid-42' },
    resources: { workers: 1, cpuMillicores: 1000, memoryMiB: 200, gpus: 1 },
    mounts: pvcMounts,
    user: { uid: 1000, gid: 1000 },
    shmMiB: 64,
    labels: { 'app.kubernetes.io/managed-by': 'pman' },
    ...extra,
  };
}

const kube: ManifestOptions = {
  profile: 'kubernetes',
  namespace: 'chris',
  nodeSelector: {},
  tolerations: [],
  requestRatio: 1,
  imagePullSecrets: [],
  ttlSecondsAfterFinished: 86400,
  activeDeadlineSeconds: 604800,
  gpuResourceName: 'nvidia.com/gpu',
  runAsNonRoot: false,
  managedBy: 'pman',
};
const openshift: ManifestOptions = { ...kube, profile: 'openshift', runAsNonRoot: true };

/** What the fake API server would answer 400/422 with, or [] when it accepts the body. */
function serverProblems(job: unknown): string[] {
  const wire = JSON.parse(JSON.stringify(job)) as WireJob;
  const decode = decodeError(wire);
  return [...(decode === undefined ? [] : [decode]), ...validateJob(wire).map((c) => c.message)];
}

describe('toJob', () => {
  it('renders the complete example of kubernetes.md §2.1 (kubernetes profile, PVC)', () => {
    const job = toJob(spec(), kube);
    expect(JSON.parse(JSON.stringify(job))).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'chris-jid-42',
        namespace: 'chris',
        labels: { 'app.kubernetes.io/managed-by': 'pman' },
      },
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
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'chris-jid-42',
                image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
                command: spec().command,
                env: [{ name: 'CHRIS_JID', value: 'chris-jid-42' }],
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
                    subPath: 'key-chris-jid-42/incoming',
                    readOnly: true,
                  },
                  {
                    name: 'storebase',
                    mountPath: '/share/outgoing',
                    subPath: 'key-chris-jid-42/outgoing',
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
    });
    expect(serverProblems(job)).toEqual([]);
  });

  it('never injects the NVIDIA_* variables pman added to GPU jobs', () => {
    const env = toJob(spec(), kube).spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.map((e) => e.name)).toEqual(['CHRIS_JID']);
  });

  it('uses a hostPath volume of STOREBASE with subPath mounts for host storage', () => {
    const job = toJob(spec({ mounts: hostMounts }), kube);
    const pod = job.spec?.template.spec;
    expect(pod?.volumes?.[0]).toEqual({
      name: 'storebase',
      hostPath: { path: '/var/local/storeBase', type: 'Directory' },
    });
    expect(pod?.containers[0]?.volumeMounts?.[0]).toMatchObject({
      subPath: 'key-chris-jid-42/incoming',
      readOnly: true,
    });
    expect(serverProblems(job)).toEqual([]);
  });

  // Issue 10, item 1 (mount race): a PVC is safe as it is. The kubelet resolves a subPath inside
  // the volume one component at a time without following a symbolic link out of it (the fix of
  // CVE-2017-1002101), and binds what it opened; so the Job must reach storage only as a
  // `subPath` of the claim: never the claim's root, never `subPathExpr`, never a hostPath.
  it('PVC storage is bound only as subPaths of the claim, which the kubelet keeps inside the volume', () => {
    const job = toJob(spec({ mounts: pvcMounts }), kube);
    const pod = job.spec?.template.spec;
    const storage = (pod?.volumes ?? []).filter((v) => v.name.startsWith('storebase'));
    expect(storage).toEqual([
      { name: 'storebase', persistentVolumeClaim: { claimName: 'storebase' } },
    ]);
    const mounts = (pod?.containers[0]?.volumeMounts ?? []).filter((m) => m.name === 'storebase');
    expect(mounts.map((m) => m.subPath)).toEqual(pvcMounts.map((m) => m.subPath));
    for (const m of mounts) {
      expect(m.subPathExpr).toBeUndefined();
      expect(m.subPath?.split('/')).not.toContain('..');
    }
    expect(JSON.stringify(job)).not.toMatch(/hostPath/);
  });

  it('openshift: no runAsUser/runAsGroup/fsGroup, runAsNonRoot, and passes restricted-v2', () => {
    const job = toJob(spec({ user: undefined }), openshift);
    const pod = job.spec?.template.spec;
    const ctx = pod?.containers[0]?.securityContext;
    expect(ctx).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
    });
    expect(JSON.stringify(job)).not.toMatch(/runAsUser|runAsGroup|fsGroup|hostPath/);
    const wire = JSON.parse(JSON.stringify(job)) as WireJob;
    expect(sccViolations(wire.spec.template.spec ?? {}, [1000620000, 1000629999])).toEqual([]);
    expect(serverProblems(job)).toEqual([]);
  });

  it('openshift: a user drawn from CONTAINER_USER is never sent', () => {
    const ctx = toJob(spec(), openshift).spec?.template.spec?.containers[0]?.securityContext;
    expect(ctx?.runAsUser).toBeUndefined();
    expect(ctx?.runAsGroup).toBeUndefined();
  });

  it('openshift: host storage is refused', () => {
    expect(() => toJob(spec({ mounts: hostMounts }), openshift)).toThrow(UnsupportedError);
  });

  it('puts image pull secrets in the pod spec and applies node selector and tolerations', () => {
    const job = toJob(spec(), {
      ...kube,
      imagePullSecrets: ['regcred', 'other'],
      nodeSelector: { 'nvidia.com/gpu.product': 'A100' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    const pod = job.spec?.template.spec;
    expect(pod?.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: 'other' }]);
    expect(pod?.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'A100' });
    expect(pod?.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(JSON.stringify(pod?.containers[0])).not.toContain('imagePullSecrets');
  });

  it('puts JOB_LABELS on the Job and the pod template, and always our managed-by label', () => {
    const job = toJob(spec({ labels: { team: 'fnndsc' } }), kube);
    const expected = { team: 'fnndsc', 'app.kubernetes.io/managed-by': 'pman' };
    expect(job.metadata?.labels).toEqual(expected);
    expect(job.spec?.template.metadata?.labels).toEqual(expected);
  });

  it('sets requests from JOB_REQUEST_RATIO (rounded up) and leaves GPUs in limits only', () => {
    const res = toJob(
      spec({ resources: { workers: 3, cpuMillicores: 1001, memoryMiB: 199, gpus: 2 } }),
      {
        ...kube,
        requestRatio: 0.5,
        gpuResourceName: 'amd.com/gpu',
      },
    ).spec;
    expect(res?.parallelism).toBe(3);
    expect(res?.completions).toBe(3);
    expect(res?.template.spec?.containers[0]?.resources).toEqual({
      limits: { cpu: '1001m', memory: '199Mi', 'amd.com/gpu': '2' },
      requests: { cpu: '501m', memory: '100Mi' },
    });
  });

  it('no GPU limit without gpus, no /dev/shm without SHM_SIZE, runAsNonRoot when configured', () => {
    const job = toJob(
      spec({
        resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
        shmMiB: undefined,
      }),
      { ...kube, runAsNonRoot: true },
    );
    const c = job.spec?.template.spec?.containers[0];
    expect(c?.resources?.limits).toEqual({ cpu: '500m', memory: '128Mi' });
    expect(c?.volumeMounts?.map((m) => m.name)).toEqual(['storebase', 'storebase']);
    expect(c?.securityContext?.runAsNonRoot).toBe(true);
  });
});
