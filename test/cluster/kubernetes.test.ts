// The conformance suite and real-only checks against a real Kubernetes or OpenShift cluster
// (kubernetes.md §9.3). Skipped unless KUBECONFIG is set; REQUIRE_CLUSTER=1 makes that a failure.
// Settings: TEST_NAMESPACE, TEST_VOLUME_NAME (an existing PVC), TEST_IMAGE (default busybox),
// TEST_PROFILE (kubernetes | openshift), TEST_GPU=1 (only when a node advertises the GPU resource).
import { statusOf, logsOf } from '../fixtures.js';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { createKubernetesBackend } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesBackendConfig } from '../../src/config/config.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { TERMINAL_STATUSES } from '../../src/domain/job.js';
import { KUBE_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../src/backends/kubernetes/labels.js';
import type { JobInfo, JobSpec, Mount } from '../../src/domain/job.js';
import { describeBackend, until } from '../contract/backend.contract.js';
import type { Harness } from '../contract/backend.contract.js';

const env = process.env;
const kubeconfig = env.KUBECONFIG;
const profile = env.TEST_PROFILE === 'openshift' ? 'openshift' : 'kubernetes';
const image = env.TEST_IMAGE ?? 'busybox';
const volume = env.TEST_VOLUME_NAME;
const RUN = randomBytes(4).toString('hex');
const RUN_LABEL = 'pman-test-run';
const FINISH_MS = 240_000;

if (env.REQUIRE_CLUSTER === '1' && (kubeconfig === undefined || kubeconfig === '')) {
  describe('cluster tier', () => {
    it('REQUIRE_CLUSTER=1 needs KUBECONFIG', () => {
      expect.fail('REQUIRE_CLUSTER=1 but KUBECONFIG is not set: no cluster to test against');
    });
  });
}

function config(extra: Partial<KubernetesBackendConfig> = {}): KubernetesBackendConfig {
  return {
    kind: profile,
    ...(env.TEST_NAMESPACE !== undefined && { namespace: env.TEST_NAMESPACE }),
    ...(kubeconfig !== undefined && { kubeconfig }),
    inCluster: false,
    nodeSelector: {},
    tolerations: [],
    imagePullSecrets: [],
    ttlSecondsAfterFinished: 3600,
    activeDeadlineSeconds: 900,
    pullFailureSeconds: 20,
    admissionFailureSeconds: 30,
    gpuResourceName: env.GPU_RESOURCE_NAME ?? 'nvidia.com/gpu',
    requestRatio: 1,
    runAsNonRoot: profile === 'openshift',
    ...extra,
  };
}

function mounts(name: string): Mount[] {
  if (volume === undefined) return [];
  const base = `pman-test-${RUN}/${name}`;
  return [
    {
      kind: 'volume',
      source: volume,
      subPath: `${base}/in`,
      containerPath: '/share/incoming',
      readOnly: true,
    },
    {
      kind: 'volume',
      source: volume,
      subPath: `${base}/out`,
      containerPath: '/share/outgoing',
      readOnly: false,
    },
  ];
}

/** Labels every Job with this run's id and remembers it, so cleanup finds it even after failures. */
function labelled(backend: Backend, names: Set<string>): Backend {
  return {
    name: backend.name,
    capabilities: backend.capabilities,
    create: (spec: JobSpec) => {
      names.add(spec.name);
      return backend.create({ ...spec, labels: { ...spec.labels, [RUN_LABEL]: RUN } });
    },
    read: (n, o) => backend.read(n, o),
    streamLogs: (n, t) => backend.streamLogs(n, t),
    delete: (n) => backend.delete(n),
    list: () => backend.list(),
    ping: () => backend.ping(),
    close: () => backend.close(),
  };
}

async function cleanupAll(backend: Backend, names: ReadonlySet<string>): Promise<void> {
  for (const name of names) {
    try {
      await backend.delete(name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}

async function clusterHarness(): Promise<Harness> {
  const names = new Set<string>();
  const raw = await createKubernetesBackend(config(), {
    log: pino({ level: 'warn' }),
    timeoutMs: 30_000,
  });
  const backend = labelled(raw, names);
  return {
    backend,
    image,
    mounts: (name) => Promise.resolve(mounts(name)),
    async finish(name) {
      await until(
        `${name} to finish`,
        () => statusOf(backend, name),
        (i) => TERMINAL_STATUSES.has(i.status),
        FINISH_MS,
      );
    },
    async cleanup() {
      try {
        await cleanupAll(raw, names);
      } finally {
        await raw.close();
      }
    },
  };
}

const noCluster = kubeconfig === undefined || kubeconfig === '';

describe.skipIf(noCluster)(`real cluster (${profile})`, () => {
  describeBackend(`cluster ${profile}`, clusterHarness, {
    skip: volume === undefined ? { mounts: 'TEST_VOLUME_NAME is not set (no PVC to mount)' } : {},
  });

  describe('real-only checks', () => {
    let raw: Backend;
    let backend: Backend;
    const names = new Set<string>();
    const spec = (name: string, script: string, extra: Partial<JobSpec> = {}): JobSpec => ({
      name,
      image,
      command: ['/bin/sh', '-c', script],
      env: { HOME: '/tmp' },
      resources: { workers: 1, cpuMillicores: 250, memoryMiB: 64, gpus: 0 },
      mounts: mounts(name),
      labels: { [KUBE_MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      ...extra,
    });
    const finished = (name: string): Promise<JobInfo> =>
      until(
        `${name} to finish`,
        () => statusOf(backend, name),
        (i) => TERMINAL_STATUSES.has(i.status),
        FINISH_MS,
      );

    beforeAll(async () => {
      raw = await createKubernetesBackend(config(), {
        log: pino({ level: 'warn' }),
        timeoutMs: 30_000,
      });
      backend = labelled(raw, names);
    });
    afterAll(async () => {
      if (raw === undefined) return;
      try {
        await cleanupAll(raw, names);
      } finally {
        await raw.close();
      }
    });

    it('a non-existent image ends finishedWithError after IMAGE_PULL_FAILURE_SECONDS', async () => {
      const name = `pt-${RUN}-noimage`;
      await backend.create(spec(name, 'true', { image: `${image}-does-not-exist-${RUN}:nope` }));
      const info = await finished(name);
      expect(info.status).toBe('finishedWithError');
      expect(info.message).toMatch(/ErrImagePull|ImagePullBackOff/);
    });

    it.skipIf(profile !== 'openshift')(
      'on OpenShift the pod runs under an arbitrary non-root UID',
      async () => {
        const name = `pt-${RUN}-uid`;
        await backend.create(spec(name, 'id -u'));
        expect((await finished(name)).status).toBe('finishedSuccessfully');
        const uid = Number((await logsOf(backend, name, { tail: 5, maxBytes: 1000 })).trim());
        expect(uid).toBeGreaterThan(0);
      },
    );

    it('a service job: a Deployment turns healthy behind a Service, stops for good, deletes', async () => {
      const name = `pt-${RUN}-svc`;
      const created = await backend.create(
        spec(name, '', {
          command: ['httpd', '-f', '-p', '8080', '-h', '/tmp'],
          service: { port: 8080, exposure: 'ClusterIP' },
        }),
      );
      expect(created.service?.endpoint).toMatch(/^http:\/\/\S+:8080$/);
      const healthy = await until(
        `${name} to pass its readiness probe`,
        () => statusOf(backend, name),
        (i) => i.service?.healthy === true,
        FINISH_MS,
      );
      expect(healthy.status).toBe('started');
      expect(healthy.service?.endpoint).toBe(created.service?.endpoint);
      await raw.stop?.(name, 5);
      const stopped = await until(
        `${name} to stop`,
        () => statusOf(backend, name),
        (i) => TERMINAL_STATUSES.has(i.status),
        FINISH_MS,
      );
      expect(stopped).toMatchObject({ status: 'finishedWithError', message: 'stopped' });
      await backend.delete(name);
      await expect(backend.read(name)).rejects.toBeInstanceOf(NotFoundError);
    });

    it.skipIf(env.TEST_GPU !== '1')(
      'a GPU job runs when a node advertises the GPU resource',
      async () => {
        const name = `pt-${RUN}-gpu`;
        await backend.create(
          spec(name, 'true', {
            resources: { workers: 1, cpuMillicores: 250, memoryMiB: 64, gpus: 1 },
          }),
        );
        expect((await finished(name)).status).toBe('finishedSuccessfully');
      },
    );
  });
});
