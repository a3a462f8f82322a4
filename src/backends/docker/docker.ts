// DockerBackend (Docker Engine, and Podman through its Docker-compatible API): one container per
// job, created then started. Pulls with a bounded wait, inspect → JobInfo, bounded logs, forced
// remove. The engine is the source of truth: every answer is derived from it, except jobs whose
// image is still being pulled (they have no container yet) — api.md §9.1, architecture.md §5.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { DockerBackendConfig } from '../../config/config.js';
import {
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
} from '../../domain/errors.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../shared/labels.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import { collectTail } from '../../domain/logs.js';
import type { Backend, BackendDeps, Capabilities, JobRead, ReadOptions } from '../backend.js';
import { dockerCapabilities } from '../shared/capabilities.js';
import type { EngineInfo } from '../shared/capabilities.js';
import { createDockerClient, engineCall, engineMessage } from '../shared/engine-client.js';
import type { ErrorContext } from '../shared/engine-client.js';
import { demux } from '../shared/demux.js';
import { Refresher, watchEvents } from '../shared/events.js';
import type { EngineEvent, EventWatch } from '../shared/events.js';
import { LogsCache } from '../shared/log-cache.js';
import { JobView } from '../shared/job-cache.js';
import { openLogStream } from './log-stream.js';
import { toContainerCreate } from './manifest.js';
import { PullFailure, startPull, waitForPull } from './pull.js';
import type { Pull } from './pull.js';
import { fromContainer, fromPending, hasStarted } from './status.js';
import type { ContainerView, PendingView } from './status.js';

/** A job accepted while its image was still being pulled: it has no container yet. */
interface PendingJob {
  view: PendingView;
  pull: Pull;
  /** Set by delete/close: the background task must not create (or must remove) the container. */
  cancelled: boolean;
  task: Promise<void>;
}

