// The informer-fed view of our Jobs and pods (kubernetes.md §1): list() and, while it is live,
// read() use it; the recorder watches it. Informers that fail are restarted with backoff (1 s doubling to 30 s, §7.7).
import type { Logger } from 'pino';
import type { KubeClient, KubeInformer, V1Job, V1Pod } from './client.js';

const JOB_NAME_LABELS = ['batch.kubernetes.io/job-name', 'job-name'] as const;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** The Job a pod belongs to: its controller owner, else the job-name labels. */
export function jobNameOfPod(pod: V1Pod): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find(
    (o) => o.kind === 'Job' && o.controller === true,
  );
  if (owner !== undefined) return owner.name;
  for (const key of JOB_NAME_LABELS) {
    const value = pod.metadata?.labels?.[key];
    if (value !== undefined) return value;
  }
  return undefined;
}

export interface ClusterViewOptions {
  client: KubeClient;
  labelSelector: string;
  log: Logger;
  /** Called after every change of a Job or one of its pods (the recorder hooks in here). */
  onChange?: (jobName: string) => void;
  /** Called when a Job leaves the cluster by anyone's hand but ours (TTL, kubectl delete). */
  onGone?: (jobName: string) => void;
  /** Called after every pod change (service jobs' pods have no Job: issue 15). */
  onPod?: (pod: V1Pod) => void;
}

interface InformerEntry {
  name: 'jobs' | 'pods';
  informer: KubeInformer;
  /** Next restart delay. */
  delay: number;
  /** Errors seen so far: start() resolves even when its list failed (client-node emits 'error'). */
  errors: number;
  /** Whether its watch stream is open right now (not re-listing, re-watching or in backoff). */
  watching: boolean;
  timer?: NodeJS.Timeout;
}

export class ClusterView {
  readonly #jobs = new Map<string, V1Job>();
  readonly #pods = new Map<string, V1Pod>();
  /** uids of Jobs we deleted ourselves: a late watch event must not bring them back. */
  readonly #deleted = new Set<string>();
  readonly #opts: ClusterViewOptions;
  readonly #informers: InformerEntry[] = [];
  #closed = false;
  #synced = { jobs: false, pods: false };

  /** Builds the informers; nothing runs until start(). */
  constructor(opts: ClusterViewOptions) {
    this.#opts = opts;
    const { client, labelSelector } = opts;
    const jobs = client.jobInformer(labelSelector, {
      upsert: (job) => this.#upsertJob(job),
      remove: (job) => this.#removeJob(job),
      error: (err) => this.#failed('jobs', err),
      watching: (open) => this.#watching('jobs', open),
    });
    const pods = client.podInformer(labelSelector, {
      upsert: (pod) => this.#upsertPod(pod),
      remove: (pod) => this.#removePod(pod),
      error: (err) => this.#failed('pods', err),
      watching: (open) => this.#watching('pods', open),
    });
    for (const [name, informer] of [
      ['jobs', jobs],
      ['pods', pods],
    ] as const) {
      this.#informers.push({ name, informer, delay: FIRST_RETRY_MS, errors: 0, watching: false });
    }
  }

