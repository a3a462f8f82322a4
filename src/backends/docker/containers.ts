// The Engine's container calls the docker backend makes, each bounded by the call timeout and
// answered in domain errors: exact-name inspect, our containers, create-and-start, remove, logs.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
} from '../../domain/errors.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import type { StreamOptions } from '../backend.js';
import { engineCall, engineMessage } from '../shared/engine-client.js';
import type { ErrorContext } from '../shared/engine-client.js';
import { readLogTail, streamLogBytes } from '../shared/engine-logs.js';
import type { LogSource } from '../shared/engine-logs.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../shared/labels.js';
import { toContainerCreate } from './manifest.js';
import type { ContainerCreateOpts } from './manifest.js';
import { fromContainer, parseContainer } from './status.js';
import type { ContainerView, StatusOptions } from './status.js';

const LIST_CONCURRENCY = 8;
/** Each inspect of a list waits at most this long (or the call timeout, if shorter): a list of
 *  many jobs must not wait a full call timeout for the one container that never answers. */
const LIST_READ_TIMEOUT_MS = 5000;

/** The parts of GET /containers/json we read. */
const summariesSchema = z.array(
  z.object({ Names: z.array(z.string()).default([]), State: z.string().default('') }),
);

/** One of our containers as the list call shows it: enough to tell whether it changed. */
export interface ContainerSummary {
  name: string;
  state: string;
}

/** One container a list could not inspect (it hung or failed): reported, never fatal to the list. */
export interface UnreadContainer {
  name: string;
  error: unknown;
}

/** What inspectMany found: the containers it read and the ones it could not. */
export interface InspectedMany {
  found: Map<string, ContainerView>;
  unread: UnreadContainer[];
}

export class Containers {
  readonly #docker: Docker;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #managedBy: string;
  /** The label filter of list calls and the event stream: this instance's containers only. */
  readonly managedFilter: string;

  /** Podman (flavour.ts): a larger log tail is asked as "all" and cut here. */
  readonly #maxLogTail: number | undefined;

  constructor(
    docker: Docker,
    timeoutMs: number,
    log: Logger,
    managedBy = MANAGED_BY_VALUE,
    maxLogTail?: number,
  ) {
    this.#maxLogTail = maxLogTail;
    this.#docker = docker;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
    this.#managedBy = managedBy;
    this.managedFilter = `${DOCKER_MANAGED_BY_LABEL}=${managedBy}`;
  }

