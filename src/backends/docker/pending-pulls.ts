// Jobs accepted while their image was still being pulled (api.md §9.1): they have no container
// yet, so they are the one thing the docker backend answers from memory. A pull that fails within
// IMAGE_PULL_WAIT_SECONDS is a 400 and nothing is kept; one still running continues in the
// background and then creates and starts the container, or records why it could not.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { InvalidSpecError, TooManyRequestsError } from '../../domain/errors.js';
import type { JobInfo, JobSpec } from '../../domain/job.js';
import type { CreateOptions } from '../backend.js';
import type { Containers } from './containers.js';
import { PullFailure, startPull, waitForPull } from './pull.js';
import type { Pull } from './pull.js';
import { fromPending } from './status.js';
import type { PendingView } from './status.js';

interface PendingJob {
  view: PendingView;
  pull: Pull;
  /** Set by delete/close: the background task must not create (or must remove) the container. */
  cancelled: boolean;
  task: Promise<void>;
}

export interface PendingPullsOptions {
  docker: Docker;
  containers: Containers;
  /** Creates and starts the container once the image is there (re-checking the mounts). */
  start: (spec: JobSpec, options: CreateOptions) => Promise<unknown>;
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
   * Pulls the image, waiting at most the pull wait. A pull that fails in that time is an
   * InvalidSpecError; one still running is left to finish in the background and the job answered
   * as pending (undefined: the image arrived within the wait, the caller creates the container).
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
    try {
      if ((await waitForPull(pull, this.#o.waitMs)) === 'done') return undefined;
    } catch (err) {
      if (err instanceof PullFailure) {
        throw new InvalidSpecError(`image "${spec.image}" could not be pulled: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
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
    job.task = this.#finishInBackground(spec, options, job);
    this.#jobs.set(spec.name, job);
    return fromPending(job.view);
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
    job.pull.cancel();
  }

  async #finishInBackground(spec: JobSpec, options: CreateOptions, job: PendingJob): Promise<void> {
    const fail = (message: string, err: unknown): void => {
      if (job.cancelled) return;
      job.view = { ...job.view, failure: { message, at: this.#o.now().toISOString() } };
      this.#o.log.warn({ err, job: spec.name }, message);
    };
    try {
      await job.pull.done;
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
