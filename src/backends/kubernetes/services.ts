// Service jobs on Kubernetes/OpenShift (issue 15): one apps/v1 Deployment plus one v1 Service per
// job, both named by the jid. A Deployments informer reports their changes to the job service as
// the Job informer does for batch jobs; reads, stops and deletes go to the API directly.
import type { Logger } from 'pino';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import { boundLogText } from '../../domain/logs.js';
import type { CreateOptions, JobRead, ReadOptions, StreamOptions } from '../backend.js';
import type {
  KubeClient,
  KubeInformer,
  ServiceCalls,
  V1Deployment,
  V1Pod,
  V1Service,
} from './client.js';
import { KUBE_MANAGED_BY_LABEL } from './labels.js';
import { jobLogTail } from './logs.js';
import {
  assertServiceName,
  SERVICE_JOB_LABEL,
  STOPPED_AT_ANNOTATION,
  toDeployment,
  toService,
} from './service-manifest.js';
import type { ServiceManifestOptions } from './service-manifest.js';
import { fromDeployment, nodeAddress, serviceEndpoint } from './service-status.js';
import { formatStamp, sortPods } from './status.js';

export interface ServiceJobsOptions {
  client: KubeClient;
  manifest: ServiceManifestOptions;
  /** This instance's managed-by value and its label selector. */
  managedBy: string;
  selector: string;
  /** SERVICE_NODE_ADDRESS; absent: a node's InternalIP. */
  nodeAddress?: string;
  now: () => Date;
  log: Logger;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
/** What a stop keeps of the log when no watch said its archive bounds (1 MiB; all lines). */
const KEPT_LOG_LIMITS: LogLimits = { tail: Number.MAX_SAFE_INTEGER, maxBytes: 1 << 20 };

interface Watcher {
  limits: LogLimits;
  listener: (snapshot: JobRead) => void;
}

export class ServiceJobs {
  readonly #o: ServiceJobsOptions;
  readonly #calls: ServiceCalls | undefined;
  /** The informer's copy of our Deployments, by name. */
  readonly #deployments = new Map<string, V1Deployment>();
  /** Endpoint per Deployment uid: a Service's address never changes while it exists. */
  readonly #endpoints = new Map<string, string>();
  /** What the watcher was last told per name (status|healthy|endpoint); terminal ones once. */
  readonly #emitted = new Map<string, string>();
  /** The log of a service being stopped, read right before its pods went. */
  readonly #keptLogs = new Map<string, string>();
  /** Per name, the report in flight: reports of one job run in order. */
  readonly #reports = new Map<string, Promise<void>>();
  /** uids of Deployments we deleted ourselves: a late watch event must not bring them back. */
  readonly #deleted = new Set<string>();
  readonly #informer: KubeInformer | undefined;
  #watcher: Watcher | undefined;
  #synced = false;
  /** Whether the Deployments watch stream is open: the copy then holds every service job. */
  #watching = false;
  #closed = false;
  #delay = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: ServiceJobsOptions) {
    this.#o = o;
    this.#calls = o.client.services;
    // Only Deployments that carry the per-job label: another Deployment with our managed-by value
    // (a chart labelling everything alike) is no service job, never listed or adopted as one.
    this.#informer = this.#calls?.deploymentInformer(this.#serviceSelector(), {
      upsert: (d) => this.#upsert(d),
      remove: (d) => this.#remove(d),
      error: (err) => this.#failed(err),
      watching: (open) => {
        this.#watching = open;
      },
    });
  }

  async start(): Promise<void> {
    if (this.#informer === undefined || this.#closed) return;
    try {
      await this.#informer.start();
      this.#synced = true;
      this.#delay = FIRST_RETRY_MS;
    } catch (err) {
      this.#failed(err);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#informer?.stop().catch(() => undefined);
  }

  /** Whether the informer holds a service job of this name (read/delete route it here first). */
  knows(name: string): boolean {
    return this.#deployments.has(name);
  }

  /**
   * Whether a name that is no Job of ours may still be a service job: always, unless the live
   * informer copy says otherwise (so an unknown name costs one direct read, the Job's, not two).
   */
  mayExist(name: string): boolean {
    return !(this.#synced && this.#watching) || this.#deployments.has(name);
  }

  async create(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo> {
    assertServiceName(spec.name);
    const calls = this.#required();
    const deployment = toDeployment(spec, this.#o.manifest);
    const service = toService(spec, this.#o.manifest);
    if (spec.mounts.some((m) => m.kind === 'host')) await options.recheckMounts?.();
    // The Service first: a create cut short (a crash, a refused Deployment) then leaves at most a
    // Service, which list() does not show as a job and the next create of the jid replaces. A
    // Deployment left without its Service would be a job with no endpoint.
    const exposed = await this.#createService(calls, service);
    let created: V1Deployment;
    try {
      created = await calls.createDeployment(deployment);
    } catch (err) {
      // Nothing half-created: the Service made for it goes again.
      await calls.deleteService(spec.name).catch((e: unknown) => {
        this.#o.log.warn(
          { err: e, job: spec.name },
          'could not remove the service of a refused deployment',
        );
      });
      throw err;
    }
    options.onCreated?.();
    this.#deployments.set(spec.name, created);
    const endpoint = await this.#endpointOf(created, exposed);
    return fromDeployment(created, [], endpoint, this.#o.now(), STOPPED_AT_ANNOTATION);
  }

  /**
   * Creates the Service; one of ours of that name without a Deployment (left by a create or a
   * delete cut short) is replaced — it may name another port — instead of making the jid unusable.
   */
  async #createService(calls: ServiceCalls, body: V1Service): Promise<V1Service> {
    try {
      return await calls.createService(body);
    } catch (err) {
      const name = body.metadata?.name ?? '';
      if (!(err instanceof ConflictError)) throw err;
      const left = await calls.readService(name).catch(notFoundAs(undefined));
      if (left === undefined || !this.#isOurs(left, name)) throw err;
      if ((await this.#ours(name, false)) !== undefined) throw err;
      await gone(calls.deleteService(name));
      return calls.createService(body);
    }
  }

  /** The service job `name`, or undefined when no Deployment of ours has that name. */
  async read(name: string, options: ReadOptions = {}): Promise<JobRead | undefined> {
    // From the API: the informer's copy may lag a step the caller just saw elsewhere.
    const deployment = await this.#ours(name, false);
    if (deployment === undefined) return undefined;
    const pods = await this.#podsOf(name);
    const info = fromDeployment(
      deployment,
      pods,
      await this.#endpointOf(deployment),
      this.#o.now(),
      STOPPED_AT_ANNOTATION,
    );
    if (options.logs === undefined || info.status === 'notstarted') return { info, logs: '' };
    return { info, logs: await this.#logs(name, pods, options.logs) };
  }

  async list(): Promise<JobInfo[]> {
    const calls = this.#calls;
    if (calls === undefined) return [];
    const deployments = this.#synced
      ? [...this.#deployments.values()]
      : await calls.listDeployments(this.#serviceSelector());
    if (deployments.length === 0) return [];
    const pods = await this.#o.client.listPods(this.#serviceSelector());
    const now = this.#o.now();
    return Promise.all(
      deployments.map(async (d) => {
        const name = d.metadata?.name ?? '';
        const own = pods.filter((p) => p.metadata?.labels?.[SERVICE_JOB_LABEL] === name);
        const endpoint = await this.#endpointOf(d).catch(() => undefined);
        return fromDeployment(d, own, endpoint, now, STOPPED_AT_ANNOTATION);
      }),
    );
  }

  /** Each pod's log in turn, as for a batch Job's pods. */
  async *streamLogs(
    name: string,
    tail: number | undefined,
    options: StreamOptions,
  ): AsyncIterable<Uint8Array> {
    const follow = options.follow === true ? { signal: options.signal } : undefined;
    for (const pod of sortPods(await this.#podsOf(name))) {
      const podName = pod.metadata?.name;
      if (podName === undefined) continue;
      if (options.signal?.aborted === true) return;
      yield* await this.#o.client.streamPodLog(podName, name, tail, follow);
    }
  }

  /**
   * Deletes the Service, then the Deployment (its pods with it); false when neither exists. In that
   * order: a delete cut short leaves the Deployment, which list() shows and the reconciler deletes
   * again, never a Service nobody lists (holding its clusterIP or node port).
   */
  async delete(name: string): Promise<boolean> {
    const calls = this.#calls;
    if (calls === undefined) return false;
    const service = await calls.readService(name).catch(notFoundAs(undefined));
    let removed = false;
    if (service !== undefined && this.#isOurs(service, name)) {
      removed = await gone(calls.deleteService(name));
    }
    const deployment = await this.#ours(name, false);
    if (deployment !== undefined) {
      removed = (await gone(calls.deleteDeployment(name))) || removed;
    }
    const uid = deployment?.metadata?.uid;
    if (uid !== undefined) this.#deleted.add(uid);
    this.#forget(name, uid);
    return removed;
  }

  /**
   * Stops the service for good: the log is read and kept (the pods go), then replicas 0 with the
   * moment as an annotation. The Deployment and Service stay until delete. A stopped one is left alone.
   */
  async stop(name: string): Promise<boolean> {
    const deployment = await this.#ours(name, false);
    if (deployment === undefined) return false;
    if (deployment.metadata?.annotations?.[STOPPED_AT_ANNOTATION] !== undefined) return true;
    const pods = await this.#podsOf(name);
    if (pods.length > 0) {
      const limits = this.#watcher?.limits ?? KEPT_LOG_LIMITS;
      const logs = await jobLogTail(this.#o.client, name, pods, limits).catch(() => undefined);
      if (logs !== undefined) this.#keptLogs.set(name, logs);
    }
    await this.#required().stopDeployment(name, formatStamp(this.#o.now(), this.#o.now()));
    return true;
  }

  watch(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#watcher = { limits, listener };
    for (const name of this.#deployments.keys()) this.changed(name);
  }

  /** A Deployment or one of its pods changed: tell the watcher when what it sees differs. */
  changed(name: string): void {
    if (this.#watcher === undefined || !this.#deployments.has(name)) return;
    const previous = this.#reports.get(name) ?? Promise.resolve();
    const next = previous
      .then(() => this.#report(name))
      .catch((err: unknown) => this.#o.log.warn({ err, job: name }, 'service job report failed'))
      .finally(() => {
        if (this.#reports.get(name) === next) this.#reports.delete(name);
      });
    this.#reports.set(name, next);
  }

  async #report(name: string): Promise<void> {
    const watcher = this.#watcher;
    const deployment = this.#deployments.get(name);
    if (watcher === undefined || deployment === undefined) return;
    const pods = await this.#podsOf(name);
    const endpoint = await this.#endpointOf(deployment).catch(() => undefined);
    const info = fromDeployment(deployment, pods, endpoint, this.#o.now(), STOPPED_AT_ANNOTATION);
    const key = `${info.status}|${String(info.service?.healthy)}|${endpoint ?? ''}`;
    const last = this.#emitted.get(name);
    if (last === key || last?.startsWith('finishedWithError|') === true) return;
    this.#emitted.set(name, key);
    if (info.status !== 'finishedWithError') {
      watcher.listener({ info, logs: '' });
      return;
    }
    const logs = await this.#logs(name, pods, watcher.limits).catch(() => '');
    // Deleted by us while its log was read: a late snapshot must not bring it back.
    if (this.#deployments.get(name)?.metadata?.uid !== deployment.metadata?.uid) return;
    this.#keptLogs.delete(name);
    watcher.listener({ info, logs });
  }

  /** The pods' log, or the log kept at stop once they are gone. */
  async #logs(name: string, pods: readonly V1Pod[], limits: LogLimits): Promise<string> {
    const logs = pods.length === 0 ? '' : await jobLogTail(this.#o.client, name, pods, limits);
    const kept = this.#keptLogs.get(name);
    return logs === '' && kept !== undefined ? boundLogText(kept, limits) : logs;
  }

  /** Our Deployment `name` (the informer's copy first when `copy`), else undefined. */
  async #ours(name: string, copy = true): Promise<V1Deployment | undefined> {
    const calls = this.#calls;
    if (calls === undefined) return undefined;
    const viewed = copy ? this.#deployments.get(name) : undefined;
    const deployment = viewed ?? (await calls.readDeployment(name).catch(notFoundAs(undefined)));
    return deployment !== undefined && this.#isOurs(deployment, name) ? deployment : undefined;
  }

  /** Whether an object is this instance's, of the service job `name` (by its labels). */
  #isOurs(object: V1Deployment | V1Service, name: string): boolean {
    const labels = object.metadata?.labels;
    return (
      labels?.[KUBE_MANAGED_BY_LABEL] === this.#o.managedBy && labels[SERVICE_JOB_LABEL] === name
    );
  }

  /** Our objects of service jobs: the managed-by selector and the per-job label. */
  #serviceSelector(): string {
    return `${this.#o.selector},${SERVICE_JOB_LABEL}`;
  }

  #podsOf(name: string): Promise<V1Pod[]> {
    return this.#o.client.listPods(`${this.#o.selector},${SERVICE_JOB_LABEL}=${name}`);
  }

  /** The endpoint, read from the Service once per Deployment (restart-safe: the API keeps it). */
  async #endpointOf(deployment: V1Deployment, known?: V1Service): Promise<string | undefined> {
    const uid = deployment.metadata?.uid ?? '';
    const cached = this.#endpoints.get(uid);
    if (cached !== undefined) return cached;
    const name = deployment.metadata?.name ?? '';
    const service =
      known ?? (await this.#required().readService(name).catch(notFoundAs(undefined)));
    if (service === undefined) return undefined;
    const address = service.spec?.type === 'NodePort' ? await this.#nodeAddress() : undefined;
    const endpoint = serviceEndpoint(service, address);
    if (endpoint !== undefined && uid !== '') this.#endpoints.set(uid, endpoint);
    return endpoint;
  }

  async #nodeAddress(): Promise<string | undefined> {
    if (this.#o.nodeAddress !== undefined) return this.#o.nodeAddress;
    const nodes = await this.#o.client.listNodes?.().catch((err: unknown) => {
      this.#o.log.warn(
        { err },
        'cannot list nodes for a NodePort endpoint; set SERVICE_NODE_ADDRESS',
      );
      return [];
    });
    return nodeAddress(nodes ?? []);
  }

  #required(): ServiceCalls {
    if (this.#calls === undefined) throw new Error('this Kubernetes client has no service calls');
    return this.#calls;
  }

  #upsert(deployment: V1Deployment): void {
    const name = deployment.metadata?.name;
    const uid = deployment.metadata?.uid;
    if (name === undefined || (uid !== undefined && this.#deleted.has(uid))) return;
    this.#deployments.set(name, deployment);
    this.changed(name);
  }

  #remove(deployment: V1Deployment): void {
    const name = deployment.metadata?.name;
    if (name === undefined) return;
    const known = this.#deployments.get(name);
    if (known !== undefined && known.metadata?.uid !== deployment.metadata?.uid) return;
    // Gone for good: its uid is never seen again, so the guard against late events can go too.
    if (deployment.metadata?.uid !== undefined) this.#deleted.delete(deployment.metadata.uid);
    this.#forget(name, deployment.metadata?.uid);
  }

  #forget(name: string, uid: string | undefined): void {
    this.#deployments.delete(name);
    this.#emitted.delete(name);
    this.#keptLogs.delete(name);
    if (uid !== undefined) this.#endpoints.delete(uid);
  }

  #failed(err: unknown): void {
    this.#watching = false;
    if (this.#closed) return;
    this.#o.log.warn(
      { err, informer: 'deployments', retryMs: this.#delay },
      'kubernetes watch failed; restarting',
    );
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.start(), this.#delay);
    this.#timer.unref();
    this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS);
  }
}

/** Resolves true once deleted, false when it was not there. */
async function gone(deleting: Promise<void>): Promise<boolean> {
  try {
    await deleting;
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

function notFoundAs<T>(value: T): (err: unknown) => T {
  return (err) => {
    if (err instanceof NotFoundError) return value;
    throw err;
  };
}