  call<T>(ctx: ErrorContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return engineCall(this.#timeoutMs, ctx, fn);
  }

  async ping(): Promise<void> {
    await this.call({}, () => this.#docker.ping() as Promise<unknown>);
  }

  /** The container named exactly `name` (ours or not), or undefined. */
  async inspect(name: string, timeoutMs = this.#timeoutMs): Promise<ContainerView | undefined> {
    try {
      const raw: unknown = await engineCall(timeoutMs, { name }, (signal) =>
        this.#container(name).inspect({ abortSignal: signal }),
      );
      const c = parseContainer(raw);
      // The engine also resolves ID prefixes; only an exact name match is this job.
      return c.Name.replace(/^\/+/, '') === name ? c : undefined;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Our container of that name, or undefined. A foreign container of the same name is not a job:
   *  reads and delete answer NotFound for it (it is never removed), and create answers Conflict. */
  async inspectOurs(name: string, timeoutMs?: number): Promise<ContainerView | undefined> {
    const c = await this.inspect(name, timeoutMs);
    return c?.Config.Labels?.[DOCKER_MANAGED_BY_LABEL] === this.#managedBy ? c : undefined;
  }

  async ours(name: string): Promise<ContainerView> {
    const c = await this.inspectOurs(name);
    if (c === undefined) throw new NotFoundError(`job "${name}" not found`);
    return c;
  }

  /** Our containers (any state), from one list call. */
  async list(): Promise<ContainerSummary[]> {
    const raw: unknown = await this.call({}, (signal) =>
      this.#docker.listContainers({
        all: true,
        filters: { label: [this.managedFilter] },
        abortSignal: signal,
      }),
    );
    return summariesSchema
      .parse(raw)
      .map((s) => ({ name: (s.Names[0] ?? '').replace(/^\/+/, ''), state: s.State }))
      .filter((s) => s.name !== '');
  }

  /**
   * Our containers of these names, inspected with bounded concurrency (gone ones left out). Each
   * inspect has its own timeout and its own failure: a container the engine cannot describe (a
   * create with a megabyte entrypoint leaves one whose inspect hangs) lands in `unread` instead of
   * failing every other job's answer (issue 10, 10).
   */
  async inspectMany(names: readonly string[]): Promise<InspectedMany> {
    const settled = await mapLimited(names, LIST_CONCURRENCY, async (n) => {
      try {
        const timeoutMs = Math.min(this.#timeoutMs, LIST_READ_TIMEOUT_MS);
        return { ok: true as const, c: await this.inspectOurs(n, timeoutMs) };
      } catch (error) {
        return { ok: false as const, error };
      }
    });
    const found = new Map<string, ContainerView>();
    const unread: UnreadContainer[] = [];
    names.forEach((name, i) => {
      const r = settled[i];
      if (r === undefined) return;
      if (!r.ok) unread.push({ name, error: r.error });
      else if (r.c !== undefined) found.set(name, r.c);
    });
    if (unread.length > 0) {
      this.#log.warn(
        { jobs: unread.map((u) => u.name), err: unread[0]?.error },
        'the engine could not describe some containers; they are listed as undefined',
      );
    }
    return { found, unread };
  }

  async remove(name: string): Promise<void> {
    try {
      await this.call({ name }, (signal) =>
        this.#container(name).remove({ force: true, v: true, abortSignal: signal }),
      );
    } catch (err) {
      // 409 "removal already in progress": it is going away, which is what was asked.
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  /**
   * SIGTERM now (awaited: the engine took it), then `docker stop -t grace` in the background, which
   * SIGKILLs it after the grace — done by the engine, so a restart of ours does not cut it short.
   * A container that does not run is left alone; the container and its log stay. `settled` runs
   * once the engine is done: at once (awaited) when it did not run, else after the engine's stop.
   */
  async stop(
    name: string,
    graceSeconds: number,
    settled: () => Promise<void> = () => Promise.resolve(),
  ): Promise<void> {
    try {
      await this.call({ name }, (signal) =>
        this.#container(name).kill({ signal: 'SIGTERM', abortSignal: signal }),
      );
    } catch (err) {
      // 409 "container is not running": it ended already (or never started). Podman answers 500
      // "can only kill running containers … container state improper" instead.
      if (statusOf(err) === 409 || err instanceof ConflictError || notRunning(err)) {
        await settled();
        return;
      }
      throw err;
    }
    const timeoutMs = this.#timeoutMs + graceSeconds * 1000;
    engineCall(timeoutMs, { name }, (signal) =>
      this.#container(name).stop({ t: graceSeconds, abortSignal: signal }),
    )
      .catch((err: unknown) => {
        // 304: it stopped by itself within the grace; gone: removed meanwhile.
        if (statusOf(err) === 304 || err instanceof NotFoundError) return;
        this.#log.warn({ err, job: name }, 'docker stop of a cancelled job failed');
      })
      .then(settled)
      .catch(() => undefined);
  }

  /**
   * The engine's own stop, awaited (SIGTERM, SIGKILL after the grace): on Podman the only call
   * that keeps a restart policy from starting the container again (flavour.ts). A 304 (it did not
   * run) is no error: whether the stop held is for the caller to watch.
   */
  async stopForGood(name: string, graceSeconds: number): Promise<void> {
    try {
      await engineCall(this.#timeoutMs + graceSeconds * 1000, { name }, (signal) =>
        this.#container(name).stop({ t: graceSeconds, abortSignal: signal }),
      );
    } catch (err) {
      if (statusOf(err) !== 304) throw err;
    }
  }

  /** Best effort, for cleaning up after a failed create: never masks the original error. */
  async removeQuietly(name: string): Promise<void> {
    try {
      await this.remove(name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) {
        this.#log.warn({ err, job: name }, 'could not remove the container of a failed create');
      }
    }
  }

  async imagePresent(image: string): Promise<boolean> {
    try {
      // Image inspect takes no abort signal; engineCall's race still bounds it.
      // specCall: the engine's 400 here is about the reference the caller sent (invalid format).
      await this.call({ specCall: true }, () => this.#docker.getImage(image).inspect());
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /**
   * Create and inspect (the create response says notstarted / created, as pman's did); the start
   * is the caller's. The engine's 409 (the name was taken since it was checked) is a
   * ConflictError; a create that may have left a container behind removes it again.
   */
  async create(
    spec: JobSpec,
    opts: ContainerCreateOpts,
    recheckMounts?: () => Promise<void>,
    onCreated?: () => void,
  ): Promise<ContainerView> {
    const name = spec.name;
    const body = toContainerCreate(spec, opts);
    // The mounts are checked again right before the engine sees them (issue 10, mount race): a
    // refusal here leaves nothing behind and propagates as the service's DirectoryError.
    await recheckMounts?.();
    try {
      await this.call({ name, specCall: true }, (signal) =>
        this.#docker.createContainer({ ...body, abortSignal: signal }),
      );
    } catch (err) {
      if (err instanceof NotFoundError) {
        // 404 on create is "No such image" (removed since we checked), a fault of the spec.
        throw new InvalidSpecError(engineMessage(err.cause), { cause: err });
      }
      // A timeout may still have left a container behind.
      if (err instanceof BackendUnavailableError) await this.removeQuietly(name);
      throw err;
    }
    onCreated?.();
    try {
      return await this.ours(name);
    } catch (err) {
      await this.removeQuietly(name);
      throw err;
    }
  }

  /**
   * Starts a created container, re-checking the mounts right before (the engine resolves the bind
   * sources then). Any failure removes the container, so a refused start leaves nothing; a refusal
   * by the engine is an InvalidSpecError with its text. 'already' when it had been started.
   */
  async start(name: string, recheckMounts?: () => Promise<void>): Promise<'started' | 'already'> {
    try {
      await recheckMounts?.();
      await this.call({ name, specCall: true }, (signal) =>
        this.#container(name).start({ abortSignal: signal }),
      );
      return 'started';
    } catch (err) {
      // 304 "container already started": started by someone before us (a resume racing a start).
      if (statusOf(err) === 304) return 'already';
      await this.removeQuietly(name);
      throw startFailure(err);
    }
  }

  /** Create then start, in one go (a job whose image arrived in the background). */
  async createAndStart(
    spec: JobSpec,
    opts: ContainerCreateOpts,
    recheckMounts?: () => Promise<void>,
    onCreated?: () => void,
    statusOptions: StatusOptions = {},
  ): Promise<JobInfo> {
    const created = await this.create(spec, opts, recheckMounts, onCreated);
    await this.start(spec.name, recheckMounts);
    return fromContainer(created, statusOptions);
  }

  readLogTail(name: string, limits: LogLimits): Promise<string> {
    return readLogTail(
      this.#docker,
      this.#timeoutMs,
      name,
      logSource(name, this.#maxLogTail),
      limits,
    );
  }

  streamLogs(
    name: string,
    tail: number | undefined,
    options: StreamOptions = {},
  ): AsyncIterable<Uint8Array> {
    const { follow = false, signal } = options;
    return streamLogBytes(
      this.#docker,
      this.#timeoutMs,
      name,
      logSource(name, this.#maxLogTail),
      tail,
      follow,
      signal,
    );
  }

  /** Job names are plain URL path segments, but encoded all the same. */
  #container(name: string): Docker.Container {
    return this.#docker.getContainer(encodeURIComponent(name));
  }
}

/** Containers run without a TTY: stdout and stderr come multiplexed. */
function logSource(name: string, maxTail: number | undefined): LogSource {
  return {
    path: `/containers/${encodeURIComponent(name)}/logs?`,
    framed: true,
    ...(maxTail !== undefined && { maxTail }),
  };
}

/** The HTTP status an engine error carries (docker-modem's, possibly under a domain error). */
function statusOf(err: unknown): number | undefined {
  for (
    let e: unknown = err;
    typeof e === 'object' && e !== null;
    e = (e as { cause?: unknown }).cause
  ) {
    const code = (e as { statusCode?: unknown }).statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** Podman's answer to a kill of a container that does not run (Docker's is a 409). */
function notRunning(err: unknown): boolean {
  return statusOf(err) === 500 && /container state improper/.test(engineMessage(causeOf(err)));
}

function causeOf(err: unknown): unknown {
  return err instanceof Error && err.cause !== undefined ? err.cause : err;
}

/** A start the engine refused is the spec's fault (missing executable, no GPU driver): an
 *  InvalidSpecError with the engine's message. Only an engine we could not reach stays a 503. */
export function startFailure(err: unknown): Error {
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

/** Promise.all with at most `limit` calls in flight (a list inspects every container). */
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