const LIST_CONCURRENCY = 8;
/** Full re-read of our containers (only changed ones are inspected); also after reconnects. */
const RESYNC_MS = 30_000;
/** Log tails of running jobs are reused this long (CUBE polls every few seconds). */
const LOGS_TTL_MS = 1_000;
const MANAGED_FILTER = `${DOCKER_MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
/** Container events that can change a job's status ("destroy" is handled apart; exec, attach,
 *  resize, health and copy events cannot). */
const STATE_EVENTS = new Set([
  'create',
  'start',
  'restart',
  'die',
  'oom',
  'pause',
  'unpause',
  'rename',
  'update',
]);

/** Probes the engine (ping, /info) and builds the backend. Engine unreachable → BackendUnavailableError. */
export async function createDockerBackend(
  cfg: DockerBackendConfig,
  deps: BackendDeps,
): Promise<Backend> {
  const docker = await createDockerClient(cfg.engine);
  await engineCall(deps.timeoutMs, {}, () => docker.ping() as Promise<unknown>);
  const info = (await engineCall(deps.timeoutMs, {}, () => docker.info() as Promise<unknown>)) as
    EngineInfo | undefined;
  const capabilities = dockerCapabilities(info ?? {}, { ignoreLimits: cfg.ignoreLimits });
  const backend = new DockerBackend(docker, cfg, capabilities, deps);
  backend.watch();
  return backend;
}

export class DockerBackend implements Backend {
  readonly name = 'docker' as const;
  readonly capabilities: Capabilities;
  readonly #docker: Docker;
  readonly #cfg: DockerBackendConfig;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #now: () => Date;
  /** Jobs waiting for (or failed in) a background pull, until they get a container or are deleted. */
  readonly #pending = new Map<string, PendingJob>();
  /** Names inside a create() call right now, so two concurrent creates cannot both pass the check. */
  readonly #reserved = new Set<string>();
  /** Our containers as the engine last reported them; answers status GETs while fresh. */
  readonly #view = new JobView<ContainerView>({ maxAgeMs: 2 * RESYNC_MS });
  readonly #logsCache = new LogsCache(LOGS_TTL_MS);
  readonly #refresher = new Refresher();
  #watcher: EventWatch | undefined;

  constructor(
    docker: Docker,
    cfg: DockerBackendConfig,
    capabilities: Capabilities,
    deps: BackendDeps,
  ) {
    this.#docker = docker;
    this.#cfg = cfg;
    this.capabilities = capabilities;
    this.#timeoutMs = deps.timeoutMs;
    this.#log = deps.log.child({ backend: 'docker' });
    this.#now = deps.now ?? (() => new Date());
  }

  async create(spec: JobSpec): Promise<JobInfo> {
    const name = spec.name;
    if (this.#reserved.has(name) || this.#pending.has(name)) throw conflict(name);
    this.#reserved.add(name);
    try {
      // Checked before any pull, so a duplicate never waits for (or triggers) a download.
      if ((await this.#inspect(name)) !== undefined) throw conflict(name);
      if (!(await this.#imagePresent(spec.image))) {
        const pending = await this.#pullOrPend(spec);
        if (pending !== undefined) return pending;
      }
      return await this.#createAndStart(spec);
    } finally {
      this.#reserved.delete(name);
    }
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const info = await this.get(name);
    const logs =
      options.logs === undefined || info.status === 'notstarted'
        ? ''
        : await this.logs(name, options.logs);
    return { info, logs };
  }

  async get(name: string): Promise<JobInfo> {
    const pending = this.#pending.get(name);
    if (pending !== undefined) return fromPending(pending.view);
    return fromContainer(this.#view.lookup(name) ?? (await this.#read(name)));
  }

  async logs(name: string, limits: LogLimits): Promise<string> {
    if (this.#pending.has(name)) return '';
    const cached = this.#view.lookup(name);
    const container = cached ?? (await this.#read(name));
    if (!hasStarted(container) || limits.tail <= 0 || limits.maxBytes <= 0) return '';
    // Only a running job's tail is reused: a terminal one is read once, complete, and pinned.
    if (cached === undefined || fromContainer(cached).status !== 'started') {
      return this.#readLogs(name, limits);
    }
    return this.#logsCache.get(name, `${limits.tail}:${limits.maxBytes}`, () =>
      this.#readLogs(name, limits),
    );
  }

  async #readLogs(name: string, limits: LogLimits): Promise<string> {
    // One bound for the whole read: the tail is small, and a hung engine must not hang a GET.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      return await engineCall(this.#timeoutMs, { name }, async () => {
        const stream = await openLogStream(this.#docker, name, limits.tail, controller.signal);
        try {
          return await collectTail(demux(stream), limits);
        } finally {
          stream.destroy();
        }
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async *streamLogs(name: string, tail?: number): AsyncIterable<Uint8Array> {
    if (this.#pending.has(name)) return;
    const container = await this.#ours(name);
    if (!hasStarted(container) || tail === 0) return;
    // Only opening the stream is bounded; the body may legitimately take long to read.
    const controller = new AbortController();
    const stream = await engineCall(this.#timeoutMs, { name }, () =>
      openLogStream(this.#docker, name, tail, controller.signal),
    );
    try {
      yield* demux(stream);
    } finally {
      controller.abort();
      stream.destroy();
    }
  }

  async delete(name: string): Promise<void> {
    const pending = this.#pending.get(name);
    if (pending !== undefined) {
      pending.cancelled = true;
      pending.pull.cancel();
      this.#pending.delete(name);
      // The background task may have created the container just now; it is ours, so remove it.
      if ((await this.#inspectOurs(name)) !== undefined) await this.#remove(name);
      return;
    }
    await this.#ours(name);
    await this.#remove(name);
    this.#forget(name);
  }

  async list(): Promise<JobInfo[]> {
    const summaries = await this.#call({}, (signal) =>
      this.#docker.listContainers({
        all: true,
        filters: { label: [`${DOCKER_MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`] },
        abortSignal: signal,
      }),
    );
    const names = summaries
      .map((s) => (s.Names[0] ?? '').replace(/^\/+/, ''))
      .filter((n) => n !== '' && !this.#pending.has(n));
    const jobs = await mapLimited(names, LIST_CONCURRENCY, async (n) => {
      const c = await this.#inspectOurs(n);
      return c === undefined ? undefined : fromContainer(c);
    });
    const pending = [...this.#pending.values()].map((p) => fromPending(p.view));
    return [...jobs.filter((j): j is JobInfo => j !== undefined), ...pending];
  }

  async ping(): Promise<void> {
    await this.#call({}, () => this.#docker.ping() as Promise<unknown>);
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#view.markDown();
    const jobs = [...this.#pending.values()];
    for (const job of jobs) {
      job.cancelled = true;
      job.pull.cancel();
    }
    this.#pending.clear();
    await Promise.allSettled(jobs.map((j) => j.task));
  }

  /** Starts the event-fed job view (called once by the factory; a backend without it asks the
   *  engine for every answer). */
  watch(): void {
    if (this.#watcher !== undefined) return;
    this.#watcher = watchEvents({
      docker: this.#docker,
      filters: { type: ['container'], label: [MANAGED_FILTER] },
      onEvent: (event) => this.#onEvent(event),
      resync: () => this.#resync(),
      onDown: () => this.#view.markDown(),
      log: this.#log.child({ component: 'view' }),
      resyncMs: RESYNC_MS,
      heartbeat: () => this.ping(),
    });
  }

  // ---------------------------------------------------------------------------------------------

  /** Our container from the engine, stored in the view unless an event overtook the read. */
  async #read(name: string): Promise<ContainerView> {
    const ticket = this.#view.ticket();
    const c = await this.#ours(name);
    this.#view.store(name, trim(c), ticket);
    return c;
  }

  #forget(name: string): void {
    this.#view.remove(name);
    this.#logsCache.forget(name);
  }

  /** One inspect per event, for that container only; never a full relist. */
  #onEvent(event: EngineEvent): void {
    const name = event.attributes.name;
    if (name === undefined) return;
    if (event.action === 'destroy') {
      this.#forget(name);
      return;
    }
    if (!STATE_EVENTS.has(event.action)) return;
    this.#view.invalidate(name);
    this.#logsCache.forget(name);
    this.#refresher.run(name, () =>
      this.#read(name).then(
        () => undefined,
        (err: unknown) => {
          // Gone meanwhile: forget it. Other failures leave it unsettled (direct reads) until a resync.
          if (err instanceof NotFoundError) this.#forget(name);
        },
      ),
    );
  }

  /** One list call; only containers whose state differs from the view's are inspected again. */
  async #resync(): Promise<void> {
    const ticket = this.#view.ticket();
    const summaries = await this.#call({}, (signal) =>
      this.#docker.listContainers({
        all: true,
        filters: { label: [MANAGED_FILTER] },
        abortSignal: signal,
      }),
    );
    const entries = new Map<string, ContainerView>();
    const changed: string[] = [];
    for (const s of summaries) {
      const name = (s.Names[0] ?? '').replace(/^\/+/, '');
      if (name === '') continue;
      const known = this.#view.peek(name);
      if (known !== undefined && known.State.Status === s.State) entries.set(name, known);
      else changed.push(name);
    }
    await mapLimited(changed, LIST_CONCURRENCY, async (name) => {
      const c = await this.#inspectOurs(name);
      if (c !== undefined) entries.set(name, trim(c));
    });
    this.#view.replaceAll(entries, ticket);
  }

  #call<T>(ctx: ErrorContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return engineCall(this.#timeoutMs, ctx, fn);
  }

  /** The container named exactly `name` (ours or not), or undefined. */
  async #inspect(name: string): Promise<ContainerView | undefined> {
    try {
      const c = await this.#call({ name }, (signal) =>
        this.#docker.getContainer(name).inspect({ abortSignal: signal }),
      );
      // The engine also resolves ID prefixes; only an exact name match is this job.
      return c.Name.replace(/^\/+/, '') === name ? c : undefined;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Our container of that name, or undefined. A foreign container of the same name is not a job:
   *  get/logs/delete answer NotFound for it (it is never removed), and create answers Conflict. */
  async #inspectOurs(name: string): Promise<ContainerView | undefined> {
    const c = await this.#inspect(name);
    return c?.Config.Labels?.[DOCKER_MANAGED_BY_LABEL] === MANAGED_BY_VALUE ? c : undefined;
  }

  async #ours(name: string): Promise<ContainerView> {
    const c = await this.#inspectOurs(name);
    if (c === undefined) throw new NotFoundError(`job "${name}" not found`);
    return c;
  }

  async #remove(name: string): Promise<void> {
    try {
      await this.#call({ name }, (signal) =>
        this.#docker.getContainer(name).remove({ force: true, v: true, abortSignal: signal }),
      );
    } catch (err) {
      // 409 "removal already in progress": it is going away, which is what was asked.
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  /** Best effort, for cleaning up after a failed create: never masks the original error. */
  async #removeQuietly(name: string): Promise<void> {
    try {
      await this.#remove(name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) {
        this.#log.warn({ err, job: name }, 'could not remove the container of a failed create');
      }
    }
  }

  async #imagePresent(image: string): Promise<boolean> {
    try {
      // Image inspect takes no abort signal; engineCall's race still bounds it.
      // specCall: the engine's 400 here is about the reference the caller sent (invalid format).
      await this.#call({ specCall: true }, () => this.#docker.getImage(image).inspect());
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /**
   * Pulls the image, waiting at most IMAGE_PULL_WAIT_SECONDS. A pull that fails in that time is a
   * 400 and nothing is created; one still running is left to finish in the background and the job
   * answered as pending (undefined is returned when the image has arrived within the wait).
   */
  async #pullOrPend(spec: JobSpec): Promise<JobInfo | undefined> {
    const pull = startPull(this.#docker, spec.image, this.#cfg.imagePullTimeoutSeconds * 1000);
    try {
      if ((await waitForPull(pull, this.#cfg.imagePullWaitSeconds * 1000)) === 'done')
        return undefined;
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
        acceptedAt: this.#now().toISOString(),
      },
      pull,
      cancelled: false,
      task: Promise.resolve(),
    };
    job.task = this.#finishInBackground(spec, job);
    this.#pending.set(spec.name, job);
    return fromPending(job.view);
  }

  async #finishInBackground(spec: JobSpec, job: PendingJob): Promise<void> {
    const fail = (message: string, err: unknown): void => {
      if (job.cancelled) return;
      job.view = { ...job.view, failure: { message, at: this.#now().toISOString() } };
      this.#log.warn({ err, job: spec.name }, message);
    };
    try {
      await job.pull.done;
    } catch (err) {
      fail(`image pull failed: ${err instanceof Error ? err.message : String(err)}`, err);
      return;
    }
    if (job.cancelled) return;
    try {
      await this.#createAndStart(spec);
    } catch (err) {
      fail(
        `container could not be started: ${err instanceof Error ? err.message : String(err)}`,
        err,
      );
      return;
    }
    if (job.cancelled) {
      // Deleted while its container was being made: remove what was just created.
      await this.#removeQuietly(spec.name);
      return;
    }
    // From now on the container answers for the job.
    if (this.#pending.get(spec.name) === job) this.#pending.delete(spec.name);
  }

  /**
   * Create, inspect (the create response says notstarted / created, as pman's did), start. Any
   * failure after the container exists removes it again, so a refused create leaves nothing.
   */
  async #createAndStart(spec: JobSpec): Promise<JobInfo> {
    const name = spec.name;
    const ctx = { name, specCall: true };
    const body = toContainerCreate(spec, {
      ignoreLimits: this.#cfg.ignoreLimits,
      memoryLimitMode: this.#cfg.memoryLimitMode,
    });
    try {
      await this.#call(ctx, (signal) =>
        this.#docker.createContainer({ ...body, abortSignal: signal }),
      );
    } catch (err) {
      if (err instanceof NotFoundError) {
        // 404 on create is "No such image" (removed since we checked), a fault of the spec.
        throw new InvalidSpecError(engineMessage(err.cause), { cause: err });
      }
      // A timeout may still have left a container behind.
      if (err instanceof BackendUnavailableError) await this.#removeQuietly(name);
      throw err;
    }
    let created: ContainerView;
    try {
      created = await this.#ours(name);
      await this.#call(ctx, (signal) =>
        this.#docker.getContainer(name).start({ abortSignal: signal }),
      );
    } catch (err) {
      await this.#removeQuietly(name);
      throw startFailure(err);
    }
    return fromContainer(created);
  }
}

/** Only what status and logs read, so 10 000 tracked jobs stay small in memory. */
function trim(c: ContainerView): ContainerView {
  const s = c.State;
  return {
    Name: c.Name,
    Created: c.Created,
    State: {
      Status: s.Status,
      Running: s.Running,
      Paused: s.Paused,
      Restarting: s.Restarting,
      OOMKilled: s.OOMKilled,
      Dead: s.Dead,
      ExitCode: s.ExitCode,
      ...(s.Error !== undefined && { Error: s.Error }),
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
    },
    Config: {
      Image: c.Config.Image,
      Entrypoint: c.Config.Entrypoint ?? null,
      Labels: { [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    },
  };
}

function conflict(name: string): ConflictError {
  return new ConflictError(`job "${name}" already exists`);
}

/** A start the engine refused is the spec's fault (missing executable, no GPU driver): a 400 with
 *  the engine's message. Only an engine we could not reach stays a 503. */
function startFailure(err: unknown): Error {
  if (err instanceof InvalidSpecError) return err;
  if (err instanceof BackendUnavailableError || err instanceof NotFoundError) {
    const cause: unknown = err.cause;
    const answered =
      typeof cause === 'object' &&
      cause !== null &&
      'statusCode' in cause &&
      cause.statusCode !== undefined;
    if (answered) return new InvalidSpecError(engineMessage(cause), { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Promise.all with at most `limit` calls in flight (list() inspects every container). */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
