// The Kubernetes backend with the real @kubernetes/client-node against the fake API server, as the
// kubernetes and openshift suites both set it up: config, PVC mounts, pod outcomes, rig and harness
// (which reports the Job the fake received, so env and mount cases check what the backend sent).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createKubeClient, loadKubeConfig } from '../../src/backends/kubernetes/client.js';
import type { V1Job } from '../../src/backends/kubernetes/client.js';
import { KubernetesBackend } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesExtras } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesBackendConfig } from '../../src/config/config.js';
import type { Mount } from '../../src/domain/job.js';
import { startFakeKubeApi } from '../fakes/kube-api/index.js';
import type { FakeKubeApi, FakeKubeApiOptions, Step } from '../fakes/kube-api/index.js';
import { until } from './backend.contract.js';
import type { Harness, Outcome, RecordedJob } from './backend.contract.js';
import { InformerLog } from './kube-informer-log.js';

const silent = pino({ level: 'silent' });

/** A complete kubernetes-profile config for `namespace`; `extra` replaces top-level keys. */
export function kubeConfig(
  namespace: string,
  kubeconfig: string,
  extra: Partial<KubernetesBackendConfig> = {},
): KubernetesBackendConfig {
  return {
    kind: 'kubernetes',
    namespace,
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
    runAsNonRoot: false,
    ...extra,
  };
}

/** The job's incoming/outgoing as subPaths of the storebase PVC. */
export function pvcMounts(name: string): Mount[] {
  return [
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
}

/** The steps a finished pod goes through, ending with the requested outcome. */
export function outcomeSteps(outcome: Outcome): Step[] {
  const start: Step[] = [{ pod: 'create' }, { schedule: true }, { waiting: 'ContainerCreating' }];
  if (outcome === 'oom') return [...start, { running: true }, { exit: 137, reason: 'OOMKilled' }];
  return [
    ...start,
    { running: true, ...(outcome.logs !== undefined && { log: outcome.logs }) },
    { exit: outcome.exitCode, reason: outcome.exitCode === 0 ? 'Completed' : 'Error' },
  ];
}

export interface KubeRig {
  fake: FakeKubeApi;
  backend: KubernetesBackend;
  /** The settings the backend was built with (an app over the rig needs them in its Config). */
  backendConfig: KubernetesBackendConfig;
  namespace: string;
  dir: string;
  kubeconfigPath: string;
  /**
   * Resolves once the backend's informers hold the Job and its pods at the versions the fake
   * stores: read() answers from them, and the fake's changes reach them over the watch, not at once.
   */
  caughtUp(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface KubeRigOptions {
  namespace: string;
  /** Added to the fake's options; the namespace always exists. */
  fake?: FakeKubeApiOptions;
  config?: Partial<KubernetesBackendConfig>;
  extras?: KubernetesExtras;
  timeoutMs?: number;
  /** Runs first on close, e.g. to check what the suite sent to the fake. */
  beforeClose?: (fake: FakeKubeApi) => void;
}

/**
 * A fake API with `namespace`, a kubeconfig for it in a fresh home dir, and a backend on both,
 * built as createKubernetesBackend builds it but with its informers observed (caughtUp()).
 */
export async function startKubeRig(options: KubeRigOptions): Promise<KubeRig> {
  const { namespace, timeoutMs = 5_000 } = options;
  const fake = await startFakeKubeApi({ namespaces: [namespace], ...options.fake });
  const dir = await mkdtemp(path.join(tmpdir(), 'pman-kube-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, fake.kubeconfig({ namespace }));
  const informers = new InformerLog();
  try {
    const cfg = kubeConfig(namespace, kubeconfigPath, options.config);
    const loaded = loadKubeConfig(cfg, options.extras?.home ?? dir, options.extras?.inCluster);
    const client = informers.observe(createKubeClient(loaded, timeoutMs));
    const backend = new KubernetesBackend(cfg, client, {
      log: silent,
      timeoutMs,
      now: () => fake.clock.now(),
    });
    await backend.start();
    return {
      fake,
      backend,
      backendConfig: cfg,
      namespace,
      dir,
      kubeconfigPath,
      caughtUp: (name) => informersCaughtUp(informers, fake, namespace, name),
      async close() {
        options.beforeClose?.(fake);
        await backend.close();
        await fake.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function informersCaughtUp(
  informers: InformerLog,
  fake: FakeKubeApi,
  namespace: string,
  name: string,
): Promise<void> {
  const canonical = (job: string | undefined, pods: [string, string][]) =>
    JSON.stringify({ job, pods: pods.sort(([a], [b]) => a.localeCompare(b)) });
  const stored = () =>
    canonical(
      fake.getJob(namespace, name)?.metadata.resourceVersion,
      fake
        .pods(namespace, name)
        .map((p) => [p.metadata.name ?? '', p.metadata.resourceVersion ?? '']),
    );
  await until(
    `the informers to catch up with ${name}`,
    () => {
      const seen = informers.versions(name);
      return Promise.resolve(canonical(seen.job, Object.entries(seen.pods)));
    },
    (seen) => seen === stored(),
    10_000,
  );
}

/**
 * The job as the fake API received it: the first create of that name (a refused second create,
 * as in the conflict case, does not replace it), read from the raw request body.
 */
export function recordedJob(fake: FakeKubeApi, name: string): RecordedJob {
  const job = fake.requests
    .filter((q) => q.method === 'POST' && q.path.endsWith('/jobs'))
    .map((q) => JSON.parse(q.body) as V1Job)
    .find((j) => j.metadata?.name === name);
  const container = job?.spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error(`the fake API received no Job named ${name}`);
  return {
    command: [...(container.command ?? []), ...(container.args ?? [])],
    env: Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])),
    mounts: (container.volumeMounts ?? []).map((m) => ({
      target: m.mountPath,
      readOnly: m.readOnly ?? false,
      subPath: m.subPath ?? '',
    })),
  };
}

/** The conformance harness over a rig: PVC mounts, outcomes played by the fake to the end. */
export async function kubeHarness(options: KubeRigOptions): Promise<Harness> {
  const r = await startKubeRig(options);
  return {
    backend: r.backend,
    image: 'busybox',
    mounts: (name) => Promise.resolve(pvcMounts(name)),
    async finish(name, outcome) {
      r.fake.scenario(name, outcomeSteps(outcome));
      await r.fake.runToEnd(options.namespace, name);
      await r.caughtUp(name);
    },
    async running(name, logs) {
      r.fake.scenario(name, [
        { pod: 'create' },
        { schedule: true },
        { waiting: 'ContainerCreating' },
        { running: true, log: logs },
      ]);
      await r.fake.runToEnd(options.namespace, name);
      await r.caughtUp(name);
    },
    async stopped(name) {
      // The stop set the Job's deadline to the time it has been active (at least 1 s): a second
      // passes on the fake clock, then the Job controller's syncs: pods gone, Failed.
      r.fake.clock.tick(1000);
      await r.fake.runToEnd(options.namespace, name);
      await r.caughtUp(name);
    },
    recorded: (name) => Promise.resolve(recordedJob(r.fake, name)),
    cleanup: () => r.close(),
  };
}
