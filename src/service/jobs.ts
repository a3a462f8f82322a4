// JobService: the job flows behind the routes (create, read, list, logs, remove) and the only
// writer of records — the first terminal state is pinned, whether a GET or the backend's own
// terminal watch saw it first. The HTTP layer parses and serializes around it.
import type { Backend, CreateOptions, JobRead } from '../backends/backend.js';
import { assertSupported, fitsNameRule } from '../domain/capabilities.js';
import { BackendUnavailableError, ConflictError, NotFoundError } from '../domain/errors.js';
import { assertImageAllowed } from '../domain/image-allowlist.js';
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { JobInfo, JobStatus, LogLimits, Storage } from '../domain/job.js';
import { boundLogText } from '../domain/logs.js';
import { resolveMounts } from '../domain/paths.js';
import { toJobSpec } from '../domain/spec.js';
import type { JobRequest, SpecSettings } from '../domain/spec.js';
import { assertBackendReady, backendHealth } from './health.js';
import { startStream, streamOfText } from './log-stream.js';
import type { JobRecords } from './records.js';
import { CreateSlots } from './create-slots.js';
import { recheckMounts, removeCreated, verifyDirs } from './store-dirs.js';

/** The settings the job flows use; the deployment's Config satisfies it. */
export interface JobSettings extends SpecSettings {
  /** JOB_LOGS_TAIL and JOB_LOGS_MAX_BYTES: the bounds of every log tail read and recorded. */
  logsTail: number;
  logsMaxBytes: number;
  /** REMOVE_JOBS: whether DELETE removes anything. */
  removeJobs: boolean;
  /** IMAGE_ALLOWLIST: create refuses (403) an image no pattern matches; absent = any image. */
  imageAllowlist?: readonly string[];
  /** MAX_CONCURRENT_CREATES: creates running against the backend at once (pull waits included);
   *  more wait their turn, and beyond MAX_WAITING_CREATES waiting ones they get 429. */
  maxConcurrentCreates?: number;
  maxWaitingCreates?: number;
}

/** Creates in flight at most, unless configured: each may hold an engine call and a pull wait. */
export const DEFAULT_MAX_CONCURRENT_CREATES = 32;
/** Creates that may wait for a slot, unless configured. */
export const DEFAULT_MAX_WAITING_CREATES = 1024;

export interface JobServiceDeps {
  backend: Backend;
  records: JobRecords;
  config: JobSettings;
  storage: Storage;
  /** The storeBase directory as this process sees it; undefined skips the on-disk checks. */
  storeBaseCheck?: string;
  now?: () => Date;
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** The wire's 409 text, whichever check found the duplicate (api.md §5.4 step 7). */
function conflict(jid: string, cause?: unknown): ConflictError {
  return new ConflictError(`job "${jid}" already exists`, { cause });
}

function notFound(jid: string, cause?: unknown): NotFoundError {
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

/** How many removed jids the service remembers to keep late snapshots from pinning them again. */
const REMEMBERED_REMOVALS = 10_000;

export class JobService {
  readonly #deps: JobServiceDeps;
  /** jids whose create is under way in this process: claimed before the first await. */
  readonly #creating = new Set<string>();
  readonly #slots: CreateSlots;
  /** Removals per jid by this process, the most recent REMEMBERED_REMOVALS jids only (a read in
   *  flight lasts seconds, so an older removal cannot race one). */
  readonly #removed = new Map<string, number>();

  constructor(deps: JobServiceDeps) {
    this.#deps = deps;
    this.#slots = new CreateSlots(
      deps.config.maxConcurrentCreates ?? DEFAULT_MAX_CONCURRENT_CREATES,
      deps.config.maxWaitingCreates ?? DEFAULT_MAX_WAITING_CREATES,
    );
    // A backend that sees jobs finish by itself hands them over here, so one writer pins them.
    deps.backend.watchTerminal?.(this.#limits, (snapshot) => {
      this.#pin(snapshot).catch(() => undefined);
    });
  }

  /**
   * Pins a terminal snapshot, unless the job was removed after the read that produced it started
   * (`removals` taken before that read): a late snapshot must not bring a deleted job back.
   */
  async #pin({ info, logs }: JobRead, removals = this.#removals(info.name)): Promise<void> {
    if (this.#removals(info.name) !== removals) return;
    const at = (this.#deps.now?.() ?? new Date()).toISOString();
    await this.#deps.records.pin(info.name, { info, logs, at });
  }

  /** How many times this jid was removed by this process (a read's snapshot of it guards #pin). */
  #removals(jid: string): number {
    return this.#removed.get(jid) ?? 0;
  }

  get #limits(): LogLimits {
    return { tail: this.#deps.config.logsTail, maxBytes: this.#deps.config.logsMaxBytes };
  }