  /** Lists and starts watching; a failure is logged and retried in the background. */
  async start(): Promise<void> {
    await Promise.all(this.#informers.map((entry) => this.#start(entry)));
  }

  /** Whether both informers have listed at least once (list() may then be served from memory). */
  get synced(): boolean {
    return this.#synced.jobs && this.#synced.pods;
  }

  /**
   * Whether get() may answer from memory: both informers have listed and both watch streams are
   * open. While a stream is down, re-listing or in backoff, changes can be missed.
   */
  get live(): boolean {
    return !this.#closed && this.synced && this.#informers.every((e) => e.watching);
  }

  jobs(): V1Job[] {
    return [...this.#jobs.values()];
  }

  job(name: string): V1Job | undefined {
    return this.#jobs.get(name);
  }

  podsOf(jobName: string): V1Pod[] {
    return [...this.#pods.values()].filter((p) => jobNameOfPod(p) === jobName);
  }

  /**
   * The pods the Job's own selector matches (as the direct pod list does), so pods of an earlier
   * Job of the same name, still being garbage-collected, are not counted.
   */
  podsMatching(job: V1Job): V1Pod[] {
    const name = job.metadata?.name;
    const match = Object.entries(job.spec?.selector?.matchLabels ?? {});
    if (name === undefined) return [];
    return this.podsOf(name).filter((p) => match.every(([k, v]) => p.metadata?.labels?.[k] === v));
  }

  /** Our own create: visible to list() at once, before the watch delivers it. */
  created(job: V1Job): void {
    this.#upsertJob(job);
  }

  /** Our own delete: gone from list() at once, and kept gone against late watch events. */
  deleted(name: string): void {
    const job = this.#jobs.get(name);
    const uid = job?.metadata?.uid;
    if (uid !== undefined) this.#deleted.add(uid);
    this.#jobs.delete(name);
    for (const [key, pod] of this.#pods) if (jobNameOfPod(pod) === name) this.#pods.delete(key);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#informers) clearTimeout(entry.timer);
    await Promise.all(this.#informers.map((e) => e.informer.stop().catch(() => undefined)));
  }

  async #start(entry: InformerEntry): Promise<void> {
    if (this.#closed) return;
    const errorsBefore = entry.errors;
    try {
      await entry.informer.start();
      if (entry.errors !== errorsBefore) return;
      entry.delay = FIRST_RETRY_MS;
      if (entry.name === 'jobs') this.#synced.jobs = true;
      else this.#synced.pods = true;
    } catch (err) {
      this.#failed(entry.name, err);
    }
  }

  #watching(name: InformerEntry['name'], open: boolean): void {
    const entry = this.#informers.find((e) => e.name === name);
    if (entry !== undefined) entry.watching = open;
  }

  #failed(name: InformerEntry['name'], err: unknown): void {
    const entry = this.#informers.find((e) => e.name === name);
    if (entry === undefined || this.#closed) return;
    entry.errors++;
    entry.watching = false;
    this.#opts.log.warn(
      { err, informer: name, retryMs: entry.delay },
      'kubernetes watch failed; restarting',
    );
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void this.#start(entry), entry.delay);
    entry.timer.unref();
    entry.delay = Math.min(entry.delay * 2, MAX_RETRY_MS);
  }

  #upsertJob(job: V1Job): void {
    const name = job.metadata?.name;
    const uid = job.metadata?.uid;
    if (name === undefined || (uid !== undefined && this.#deleted.has(uid))) return;
    const known = this.#jobs.get(name);
    // Never step back to an older version (our own create may be newer than a replayed event).
    if (known !== undefined && known.metadata?.uid === uid && olderThan(job, known)) return;
    this.#jobs.set(name, job);
    this.#opts.onChange?.(name);
  }

  #removeJob(job: V1Job): void {
    const name = job.metadata?.name;
    if (name === undefined) return;
    const known = this.#jobs.get(name);
    if (known !== undefined && known.metadata?.uid !== job.metadata?.uid) return;
    this.#jobs.delete(name);
    if (known !== undefined) this.#opts.onGone?.(name);
  }

  #upsertPod(pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (name === undefined) return;
    this.#pods.set(name, pod);
    this.#opts.onPod?.(pod);
    const job = jobNameOfPod(pod);
    if (job !== undefined) this.#opts.onChange?.(job);
  }

  #removePod(pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (name !== undefined) this.#pods.delete(name);
  }
}

/**
 * Whether pods from the copy account for what the Job's status counts: every uncounted finished
 * pod present, at least as many pods as counted, and at least as many Succeeded/Failed ones as
 * counted as such. Otherwise the pod watch is behind (or pods were removed) and the caller lists
 * them directly; that is never wrong, only one call dearer.
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

function olderThan(a: V1Job, b: V1Job): boolean {
  const ra = Number(a.metadata?.resourceVersion);
  const rb = Number(b.metadata?.resourceVersion);
  // resourceVersions are opaque in general; compare only when both are plain integers (etcd's are).
  return Number.isSafeInteger(ra) && Number.isSafeInteger(rb) && ra < rb;
}
