// Jobs without a container that the docker backend answers from memory (api.md §9.1): accepted
// while their image is pulled in the background (at once by default; IMAGE_PULL_WAIT_SECONDS may
// wait a little for it first), and jobs whose pull or start failed after create answered. Those
// stay finishedWithError with the reason until DELETE, and CreateOptions.onFailed hears of it.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { TooManyRequestsError } from '../../domain/errors.js';
import type { JobInfo, JobSpec } from '../../domain/job.js';
import type { CreateOptions } from '../backend.js';
import type { Containers } from './containers.js';
import { startPull, waitForPull } from './pull.js';
import type { Pull } from './pull.js';
import { fromPending } from './status.js';
import type { PendingView } from './status.js';

interface PendingJob {
  view: PendingView;
  /** Undefined for a job whose start failed (no pull involved). */
  pull: Pull | undefined;
  /** Set by delete/close: the background task must not create (or must remove) the container. */
  cancelled: boolean;
  task: Promise<void>;
}

export interface PendingPullsOptions {
  docker: Docker;
  containers: Containers;
  /** Creates and starts the container once the image is there (re-checking the mounts). */
  start: (spec: JobSpec, options: CreateOptions) => Promise<unknown>;
  /** IMAGE_PULL_WAIT_SECONDS in ms: how long create waits for the image (0: not at all). */
  waitMs: number;
  pullTimeoutMs: number;
  /** Pulls running at once at most (MAX_CONCURRENT_PULLS); a create needing another gets 429. */
  maxPulls: number;
  log: Logger;
  now: () => Date;
}

export class PendingPulls {
  readonly #jobs = new Map<string, PendingJob>();
  readonly #o: PendingPullsOptions;
  /** Pulls started and not settled yet, per image (whether a create still waits on them or not):
   *  the cap counts distinct images, so a fan-out of jobs on one new image is never refused. */
  readonly #pulling = new Map<string, number>();

  constructor(options: PendingPullsOptions) {
    this.#o = options;
  }

  has(name: string): boolean {
    return this.#jobs.has(name);
  }

  /** The job while its image is pulling (or after the pull failed), else undefined. */
  info(name: string): JobInfo | undefined {
    const job = this.#jobs.get(name);
    return job === undefined ? undefined : fromPending(job.view);
  }

  list(): JobInfo[] {
    return [...this.#jobs.values()].map((j) => fromPending(j.view));
  }

  /**
   * Pulls the image in the background. With a pull wait it waits that long first: undefined when
   * the image arrived in time (the caller creates the container). Otherwise the job is answered
   * as pending at once and the pull goes on; its failure (even within the wait) ends the job
   * finishedWithError and reaches `options.onFailed`, as a refused start would.
   */
  async pullOrPend(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo | undefined> {
    // Each pull holds an engine stream and disk bandwidth for minutes: bounded, so a burst of
    // creates with new images cannot start an unbounded number of them.
    const image = spec.image;
    if (!this.#pulling.has(image) && this.#pulling.size >= this.#o.maxPulls) {
      throw new TooManyRequestsError(
        `${this.#o.maxPulls} images are already being pulled; retry shortly`,
        { retryAfterSeconds: 5 },
      );
    }
    const pull = startPull(this.#o.docker, spec.image, this.#o.pullTimeoutMs);
    this.#pulling.set(image, (this.#pulling.get(image) ?? 0) + 1);
    const settled = (): void => {
      const left = (this.#pulling.get(image) ?? 1) - 1;
      if (left > 0) this.#pulling.set(image, left);
      else this.#pulling.delete(image);
    };
    pull.done.then(settled, settled);
    if (this.#o.waitMs > 0) {
      // A failure within the wait is answered like one after it: 201, then finishedWithError.
      const outcome = await waitForPull(pull, this.#o.waitMs).catch(() => 'failed' as const);
      if (outcome === 'done') return undefined;
    }
    const job = this.#add(spec, pull);
    job.task = this.#finishInBackground(spec, options, job, pull);
    return fromPending(job.view);
  }

  /**
   * A job whose container could not be started after create answered (the container is already
   * removed): finishedWithError with `message` until DELETE; `onFailed` hears of it.
   */
  failed(spec: JobSpec, message: string, options: CreateOptions = {}): JobInfo {
    const job = this.#add(spec, undefined);
    return this.#fail(job, message, options) ?? fromPending(job.view);
  }

  /** Cancels a pending job's pull (and removes a container it made meanwhile); false when the
   *  job is not pending. */
  async delete(name: string): Promise<boolean> {
    const job = this.#jobs.get(name);
    if (job === undefined) return false;
    this.#cancel(job);
    this.#jobs.delete(name);
    // The background task may have created the container just now; it is ours, so remove it.
    if ((await this.#o.containers.inspectOurs(name)) !== undefined) {
      await this.#o.containers.remove(name);
    }
    return true;
  }

  /** Cancels every pull and waits for the background tasks to stop. */
  async close(): Promise<void> {
    const jobs = [...this.#jobs.values()];
    for (const job of jobs) this.#cancel(job);
    this.#jobs.clear();
    await Promise.allSettled(jobs.map((j) => j.task));
  }

  #cancel(job: PendingJob): void {
    job.cancelled = true;
    job.pull?.cancel();
  }

  #add(spec: JobSpec, pull: Pull | undefined): PendingJob {
    const job: PendingJob = {
      view: {
        name: spec.name,
        image: spec.image,
        command: spec.command,
        acceptedAt: this.#o.now().toISOString(),
      },
      pull,
      cancelled: false,
      task: Promise.resolve(),
    };
    this.#jobs.set(spec.name, job);
    return job;
  }

  /**
   * Ends the job finishedWithError (unless deleted meanwhile) and tells `onFailed` — on a later
   * turn of the event loop, so the caller of create always has its answer first.
   */
  #fail(job: PendingJob, message: string, options: CreateOptions): JobInfo | undefined {
    if (job.cancelled) return undefined;
    job.view = { ...job.view, failure: { message, at: this.#o.now().toISOString() } };
    const info = fromPending(job.view);
    const onFailed = options.onFailed;
    if (onFailed !== undefined) {
      setImmediate(() => {
        if (!job.cancelled) onFailed(info);
      });
    }
    return info;
  }

  async #finishInBackground(
    spec: JobSpec,
    options: CreateOptions,
    job: PendingJob,
    pull: Pull,
  ): Promise<void> {
    const fail = (message: string, err: unknown): void => {
      if (job.cancelled) return;
      this.#o.log.warn({ err, job: spec.name }, message);
      this.#fail(job, message, options);
    };
    try {
      await pull.done;
    } catch (err) {
      fail(`image pull failed: ${errorText(err)}`, err);
      return;
    }
    if (job.cancelled) return;
    try {
      // A pull can take minutes: start() re-checks the mounts right before create and start, and a
      // refusal (a folder swapped for a symlink meanwhile) fails the job with that message.
      await this.#o.start(spec, options);
    } catch (err) {
      fail(`container could not be started: ${errorText(err)}`, err);
      return;
    }
    if (job.cancelled) {
      // Deleted while its container was being made: remove what was just created.
      await this.#o.containers.removeQuietly(spec.name);
      return;
    }
    // From now on the container answers for the job.
    if (this.#jobs.get(spec.name) === job) this.#jobs.delete(spec.name);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