  /**
   * api.md §5.4: (parsed by the HTTP layer, name rule included) → spec → capabilities → duplicate
   * → paths → create; the answer's status reads notstarted.
   *
   * The duplicate check here is only what the backend cannot know: our records (a finished job
   * the backend may have cleaned up) and the creates in flight in this process. A job the backend
   * holds is its own ConflictError — one answer from the one place that knows, instead of a read
   * before every create that could not close the race anyway.
   */
  async create(req: JobRequest): Promise<JobInfo> {
    const { backend, config, records, storage, storeBaseCheck } = this.#deps;
    let spec = toJobSpec(req, config, storage);
    assertSupported(spec, backend.capabilities, backend.name);
    assertImageAllowed(req.image, config.imageAllowlist);
    const jid = spec.name;
    // Checked and claimed in one synchronous step, so concurrent creates of one jid get one winner.
    if (this.#creating.has(jid) || records.has(jid)) throw conflict(jid);
    this.#creating.add(jid);
    let created: readonly string[] = [];
    let release: (() => void) | undefined;
    try {
      // Bounded, so a flood of creates (each may wait on a pull) cannot pile up engine calls.
      release = await this.#slots.acquire();
      const options: CreateOptions = {};
      if (storeBaseCheck !== undefined) {
        const real = await verifyDirs(storeBaseCheck, {
          input: req.inputDir,
          output: req.outputDir,
        });
        // Bind what was checked: the real directories, so the engine follows no link on the way;
        // and let the backend re-check them right before it creates and starts the job.
        created = real.created;
        const mounts = resolveMounts(real, storage);
        spec = { ...spec, mounts };
        options.recheckMounts = () => recheckMounts(real.root, mounts);
      }
      const info = await backend.create(spec, options).catch(async (err: unknown) => {
        // Refused after the check made the output dir (engine conflict, pull failure, 429…).
        await removeCreated(created);
        throw err instanceof ConflictError ? conflict(jid, err) : err;
      });
      return { ...info, status: 'notstarted' };
    } finally {
      release?.();
      this.#creating.delete(jid);
    }
  }

  /**
   * A jid that breaks the backend's name rule names no job we could have made, so it is a 404
   * before any backend call: it never reaches an engine URL (think "../../info") or a Kubernetes name.
   */
  #assertPlausible(jid: string): void {
    const fits = fitsNameRule(jid, this.#deps.backend.capabilities.jobName);
    if (!fits && !this.#deps.records.has(jid)) throw notFound(jid);
  }

  /** Status and log tail; the first terminal state is pinned and answered from then on. */
  async read(jid: string): Promise<JobRead> {
    const { backend, records } = this.#deps;
    this.#assertPlausible(jid);
    // A pinned job's status is final, so only its logs are read again (api.md §9); create refuses
    // a jid while its record exists, so the backend cannot hold a different job of that name.
    const record = records.get(jid);
    if (record !== undefined) return { info: record.info, logs: await this.#logsOr(jid) };
    const removals = this.#removals(jid);
    const read = await orNotFound(jid, backend.read(jid, { logs: this.#limits }));
    if (TERMINAL_STATUSES.has(read.info.status)) await this.#pin(read, removals);
    return read;
  }

  /**
   * Fresh logs of a pinned job, or the captured ones once the backend object is gone — or while the
   * backend is unreachable: the status is final, so CUBE can go on fetching the job's outputs.
   */
  async #logsOr(jid: string): Promise<string> {
    try {
      return (await this.#deps.backend.read(jid, { logs: this.#limits })).logs;
    } catch (err) {
      // The captured logs are read from STATE_DIR only now, when they are the answer.
      if (err instanceof NotFoundError || err instanceof BackendUnavailableError)
        return this.#deps.records.logs(jid);
      throw err;
    }
  }

  /** 404 unless the backend or a record knows the jid (HEAD of the logs route). */
  async assertKnown(jid: string): Promise<void> {
    this.#assertPlausible(jid);
    if (this.#deps.records.has(jid)) return;
    await orNotFound(jid, this.#deps.backend.read(jid));
  }

  /** api.md §11: REMOVE_JOBS=no → nothing; record-only → drop it; unknown → 404. */
  async remove(jid: string): Promise<void> {
    const { backend, records, config } = this.#deps;
    if (!config.removeJobs) return;
    this.#assertPlausible(jid);
    // Counted before the backend call: a read already in flight must not pin the job afterwards.
    const removals = this.#removals(jid) + 1;
    this.#removed.delete(jid);
    this.#removed.set(jid, removals);
    for (const oldest of this.#removed.keys()) {
      if (this.#removed.size <= REMEMBERED_REMOVALS) break;
      this.#removed.delete(oldest);
    }
    try {
      await backend.delete(jid);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (!records.has(jid)) throw notFound(jid, err);
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
    try {
      return await startStream(this.#deps.backend.streamLogs(jid, tail));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const { records } = this.#deps;
      if (!records.has(jid)) throw notFound(jid, err);
      const logs = await records.logs(jid);
      const text = tail === undefined ? logs : boundLogText(logs, { tail, maxBytes: UNLIMITED });
      return streamOfText(text);
    }
  }

  /** GET /health: the process serves; the body says whether the backend answers (health.ts). */
  backendHealth(): Promise<string> {
    return backendHealth(this.#deps.backend);
  }

  /** GET /health/ready: BackendUnavailableError (503 + Retry-After) while the backend is down. */
  assertBackendReady(): Promise<void> {
    return assertBackendReady(this.#deps.backend);
  }
}
