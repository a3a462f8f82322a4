// KubernetesBackend (kubernetes.md §1): batch/v1 Jobs on Kubernetes, and on OpenShift as a profile.
// list(), the recorder and (while the watches are live) read() are fed by Job and Pod informers;
// pod logs, and read() while a watch is down, come from the API directly.
import { homedir } from 'node:os';
import type { KubernetesBackendConfig } from './settings.js';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobStatus } from '../../domain/job.js';
import { ConflictError, NotFoundError, UnsupportedError } from '../../domain/errors.js';
import { boundLogText } from '../../domain/logs.js';
import { isOurs, managedByValue, managedSelector } from './labels.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import type {
  Backend,
  BackendDeps,
  Capabilities,
  CreateOptions,
  JobRead,
  NodeCapacity,
  ReadOptions,
  StreamOptions,
} from '../backend.js';
import { createKubeClient, loadKubeConfig } from './client.js';
import type { InClusterOptions, KubeClient, V1Job, V1Pod } from './client.js';
import { toJob } from './manifest.js';
import type { ManifestOptions } from './manifest.js';
import { jobLogTail } from './logs.js';
import { nodeCapacities } from './nodes.js';
import { formatStamp, fromJob, needsEvents, sortPods } from './status.js';
import type { StatusLimits } from './status.js';
import { ClusterView, podsExplainJob } from './view.js';
import { ServiceJobs } from './services.js';
import { SERVICE_JOB_LABEL } from './service-manifest.js';
import { DEFAULT_SERVICE_START_TIMEOUT_SECONDS } from '../../config/service.js';

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
    // A Deployment plus a Service (issue 15); NodePort is a Service type of its own.
    services: { nodePort: true },
  };
}

/** Start-up seams for tests and for the recorder; none of them is configuration. */
export interface KubernetesExtras {
  /** In-cluster loading from a temporary service-account directory. */
  inCluster?: InClusterOptions;
  /** Where ~/.kube/config is looked for; default os.homedir(). */
  home?: string;
}

interface JobsWatch {
  limits: LogLimits;
  listener: (snapshot: JobRead) => void;
}

/** The last status handed to the watcher for one Job; `cancelled` once we deleted it ourselves. */
interface Emitted {
  status: JobStatus;
  cancelled: boolean;
}

/** A delete whose uid precondition failed (the name was recreated) reads and tries again this often. */
const DELETE_ATTEMPTS = 3;

/** What a stop keeps of a Job's log when no watch said its archive bounds (1 MiB; all lines). */
const KEPT_LOG_LIMITS: LogLimits = { tail: Number.MAX_SAFE_INTEGER, maxBytes: 1 << 20 };

export class KubernetesBackend implements Backend {
  readonly name: 'kubernetes' | 'openshift';
  readonly capabilities: Capabilities;
  readonly #client: KubeClient;
  readonly #view: ClusterView;
  readonly #manifest: ManifestOptions;
  readonly #limits: StatusLimits;
  readonly #now: () => Date;
  /** This instance's managed-by value, and the label selector built from it. */
  readonly #managedBy: string;
  readonly #selector: string;
  #jobsWatch: JobsWatch | undefined;
  /** Per Job name, what the watcher was last told (terminal ones are told once). */
  readonly #emitted = new Map<string, Emitted>();
  /**
   * The log of each Job being stopped, read right before the stop: the Job controller deletes the
   * pods at the deadline, and their logs with them. Handed over with the Job's end, then dropped.
   */
  readonly #keptLogs = new Map<string, string>();
  readonly #gpuResourceName: string;
  /** Service jobs (issue 15): Deployments and Services, with their own informer. */
  readonly #services: ServiceJobs;

