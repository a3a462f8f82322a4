// JobService: the job flows behind the routes (create, read, list, logs, remove, health) and the
// only writer of records — the first terminal state is pinned, whether a GET or the backend's
// own terminal watch saw it first. The HTTP layer parses and serializes around it.
import { assertSupported, fitsNameRule } from '../domain/capabilities.js';
import type { Backend, JobRead } from '../backends/backend.js';
import type { Config, Storage } from '../config/config.js';
import { BackendUnavailableError, ConflictError, NotFoundError } from '../domain/errors.js';
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { JobInfo, JobStatus, LogLimits } from '../domain/job.js';
import { boundLogText } from '../domain/logs.js';
import type { JobRecords } from './records.js';
import { toJobSpec } from '../domain/spec.js';
import type { JobRequest } from '../domain/spec.js';
import { verifyDirs } from './store-dirs.js';

export interface JobServiceDeps {
  backend: Backend;
  records: JobRecords;
  config: Config;
  storage: Storage;
  storeBaseCheck?: string;
  now?: () => Date;
}

/** How long a health probe waits for backend.ping(). */
export const HEALTH_PING_TIMEOUT_MS = 2_000;

const UNLIMITED = Number.MAX_SAFE_INTEGER;

export function conflict(jid: string, cause?: unknown): ConflictError {
  return new ConflictError(`job "${jid}" already exists`, { cause });
}

export function notFound(jid: string, cause?: unknown): NotFoundError {
  return new NotFoundError(`job "${jid}" not found`, { cause });
}

/** Backends name their own 404s; the wire text is always ours (api.md §13). */
async function orNotFound<T>(jid: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw err instanceof NotFoundError ? notFound(jid, err) : err;
  }
}

