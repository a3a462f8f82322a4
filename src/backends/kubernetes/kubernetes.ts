// KubernetesBackend (kubernetes.md §1): batch/v1 Jobs on Kubernetes, and on OpenShift as a profile.
// list(), the recorder and (while the watches are live) get() are fed by Job and Pod informers;
// logs, and get() while a watch is down, read the API directly.
import { homedir } from 'node:os';
import type { KubernetesBackendConfig } from '../../config/config.js';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import { KUBE_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './labels.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import { boundLogText } from '../../domain/logs.js';
import type { Backend, BackendDeps, Capabilities, JobRead, ReadOptions } from '../backend.js';
import { createKubeClient, loadKubeConfig } from './client.js';
import type { InClusterOptions, KubeClient, V1Job, V1Pod } from './client.js';
import { toJob } from './manifest.js';
import type { ManifestOptions } from './manifest.js';
import { formatStamp, fromJob, sortPods } from './status.js';
import type { StatusLimits } from './status.js';
import { ClusterView } from './view.js';

export const KUBERNETES_JOB_NAME = {
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  maxLength: 63,
  rule: "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
} as const;

export function kubernetesCapabilities(profile: 'kubernetes' | 'openshift'): Capabilities {
  return {
    maxWorkers: null,
    gpus: true,
    maxCpuMillicores: null,
    maxMemoryMiB: null,
    runAsUser: profile === 'kubernetes',
    mountKinds: profile === 'kubernetes' ? ['volume', 'host'] : ['volume'],
    jobName: { ...KUBERNETES_JOB_NAME },
  };
}

/** Start-up seams for tests and for the recorder; none of them is configuration. */
export interface KubernetesExtras {
  /** In-cluster loading from a temporary service-account directory. */
  inCluster?: InClusterOptions;
  /** Where ~/.kube/config is looked for; default os.homedir(). */
  home?: string;
}

interface TerminalWatch {
  limits: LogLimits;
  listener: (snapshot: JobRead) => void;
}

const MANAGED_SELECTOR = `${KUBE_MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
/** readNamespacedPodLog's limitBytes keeps the *first* bytes, so ask for more than the cap needs. */
const LOG_READ_SLACK_BYTES = 1 << 20;

export class KubernetesBackend implements Backend {
  readonly name: 'kubernetes' | 'openshift';
  readonly capabilities: Capabilities;
  readonly #client: KubeClient;
  readonly #view: ClusterView;
  readonly #manifest: ManifestOptions;
  readonly #limits: StatusLimits;
  readonly #now: () => Date;
  #terminalWatch: TerminalWatch | undefined;
  readonly #recorded = new Set<string>();

  /** Use createKubernetesBackend(); the constructor does no I/O. */
  constructor(cfg: KubernetesBackendConfig, client: KubeClient, deps: BackendDeps) {
    this.name = cfg.kind;
    this.capabilities = kubernetesCapabilities(cfg.kind);
    this.#client = client;
    this.#now = deps.now ?? (() => new Date());
    this.#manifest = {
      profile: cfg.kind,
      namespace: client.namespace,
      nodeSelector: cfg.nodeSelector,
      tolerations: cfg.tolerations,
      requestRatio: cfg.requestRatio,
      imagePullSecrets: cfg.imagePullSecrets,
      ttlSecondsAfterFinished: cfg.ttlSecondsAfterFinished,
      activeDeadlineSeconds: cfg.activeDeadlineSeconds,
      gpuResourceName: cfg.gpuResourceName,
      runAsNonRoot: cfg.runAsNonRoot,
    };
    this.#limits = {
      pullFailureSeconds: cfg.pullFailureSeconds,
      admissionFailureSeconds: cfg.admissionFailureSeconds,
    };
    this.#view = new ClusterView({
      client,
      labelSelector: MANAGED_SELECTOR,
      log: deps.log,
      onChange: (job) => this.#maybeRecord(job),
    });
  }

  /** Starts the informers (list + watch); failures are retried in the background. */
  async start(): Promise<void> {
    await this.#view.start();
  }

  /** The namespace Jobs are created in. */
  get namespace(): string {
    return this.#client.namespace;
  }

  async create(spec: JobSpec): Promise<JobInfo> {
    const created = await this.#client.createJob(toJob(spec, this.#manifest));
    this.#view.created(created);
    return {
      name: spec.name,
      image: spec.image,
      command: [...spec.command],
      status: 'notstarted',
      message: 'job created',
      timestamp: formatStamp(created.metadata?.creationTimestamp, this.#now()),
    };
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const info = await this.get(name);
    const logs =
      options.logs === undefined || info.status === 'notstarted'
        ? ''
        : await this.logs(name, options.logs);
    return { info, logs };
  }

  /**
   * From the informers' copy while both watches are live (kubernetes.md §1), else directly.
   * A Job missing from a live view is read once directly before NotFound: the watch may lag a
   * create made by another process.
   */
  async get(name: string): Promise<JobInfo> {
    const viewed = this.#view.live ? this.#view.job(name) : undefined;
    const job = viewed ?? (await this.#client.readJob(name));
    let pods = viewed === undefined ? undefined : this.#view.podsMatching(viewed);
    // The pod watch may lag the Job watch: pods the Job's status counts must be in the copy.
    if (pods === undefined || !podsExplainJob(job, pods)) pods = await this.#podsOf(job);
    const terminal = (job.status?.conditions ?? []).some(
      (c) =>
        c.status === 'True' &&
        ['Complete', 'Failed', 'SuccessCriteriaMet', 'FailureTarget'].includes(c.type),
    );
    // Events only explain a Job without pods (admission refusals); skip the call otherwise.
    const events = pods.length === 0 && !terminal ? await this.#client.listJobEvents(name) : [];
    return fromJob(job, pods, events, this.#now(), this.#limits);
  }

  /**
   * The resourceVersions the informers hold for a Job and its pods: tests wait on them to know
   * the watches have delivered a change the fake API made.
   */
  viewVersions(name: string): { job?: string; pods: Record<string, string> } {
    const job = this.#view.job(name);
    const pods = job === undefined ? [] : this.#view.podsMatching(job);
    return {
      ...(job?.metadata?.resourceVersion !== undefined && { job: job.metadata.resourceVersion }),
      pods: Object.fromEntries(
        pods.map((p) => [p.metadata?.name ?? '', p.metadata?.resourceVersion ?? '']),
      ),
    };
  }

  async logs(name: string, limits: LogLimits): Promise<string> {
    const job = await this.#client.readJob(name);
    return this.#logsOf(name, await this.#podsOf(job), limits);
  }

  async *streamLogs(name: string, tail?: number): AsyncIterable<Uint8Array> {
    const job = await this.#client.readJob(name);
    for (const pod of sortPods(await this.#podsOf(job))) {
      const podName = pod.metadata?.name;
      if (podName === undefined) continue;
      yield* await this.#client.streamPodLog(podName, name, tail);
    }
  }

  async delete(name: string): Promise<void> {
    await this.#client.deleteJob(name);
    this.#view.deleted(name);
    this.#recorded.delete(name);
  }

  async list(): Promise<JobInfo[]> {
    const now = this.#now();
    if (this.#view.synced) {
      return this.#view.jobs().map((job) => {
        const name = job.metadata?.name ?? '';
        return fromJob(job, this.#view.podsOf(name), [], now, this.#limits);
      });
    }
    // The informers have not listed yet (or keep failing): ask the API directly.
    const [jobs, pods] = await Promise.all([
      this.#client.listJobs(MANAGED_SELECTOR),
      this.#client.listPods(MANAGED_SELECTOR),
    ]);
    return jobs.map((job) => {
      const uid = job.metadata?.uid;
      const own = pods.filter((p) => p.metadata?.ownerReferences?.some((o) => o.uid === uid));
      return fromJob(job, own, [], now, this.#limits);
    });
  }

  async ping(): Promise<void> {
    await this.#client.version();
  }

  async close(): Promise<void> {
    await this.#view.close();
  }

  /** The Job's pods, selected exactly by its own selector (survives a recreated name and 1.27's label rename). */
  async #podsOf(job: V1Job): Promise<V1Pod[]> {
    const match = job.spec?.selector?.matchLabels ?? {};
    const selector = Object.entries(match)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const name = job.metadata?.name ?? '';
    return this.#client.listPods(
      selector === '' ? `batch.kubernetes.io/job-name=${name}` : selector,
    );
  }

  async #logsOf(name: string, pods: readonly V1Pod[], limits: LogLimits): Promise<string> {
    if (limits.tail <= 0 || limits.maxBytes <= 0) return '';
    const parts: string[] = [];
    for (const pod of sortPods(pods)) {
      const podName = pod.metadata?.name;
      if (podName === undefined) continue;
      let text = await this.#readTail(podName, name, limits);
      const reason = pod.status?.containerStatuses?.find((cs) => cs.name === name)?.state
        ?.terminated?.reason;
      if (reason !== undefined && reason !== 'Completed') text += `\n${reason}`;
      parts.push(text);
    }
    return boundLogText(parts.join(''), limits);
  }

  /**
   * The last lines of one container. limitBytes bounds memory but keeps the *start* of the tail,
   * so when the answer hits it, fewer lines are asked for until the end of the log fits.
   */
  async #readTail(pod: string, container: string, limits: LogLimits): Promise<string> {
    const limitBytes = limits.maxBytes + LOG_READ_SLACK_BYTES;
    let tailLines = limits.tail;
    for (;;) {
      const text = await this.#client.readPodLog(pod, container, { tailLines, limitBytes });
      if (Buffer.byteLength(text) < limitBytes || tailLines <= 1) return text;
      tailLines = Math.floor(tailLines / 2);
    }
  }

  /** Snapshots of Jobs that turn terminal, as the informers see them (the Port's optional capability). */
  watchTerminal(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#terminalWatch = { limits, listener };
  }

  /** Recorder: once a Job turns terminal in the view, snapshot its JobInfo and logs exactly once. */
  #maybeRecord(name: string): void {
    const watch = this.#terminalWatch;
    const job = this.#view.job(name);
    if (watch === undefined || job === undefined || this.#recorded.has(name)) return;
    const info = fromJob(job, this.#view.podsOf(name), [], this.#now(), this.#limits);
    if (!TERMINAL_STATUSES.has(info.status)) return;
    this.#recorded.add(name);
    const limits = watch.limits;
    // The pods come from the API, not the view: the pod watch may lag behind the Job watch.
    void (async () => {
      const pods = await this.#podsOf(job).catch(() => undefined);
      const final = pods === undefined ? info : fromJob(job, pods, [], this.#now(), this.#limits);
      const logs = pods === undefined ? '' : await this.#logsOf(name, pods, limits).catch(() => '');
      watch.listener({ info: TERMINAL_STATUSES.has(final.status) ? final : info, logs });
    })().catch(() => undefined);
  }
}

/**
 * Whether the pods in the informers' copy account for what the Job's status counts: every
 * uncounted finished pod present, at least as many pods as counted, and at least as many
 * Succeeded/Failed ones as counted as such. Otherwise the pod watch is behind (or pods were removed) and the
 * caller lists them directly; that is never wrong, only one call dearer.
 */
export function podsExplainJob(job: V1Job, pods: readonly V1Pod[]): boolean {
  const status = job.status ?? {};
  const uncounted = [
    ...(status.uncountedTerminatedPods?.succeeded ?? []),
    ...(status.uncountedTerminatedPods?.failed ?? []),
  ];
  const counted =
    (status.active ?? 0) + (status.succeeded ?? 0) + (status.failed ?? 0) + uncounted.length;
  if (pods.length < counted) return false;
  const uids = new Set(pods.map((p) => p.metadata?.uid));
  const inPhase = (phase: string) => pods.filter((p) => p.status?.phase === phase).length;
  return (
    uncounted.every((uid) => uids.has(uid)) &&
    inPhase('Succeeded') >= (status.succeeded ?? 0) &&
    inPhase('Failed') >= (status.failed ?? 0)
  );
}

/**
 * Loads the cluster configuration (in-cluster service account, else KUBECONFIG, else
 * ~/.kube/config), probes GET /version, and starts the Job and Pod informers.
 */
export async function createKubernetesBackend(
  cfg: KubernetesBackendConfig,
  deps: BackendDeps,
  extras: KubernetesExtras = {},
): Promise<KubernetesBackend> {
  const loaded = loadKubeConfig(cfg, extras.home ?? homedir(), extras.inCluster);
  const client = createKubeClient(loaded, deps.timeoutMs);
  const version = await client.version();
  const backend = new KubernetesBackend(cfg, client, deps);
  await backend.start();
  deps.log.info(
    { server: loaded.server, namespace: loaded.namespace, version, profile: cfg.kind },
    'kubernetes backend ready',
  );
  return backend;
}