  /** Use createKubernetesBackend(); the constructor does no I/O. */
  constructor(cfg: KubernetesBackendConfig, client: KubeClient, deps: BackendDeps) {
    this.name = cfg.kind;
    this.#gpuResourceName = cfg.gpuResourceName;
    this.capabilities = kubernetesCapabilities(cfg.kind);
    this.#client = client;
    this.#now = deps.now ?? (() => new Date());
    this.#managedBy = managedByValue(cfg.instanceId);
    this.#selector = managedSelector(this.#managedBy);
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
      managedBy: this.#managedBy,
      ...(cfg.limits !== undefined && { limits: cfg.limits }),
      ...(cfg.stopGraceSeconds !== undefined && { stopGraceSeconds: cfg.stopGraceSeconds }),
    };
    this.#limits = {
      pullFailureSeconds: cfg.pullFailureSeconds,
      admissionFailureSeconds: cfg.admissionFailureSeconds,
    };
    this.#view = new ClusterView({
      client,
      labelSelector: this.#selector,
      log: deps.log,
      onChange: (job) => this.#maybeRecord(job),
      // Gone from the cluster (the TTL controller, anyone's delete): a snapshot being taken still
      // lands, and a new Job of that name is reported from its first status on.
      onGone: (job) => this.#emitted.delete(job),
      // A service job's pod changed (its readiness, a restart): its status may have too.
      onPod: (pod) => {
        const service = pod.metadata?.labels?.[SERVICE_JOB_LABEL];
        if (service !== undefined) this.#services.changed(service);
      },
    });
    this.#services = new ServiceJobs({
      client,
      manifest: {
        ...this.#manifest,
        progressDeadlineSeconds:
          cfg.serviceStartTimeoutSeconds ?? DEFAULT_SERVICE_START_TIMEOUT_SECONDS,
      },
      managedBy: this.#managedBy,
      selector: this.#selector,
      ...(cfg.serviceNodeAddress !== undefined && { nodeAddress: cfg.serviceNodeAddress }),
      now: this.#now,
      log: deps.log,
    });
  }

  /** Starts the informers (list + watch); failures are retried in the background. */
  async start(): Promise<void> {
    await Promise.all([this.#view.start(), this.#services.start()]);
  }

  /** The namespace Jobs are created in. */
  get namespace(): string {
    return this.#client.namespace;
  }

  async create(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo> {
    if (spec.service !== undefined) return this.#services.create(spec, options);
    const job = toJob(spec, this.#manifest);
    // A hostPath storeBase is bound by the kubelet, which this server does not see: the dirs are
    // checked once more right before the API gets the Job (issue 10, mount race). PVC subPaths
    // need no re-check: the kubelet opens them component by component without following links
    // out of the volume (test/unit/kubernetes-manifest.test.ts says so).
    if (spec.mounts.some((m) => m.kind === 'host')) await options.recheckMounts?.();
    const created = await this.#client.createJob(job);
    options.onCreated?.();
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

  /**
   * Status, and the log tail when asked for a job that has started, from one look: the Job and
   * its pods come from the informers' copy while both watches are live (0 API calls), else from
   * the API; only the pod logs themselves, and the events of a Job without pods, are always read.
   */
  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const service = await this.#serviceFirst(name, () => this.#services.read(name, options));
    if (service !== undefined) return service;
    const observed = await this.#observe(name).catch(async (err: unknown) => {
      // Not a Job of ours: a service job the informer has not seen yet (another process made it).
      const late =
        err instanceof NotFoundError && this.#services.mayExist(name)
          ? await this.#services.read(name, options)
          : undefined;
      if (late === undefined) throw err;
      return late;
    });
    if ('info' in observed) return observed;
    const { job, pods } = observed;
    const events = needsEvents(job, pods) ? await this.#client.listJobEvents(name) : [];
    const info = fromJob(job, pods, events, this.#now(), this.#limits);
    const logs =
      options.logs === undefined || info.status === 'notstarted'
        ? ''
        : this.#withKept(
            name,
            await jobLogTail(this.#client, name, pods, options.logs),
            options.logs,
          );
    return { info, logs };
  }

  /**
   * Each pod's log in turn. Followed (`options.follow`), each pod's stream stays open until its
   * container ends (the kubelet closes it), so a retried Job's next pod follows its predecessor;
   * the service ends the whole once the run is terminal.
   */
  async *streamLogs(
    name: string,
    tail?: number,
    options: StreamOptions = {},
  ): AsyncIterable<Uint8Array> {
    if (this.#services.knows(name)) {
      yield* this.#services.streamLogs(name, tail, options);
      return;
    }
    const observed = await this.#observe(name).catch(async (err: unknown) => {
      if (
        err instanceof NotFoundError &&
        this.#services.mayExist(name) &&
        (await this.#services.read(name)) !== undefined
      )
        return undefined;
      throw err;
    });
    if (observed === undefined) {
      yield* this.#services.streamLogs(name, tail, options);
      return;
    }
    const { pods } = observed;
    const follow = options.follow === true ? { signal: options.signal } : undefined;
    for (const pod of sortPods(pods)) {
      const podName = pod.metadata?.name;
      if (podName === undefined) continue;
      if (options.signal?.aborted === true) return;
      yield* await this.#client.streamPodLog(podName, name, tail, follow);
    }
  }

  /**
   * Deletes only a Job of ours (404 otherwise), and only the one it read: the delete carries that
   * Job's uid as a precondition, so a Job recreated under the same name in between (by anyone) is
   * not removed unchecked; it is read and checked in turn.
   */
  async delete(name: string): Promise<void> {
    if (this.#services.knows(name)) {
      if (await this.#services.delete(name)) return;
    }
    try {
      await this.#deleteJob(name);
    } catch (err) {
      // No Job of ours: the Deployment and Service of a service job, if any.
      if (
        err instanceof NotFoundError &&
        this.#services.mayExist(name) &&
        (await this.#services.delete(name))
      )
        return;
      throw err;
    }
  }

  async #deleteJob(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // The first look may use the informers' copy; a retry reads the API (the copy may lag).
      const job = await this.#ourJob(name, attempt === 1);
      const outcome = await this.#client.deleteJob(name, job.metadata?.uid);
      if (outcome === 'deleted') break;
      if (attempt >= DELETE_ATTEMPTS) {
        throw new ConflictError(`job "${name}" was replaced while being deleted; try again`);
      }
    }
    this.#view.deleted(name);
    this.#keptLogs.delete(name);
    const emitted = this.#emitted.get(name);
    if (emitted !== undefined) emitted.cancelled = true;
    this.#emitted.delete(name);
  }

  /**
   * Cancel and deadlines (Port). The log is read first and kept (the pods go with the stop); then
   * the Job's activeDeadlineSeconds is set to the time it has been active, so the Job controller
   * stops it now: it deletes the pod with its terminationGracePeriodSeconds (CANCEL_GRACE_SECONDS
   * at create: SIGTERM, then SIGKILL), marks the Job Failed and never starts another pod. The
   * Job object stays until DELETE (or its TTL). A Job that ended already is left alone.
   */
  async stop(name: string, _graceSeconds: number): Promise<void> {
    if (this.#services.knows(name) && (await this.#services.stop(name))) return;
    const observed = await this.#observe(name).catch(async (err: unknown) => {
      if (
        err instanceof NotFoundError &&
        this.#services.mayExist(name) &&
        (await this.#services.stop(name))
      )
        return undefined;
      throw err;
    });
    if (observed === undefined) return;
    const { job, pods } = observed;
    const info = fromJob(job, pods, [], this.#now(), this.#limits);
    if (TERMINAL_STATUSES.has(info.status)) return;
    if (this.#client.patchJobDeadline === undefined) {
      throw new UnsupportedError('this Kubernetes client cannot patch a Job; use DELETE');
    }
    const limits = this.#jobsWatch?.limits ?? KEPT_LOG_LIMITS;
    if (pods.length > 0) {
      const logs = await jobLogTail(this.#client, name, pods, limits).catch(() => undefined);
      if (logs !== undefined) this.#keptLogs.set(name, logs);
    }
    const startedAt = Date.parse(job.status?.startTime?.toString() ?? '');
    const active = Number.isFinite(startedAt)
      ? Math.ceil((this.#now().getTime() - startedAt) / 1000)
      : 1;
    await this.#client.patchJobDeadline(name, Math.max(1, active));
  }

  /** The cluster's nodes (needs a ClusterRole that may list nodes; 403 otherwise). */
  async capacity(): Promise<NodeCapacity[]> {
    if (this.#client.listNodes === undefined) return [];
    return nodeCapacities(await this.#client.listNodes(), this.#gpuResourceName);
  }

  /** What a stopped Job printed before its pods went, when they are gone now. */
  #withKept(name: string, logs: string, limits: LogLimits): string {
    const kept = this.#keptLogs.get(name);
    return logs === '' && kept !== undefined ? boundLogText(kept, limits) : logs;
  }

  async list(): Promise<JobInfo[]> {
    const [jobs, services] = await Promise.all([this.#listJobs(), this.#services.list()]);
    return [...jobs, ...services];
  }

  async #listJobs(): Promise<JobInfo[]> {
    const now = this.#now();
    if (this.#view.synced) {
      return this.#view.jobs().map((job) => {
        const name = job.metadata?.name ?? '';
        return fromJob(job, this.#view.podsOf(name), [], now, this.#limits);
      });
    }
    // The informers have not listed yet (or keep failing): ask the API directly.
    const [jobs, pods] = await Promise.all([
      this.#client.listJobs(this.#selector),
      this.#client.listPods(this.#selector),
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
    await Promise.all([this.#view.close(), this.#services.close()]);
  }

  /** A service job's answer when the informer knows it as one; undefined otherwise. */
  async #serviceFirst(
    name: string,
    fn: () => Promise<JobRead | undefined>,
  ): Promise<JobRead | undefined> {
    return this.#services.knows(name) ? fn() : undefined;
  }

  /**
   * The Job and its pods: from the informers' copy while both watches are live, else directly.
   * A Job missing from a live copy is read once directly before NotFound: the watch may lag a
   * create made by another process. Pods come from the copy only when they account for what the
   * Job's status counts (the pod watch may lag the Job watch).
   */
  async #observe(name: string): Promise<{ job: V1Job; pods: V1Pod[] }> {
    const viewed = this.#view.live ? this.#view.job(name) : undefined;
    const job = viewed ?? (await this.#ourJob(name, false));
    const copied = viewed === undefined ? undefined : this.#view.podsMatching(viewed);
    const pods =
      copied !== undefined && podsExplainJob(job, copied) ? copied : await this.#podsOf(job);
    return { job, pods };
  }

  /**
   * The Job `name` if it carries our managed-by label, from the informers' copy (which holds only
   * ours) when `copy` and the watches are live, else from the API; NotFoundError for any other Job
   * in the namespace, exactly as for a missing one (issue 10, item 5).
   */
  async #ourJob(name: string, copy: boolean): Promise<V1Job> {
    const viewed = copy && this.#view.live ? this.#view.job(name) : undefined;
    const job = viewed ?? (await this.#client.readJob(name));
    if (!isOurs(job, this.#managedBy)) throw new NotFoundError(`job "${name}" not found`);
    return job;
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

  /** Every status change the informers see (the Port's optional capability). */
  watchJobs(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#jobsWatch = { limits, listener };
    this.#services.watch(limits, listener);
    // Jobs the informers already hold are reported now: their first sight.
    for (const job of this.#view.jobs()) {
      const name = job.metadata?.name;
      if (name !== undefined) this.#maybeRecord(name);
    }
  }

  /**
   * Recorder: reports a Job whenever its status in the view differs from the last one reported. A
   * terminal one is snapshotted exactly once, with its pods read from the API and its logs, at once
   * (before the TTL controller may remove it).
   */
  #maybeRecord(name: string): void {
    const watch = this.#jobsWatch;
    const job = this.#view.job(name);
    if (watch === undefined || job === undefined) return;
    const info = fromJob(job, this.#view.podsOf(name), [], this.#now(), this.#limits);
    const last = this.#emitted.get(name);
    if (last !== undefined && (last.status === info.status || TERMINAL_STATUSES.has(last.status)))
      return;
    const emitted: Emitted = { status: info.status, cancelled: false };
    this.#emitted.set(name, emitted);
    if (!TERMINAL_STATUSES.has(info.status)) {
      watch.listener({ info, logs: '' });
      return;
    }
    const limits = watch.limits;
    // The pods come from the API, not the view: the pod watch may lag behind the Job watch.
    void (async () => {
      const pods = await this.#podsOf(job).catch(() => undefined);
      // Pods already gone from the API (a cleanup was quicker): the view's copy still tells how
      // they ended (the exit code), though their logs are lost.
      const decisive = pods === undefined || pods.length === 0 ? this.#view.podsOf(name) : pods;
      const final = fromJob(job, decisive, [], this.#now(), this.#limits);
      let partial = pods === undefined;
      const logs =
        pods === undefined || pods.length === 0
          ? ''
          : await jobLogTail(this.#client, name, pods, limits).catch(() => {
              partial = true;
              return '';
            });
      // Deleted by us while its pods and logs were read: a late snapshot must not bring it back.
      if (emitted.cancelled) return;
      const kept = this.#keptLogs.has(name);
      const handed = this.#withKept(name, logs, limits);
      this.#keptLogs.delete(name);
      watch.listener({
        info: TERMINAL_STATUSES.has(final.status) ? final : info,
        logs: handed,
        ...(partial && !kept && { partial }),
      });
    })().catch(() => undefined);
  }
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