async function withTimeout<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendUnavailableError(`${what} did not answer within ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class JobService {
  readonly #deps: JobServiceDeps;
  /** jids whose create is between its duplicate check and the backend's answer (this process). */
  readonly #creating = new Set<string>();

  constructor(deps: JobServiceDeps) {
    this.#deps = deps;
    // A backend that sees jobs finish by itself hands them over here, so one writer pins them.
    deps.backend.watchTerminal?.(this.#limits, (snapshot) => {
      this.#pin(snapshot).catch(() => undefined);
    });
  }

  async #pin({ info, logs }: JobRead): Promise<void> {
    const at = (this.#deps.now?.() ?? new Date()).toISOString();
    await this.#deps.records.pin(info.name, { info, logs, at });
  }

  get #limits(): LogLimits {
    return { tail: this.#deps.config.logsTail, maxBytes: this.#deps.config.logsMaxBytes };
  }

  /** api.md §5.4: (parsed by the HTTP layer) → spec → capabilities → duplicate → paths → create; status reads notstarted. */
  async create(req: JobRequest): Promise<JobInfo> {
    const { backend, config, storage, storeBaseCheck } = this.#deps;
    const spec = toJobSpec(req, config, storage);
    assertSupported(spec, backend.capabilities, backend.name);
    const jid = spec.name;
    // Checked and claimed in one synchronous step, so concurrent creates of one jid get one winner.
    if (this.#creating.has(jid)) throw conflict(jid);
    this.#creating.add(jid);
    try {
      await this.#assertAbsent(jid);
      if (storeBaseCheck !== undefined) {
        await verifyDirs(storeBaseCheck, { input: req.inputDir, output: req.outputDir });
      }
      const info = await backend.create(spec).catch((err: unknown) => {
        throw err instanceof ConflictError ? conflict(jid, err) : err;
      });
      return { ...info, status: 'notstarted' };
    } finally {
      this.#creating.delete(jid);
    }
  }

  async #assertAbsent(jid: string): Promise<void> {
    if (this.#deps.records.get(jid) !== undefined) throw conflict(jid);
    try {
      await this.#deps.backend.read(jid);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    throw conflict(jid);
  }

  /**
   * A jid that breaks the backend's name rule names no job we could have made, so it is a 404
   * before any backend call: it never reaches an engine URL (think "../../info") or a Kubernetes name.
   */
  #assertPlausible(jid: string): void {
    const fits = fitsNameRule(jid, this.#deps.backend.capabilities.jobName);
    if (!fits && this.#deps.records.get(jid) === undefined) throw notFound(jid);
  }

  /** Status and log tail; the first terminal state is pinned and answered from then on. */
  async read(jid: string): Promise<JobRead> {
    const { backend, records } = this.#deps;
    this.#assertPlausible(jid);
    // A pinned job's status is final, so only its logs are read again (api.md §9); create refuses
    // a jid while its record exists, so the backend cannot hold a different job of that name.
    const record = records.get(jid);
    if (record !== undefined)
      return { info: record.info, logs: await this.#logsOr(jid, record.logs) };
    const read = await orNotFound(jid, backend.read(jid, { logs: this.#limits }));
    if (TERMINAL_STATUSES.has(read.info.status)) await this.#pin(read);
    return read;
  }

  /**
   * Fresh logs of a pinned job, or the captured ones once the backend object is gone — or while the
   * backend is unreachable: the status is final, so CUBE can go on fetching the job's outputs.
   */
  async #logsOr(jid: string, captured: string): Promise<string> {
    try {
      return (await this.#deps.backend.read(jid, { logs: this.#limits })).logs;
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof BackendUnavailableError) return captured;
      throw err;
    }
  }

  /** 404 unless the backend or a record knows the jid (HEAD of the logs route). */
  async assertKnown(jid: string): Promise<void> {
    this.#assertPlausible(jid);
    if (this.#deps.records.get(jid) !== undefined) return;
    await orNotFound(jid, this.#deps.backend.read(jid));
  }

  /** api.md §11: REMOVE_JOBS=no → nothing; record-only → drop it; unknown → 404. */
  async remove(jid: string): Promise<void> {
    const { backend, records, config } = this.#deps;
    if (!config.removeJobs) return;
    this.#assertPlausible(jid);
    try {
      await backend.delete(jid);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (records.get(jid) === undefined) throw notFound(jid, err);
    }
    await records.drop(jid);
  }

  /** Our jobs plus record-only ones, pinned states winning, sorted by jid (api.md §12.1). */
  async list(status: JobStatus | undefined): Promise<JobInfo[]> {
    const byJid = new Map<string, JobInfo>();
    for (const info of await this.#deps.backend.list()) byJid.set(info.name, info);
    for (const record of this.#deps.records.all()) byJid.set(record.info.name, record.info);
    return [...byJid.values()]
      .filter((info) => status === undefined || info.status === status)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The log stream, started before the response so a 404 can still be answered; a record-only job
   * answers with its captured logs.
   */
  async openLogs(jid: string, tail: number | undefined): Promise<ReadableStream<Uint8Array>> {
    this.#assertPlausible(jid);
    const iterator = this.#deps.backend.streamLogs(jid, tail)[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array>;
    try {
      first = await iterator.next();
    } catch (err) {
      const record = this.#deps.records.get(jid);
      if (!(err instanceof NotFoundError)) throw err;
      if (record === undefined) throw notFound(jid, err);
      const text =
        tail === undefined ? record.logs : boundLogText(record.logs, { tail, maxBytes: UNLIMITED });
      return streamOf([new TextEncoder().encode(text)]);
    }
    return streamFrom(first, iterator);
  }

  /** GET /health: the process serves; the body says whether the backend answers. */
  async backendHealth(): Promise<string> {
    try {
      await this.assertBackendReady();
      return 'ok';
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /** GET /health/ready: throws BackendUnavailableError (503 + Retry-After) when the backend is down. */
  async assertBackendReady(): Promise<void> {
    try {
      await withTimeout(this.#deps.backend.ping(), HEALTH_PING_TIMEOUT_MS, 'backend');
    } catch (err) {
      if (err instanceof BackendUnavailableError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new BackendUnavailableError(reason, { cause: err });
    }
  }
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) if (chunk.length > 0) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** Pull-based, so a slow client slows the backend read instead of filling memory. */
function streamFrom(
  first: IteratorResult<Uint8Array>,
  iterator: AsyncIterator<Uint8Array>,
): ReadableStream<Uint8Array> {
  let pending: IteratorResult<Uint8Array> | undefined = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = pending ?? (await iterator.next());
      pending = undefined;
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
