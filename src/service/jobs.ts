// JobService: the job flows behind the routes (create, read, list, logs, remove, history) over the
// job ledger (src/store): a valid POST is durable before its 201, every status change of a run is
// an event, and a finished run's outcome and complete log are the store's — answered without the
// engine, and kept after DELETE until retention. The HTTP layer parses and serializes around it.
import { realpath } from 'node:fs/promises';
import type { Backend, CreateOptions, JobRead } from '../backends/backend.js';
import { assertSupported, fitsNameRule } from '../domain/capabilities.js';
import {
  BackendUnavailableError,
  ConflictError,
  NotFoundError,
  StoreUnavailableError,
  ValidationError,
} from '../domain/errors.js';
import { assertImageAllowed } from '../domain/image-allowlist.js';
import type { JobInfo, JobSpec, JobStatus, LogLimits, Storage } from '../domain/job.js';
import { boundLogBytes } from '../domain/logs.js';
import { resolveMounts } from '../domain/paths.js';
import { toJobSpec } from '../domain/spec.js';
import type { JobRequest, SpecSettings } from '../domain/spec.js';
import { StoreError, StoreFullError } from '../store/errors.js';
import type { HistoryPage, HistoryQuery, Ledger, LedgerRun } from '../store/ledger.js';
import { CANCELLED_TEXT, Stopper } from './cancel.js';
import { CreateSlots } from './create-slots.js';
import { Deadlines } from './deadlines.js';
import { FinishedCache } from './finished-cache.js';
import { fingerprintOf } from './fingerprint.js';
import { assertBackendReady, backendHealth } from './health.js';
import { startStream, streamOfBytes } from './log-stream.js';
import { Reconciler } from './reconciler.js';
import { infoOfRun, isTerminal, isTerminalStatus } from './run-info.js';
import { RunRecorder } from './run-recorder.js';
import { heldRead, queuedText } from './queue/held.js';
import { queueFields, Retries } from './queue/retries.js';
import { Scheduler } from './queue/scheduler.js';
import type { QueuedRun, QueueFields } from '../store/queue.js';
import { canEverFit } from '../domain/queue-order.js';
import type { QueueCaps } from '../domain/queue-order.js';
import { recheckMounts, removeCreated, verifyDirs } from './store-dirs.js';
import { ServiceSupervisor } from './services/supervisor.js';
import { DEFAULT_SERVICE_START_TIMEOUT_SECONDS } from '../config/service.js';

/** The settings the job flows use; the deployment's Config satisfies it. */
export interface JobSettings extends SpecSettings {
  /** JOB_LOGS_TAIL and JOB_LOGS_MAX_BYTES: the bounds of every log tail answered. */
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
  /** ACCEPT_WHILE_UNAVAILABLE (default on): a valid POST while the engine is down is accepted. */
  acceptWhileUnavailable?: boolean;
  /** LOG_ARCHIVE_MAX_BYTES: the complete log a finished run keeps (its end when larger). */
  logArchiveMaxBytes?: number;
  /** MAX_RUNNING, MAX_RUNNING_PER_AUID, MAX_GPUS (issue 13); absent or empty: nothing is queued. */
  queue?: QueueCaps;
  /** CANCEL_GRACE_SECONDS and JOB_DEADLINE_SECONDS (issue 13); absent = 10 s and none. */
  control?: { cancelGraceSeconds: number; jobDeadlineSeconds?: number };
  /** SERVICE_START_TIMEOUT_SECONDS (issue 15); absent = 120 s. */
  service?: { startTimeoutSeconds: number };
}

/** Creates in flight at most, unless configured: each holds a few engine calls (pulls and starts run in the background since issue 11, so a slot is held briefly). */
export const DEFAULT_MAX_CONCURRENT_CREATES = 64;
/** Creates that may wait for a slot, unless configured. */
export const DEFAULT_MAX_WAITING_CREATES = 1024;
/** How long a DELETE of a job whose engine object is already gone waits for the watch to hand
 *  over its end (the exit code and log a `docker rm -f` raced). */
const END_SETTLE_MS = 5_000;
/** How long a GET that sees a job's end first waits for the watch's capture of it. */
const GET_SETTLE_MS = 2_000;
/** CANCEL_GRACE_SECONDS default (src/config/control.ts says the same). */
const DEFAULT_CANCEL_GRACE_SECONDS = 10;
/** LOG_ARCHIVE_MAX_BYTES default: 64 MiB. */
export const DEFAULT_LOG_ARCHIVE_MAX_BYTES = 64 * 1024 * 1024;

export interface JobServiceDeps {
  backend: Backend;
  ledger: Ledger;
  config: JobSettings;
  storage: Storage;
  /** The storeBase directory as this process sees it; undefined skips the on-disk checks. */
  storeBaseCheck?: string;
  /** Problems that do not fail a request (a watch snapshot that could not be recorded). */
  warn?: (message: string, err?: unknown) => void;
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** The message of a run accepted while the engine could not be reached. */
export function waitingText(reason: string): string {
  return `waiting for the engine, which could not be reached (${reason}); the job starts when it is back`;
}

/** The wire's 409 text, whichever check found the duplicate (api.md §5.4 step 7). */
function conflict(jid: string, cause?: unknown): ConflictError {
  return new ConflictError(`job "${jid}" already exists`, { cause });
}

function notFound(jid: string, cause?: unknown): NotFoundError {
  return new NotFoundError(`job "${jid}" not found`, { cause });
}

/** A store that cannot take the intake (full disk, I/O error) is a 503 naming it; never a 500. */
function storeUnavailable(err: unknown): unknown {
  if (!(err instanceof StoreError || err instanceof StoreFullError)) return err;
  return new StoreUnavailableError(
    `the job store cannot record the job (${err.message}); nothing was created — retry later`,
    {
      cause: err,
      ...(err instanceof StoreFullError && { retryAfterSeconds: err.retryAfterSeconds }),
    },
  );
}

export class JobService {
  readonly #deps: JobServiceDeps;
  /** jids whose create is under way in this process: claimed before the first await. */
  readonly #creating = new Set<string>();
  readonly #slots: CreateSlots;
  readonly #finished = new FinishedCache();
  readonly #recorder: RunRecorder;
  readonly #reconciler: Reconciler;
  /** Runs whose engine object exists while the store's note of it is still being committed. */
  readonly #objectMade = new Set<number>();
  /** The fair queue and opt-in retries (issue 13, src/service/queue). */
  readonly #scheduler: Scheduler;
  readonly #retries: Retries;
  /** Cancel and deadlines stop runs through it (issue 13). */
  readonly #stopper: Stopper;
  readonly #deadlines: Deadlines;
  /** Service jobs' health checks and start timeout (issue 15, src/service/services). */
  readonly #services: ServiceSupervisor;

  constructor(deps: JobServiceDeps) {
    this.#deps = deps;
    this.#slots = new CreateSlots(
      deps.config.maxConcurrentCreates ?? DEFAULT_MAX_CONCURRENT_CREATES,
      deps.config.maxWaitingCreates ?? DEFAULT_MAX_WAITING_CREATES,
    );
    this.#scheduler = new Scheduler({
      ledger: deps.ledger,
      caps: deps.config.queue ?? {},
      isCreating: (jid) => this.#creating.has(jid),
      admit: (run) => this.#admitQueued(run),
      warn: (message, err) => this.#warn(message, err),
    });
    this.#retries = new Retries({
      ledger: deps.ledger,
      backend: deps.backend,
      queued: () => this.#scheduler.pick(),
      warn: (message, err) => this.#warn(message, err),
    });
    this.#recorder = new RunRecorder({
      retries: this.#retries,
      ledger: deps.ledger,
      backend: deps.backend,
      archive: this.#archive,
      onChange: (jid) => this.#changed(jid),
      present: (run, info) => this.#services.present(run, info),
    });
    this.#stopper = new Stopper({
      ledger: deps.ledger,
      backend: deps.backend,
      graceSeconds: deps.config.control?.cancelGraceSeconds ?? DEFAULT_CANCEL_GRACE_SECONDS,
      notCreated: (run) => this.#pending(run),
      warn: (message, err) => this.#warn(message, err),
    });
    this.#deadlines = new Deadlines({
      ledger: deps.ledger,
      defaultSeconds: deps.config.control?.jobDeadlineSeconds,
      // A run between two attempts (a retry's backoff) has no engine object: it ends with the
      // deadline's message too, not "cancelled before it started".
      stop: (run, reason) => this.#stopper.stop(run, reason, reason),
      warn: (message, err) => this.#warn(message, err),
    });
    this.#services = new ServiceSupervisor({
      ledger: deps.ledger,
      backend: deps.backend,
      recorder: this.#recorder,
      startTimeoutSeconds:
        deps.config.service?.startTimeoutSeconds ?? DEFAULT_SERVICE_START_TIMEOUT_SECONDS,
      stop: (run, reason) => this.#stopper.stop(run, reason, reason),
      notCreated: (run) => this.#pending(run) || this.#creating.has(run.jid),
      warn: (message, err) => this.#warn(message, err),
    });
    // Rounds only while a service run waits for its health check: idle (no timer) otherwise.
    this.#services.start();
    this.#reconciler = new Reconciler({
      ledger: deps.ledger,
      backend: deps.backend,
      recorder: this.#recorder,
      isCreating: (jid) => this.#creating.has(jid),
      createRun: (run) => this.#createAtEngine(run.id, run.spec, []),
      warn: (message, err) => this.#warn(message, err),
      afterPass: () => this.#deadlines.armAll(),
    });
    // What the backend notices by itself (engine events, informers) is recorded as it happens,
    // terminal snapshots with their complete log: a job nobody polled keeps its outcome.
    deps.backend.watchJobs?.(this.#archive, (snapshot) => {
      this.#observed(snapshot).catch((err: unknown) => {
        this.#warn(`could not record the state of job "${snapshot.info.name}"`, err);
      });
    });
  }

  get #limits(): LogLimits {
    return { tail: this.#deps.config.logsTail, maxBytes: this.#deps.config.logsMaxBytes };
  }

  get #archive(): LogLimits {
    return {
      tail: UNLIMITED,
      maxBytes: this.#deps.config.logArchiveMaxBytes ?? DEFAULT_LOG_ARCHIVE_MAX_BYTES,
    };
  }

  #warn(message: string, err?: unknown): void {
    this.#deps.warn?.(message, err);
  }

  /** The fair queue (main.ts starts it after the first reconcile pass; GET /api/v1/queue/). */
  get queue(): Scheduler {
    return this.#scheduler;
  }

  /** The reconciler (started by main.ts: a pass at start-up, then after every engine outage). */
  get reconciler(): Reconciler {
    return this.#reconciler;
  }

  /** Whether the engine has no object of the run yet (accepted while it was down, or pulling). */
  #pending(run: LedgerRun): boolean {
    return run.engine === 'pending' && !this.#objectMade.has(run.id);
  }

  /** The jid's run as long as it names a job (not removed by DELETE). */
  #live(jid: string): LedgerRun | undefined {
    const run = this.#deps.ledger.current(jid);
    return run === undefined || run.removed !== null ? undefined : run;
  }

  /**
   * api.md §5.4: (parsed by the HTTP layer, name rule included) → spec → capabilities → duplicate
   * → paths → durable intake → engine create; the answer's status reads notstarted.
   *
   * The duplicate check is the store's (a jid with a live run) plus the creates in flight here;
   * a job of that name the engine holds without a run (a foreign container) is its ConflictError.
   */
  async create(req: JobRequest): Promise<JobInfo> {
    return this.#present(await this.#create(req));
  }

  async #create(req: JobRequest): Promise<JobInfo> {
    const { backend, config, ledger, storage, storeBaseCheck } = this.#deps;
    let spec = toJobSpec(req, config, storage);
    assertSupported(spec, backend.capabilities, backend.name);
    assertImageAllowed(req.image, config.imageAllowlist);
    const jid = spec.name;
    // Checked and claimed in one synchronous step, so concurrent creates of one jid get one winner.
    if (this.#creating.has(jid) || this.#live(jid) !== undefined) throw conflict(jid);
    this.#creating.add(jid);
    let created: readonly string[] = [];
    let release: (() => void) | undefined;
    try {
      // Bounded, so a flood of creates (each may wait on a pull) cannot pile up engine calls.
      release = await this.#slots.acquire();
      if (storeBaseCheck !== undefined) {
        const real = await verifyDirs(storeBaseCheck, {
          input: req.inputDir,
          output: req.outputDir,
        });
        // Bind what was checked: the real directories, so the engine follows no link on the way.
        created = real.created;
        spec = { ...spec, mounts: resolveMounts(real, storage) };
      }
      const queued = this.#queueFieldsOf(spec, req.auid);
      const intake = await ledger
        .intake({ jid, spec, fingerprint: fingerprintOf(req), auid: req.auid, queued })
        .catch(async (err: unknown) => {
          await removeCreated(created);
          throw storeUnavailable(err);
        });
      // Durable from here on: whatever happens next, the run ends in a recorded state.
      if (queued !== undefined && !this.#scheduler.pick(intake.runId)) {
        const info = this.#queuedInfo(intake.runId, spec);
        // An event too, so the event stream and webhooks say the job waits (GETs say where now).
        await ledger.appendEvent(intake.runId, 'notstarted', info.message).catch((err: unknown) => {
          this.#warn(`could not note that job "${jid}" was queued`, err);
        });
        return info;
      }
      if (queued !== undefined && !(await this.#dequeueOwn(intake.runId, spec))) {
        return this.#queuedInfo(intake.runId, spec);
      }
      return await this.#createAtEngine(intake.runId, spec, created);
    } finally {
      release?.();
      this.#creating.delete(jid);
    }
  }

  /**
   * The engine create of an accepted run. Refused → the run ends removed (the jid is free again,
   * a GET answers 404 as pman's did) and the error is the answer; engine unreachable → the run
   * waits for the reconciler (ACCEPT_WHILE_UNAVAILABLE), or the same refusal when that is off.
   */
  async #createAtEngine(
    runId: number,
    spec: JobSpec,
    created: readonly string[],
    fromQueue = false,
  ): Promise<JobInfo> {
    const { backend, ledger, storeBaseCheck, config } = this.#deps;
    // The run stays "pending" until the engine holds its object (for Docker maybe only after a
    // pull, after create answered): a restart in between creates it instead of calling it vanished.
    const options: CreateOptions = {
      onCreated: () => {
        if (this.#objectMade.has(runId)) return;
        this.#objectMade.add(runId);
        ledger
          .markCreated(runId)
          .catch((err: unknown) => {
            // A store that cannot note it (a full disk) leaves it to the start-up reconcile,
            // which finds the object — never a failed answer.
            this.#warn(`could not note that job "${spec.name}" was created`, err);
          })
          .finally(() => this.#objectMade.delete(runId));
      },
      onFailed: (info) => {
        const run = ledger.current(spec.name);
        if (run?.id !== runId) return;
        this.#recorder.finish(run, info, '').catch((err: unknown) => {
          this.#warn(`could not record the failed start of job "${spec.name}"`, err);
        });
      },
    };
    if (storeBaseCheck !== undefined) {
      // Re-checked right before the engine creates and starts it (issue 10, mount race) — also
      // when the reconciler creates a run accepted before a restart.
      options.recheckMounts = async () =>
        recheckMounts(await realpath(storeBaseCheck), spec.mounts);
    }
    try {
      const info = await backend.create(spec, options);
      // Cancelled while the engine was creating it: what it made must not run on.
      if (ledger.current(spec.name)?.id === runId) await this.#stopper.stopLate(spec.name);
      // Not awaited: the 201 promises a durable run (the intake committed), and a "created" note
      // lost with a crash is what the start-up reconcile restores. One group commit less to wait.
      return { ...info, status: 'notstarted' };
    } catch (err) {
      if (err instanceof BackendUnavailableError && config.acceptWhileUnavailable !== false) {
        const message = waitingText(err.message);
        await ledger.appendEvent(runId, 'notstarted', message);
        this.#reconciler.wake();
        return waitingInfo(spec, message);
      }
      await this.#refused(runId, spec.name, err, fromQueue);
      await removeCreated(created);
      throw err instanceof ConflictError ? conflict(spec.name, err) : err;
    }
  }

  /** A run's status changed: a started run gets its deadline, an ended one loses it. */
  #changed(jid: string): void {
    const run = this.#deps.ledger.current(jid);
    if (run === undefined) return;
    if (isTerminal(run)) this.#deadlines.disarm(run.id);
    else this.#deadlines.arm(run);
  }

  /**
   * POST /api/v1/<jid>/cancel/ (issue 13): stops the job without removing it (SIGTERM, SIGKILL
   * after CANCEL_GRACE_SECONDS); it ends finishedWithError / `cancelled…` with its logs and
   * history kept. One not started at the engine ends at once. ConflictError once it has ended.
   */
  async cancel(jid: string): Promise<JobInfo> {
    this.#assertPlausible(jid);
    const run = this.#live(jid);
    if (run === undefined) throw notFound(jid);
    const outcome = await this.#stopper.stop(run, CANCELLED_TEXT);
    this.#deadlines.disarm(run.id);
    const now = this.#live(jid) ?? run;
    if (outcome === 'ended' || isTerminal(now)) return this.#present(infoOfRun(now));
    const grace = this.#stopper.graceSeconds;
    const info = this.#present(infoOfRun(now));
    return { ...info, message: `cancelling: SIGTERM sent, SIGKILL after ${grace} s` };
  }

  /** Stops the deadline timers and the service checks (shutdown). */
  close(): void {
    this.#deadlines.close();
    this.#services.close();
  }

  /**
   * The answered JobInfo of a service job (issue 15, services/presented.ts): `notstarted` /
   * `waiting for health check` until its check passed, its endpoint once reachable. A service
   * being stopped says so during the grace, as any job does. Other jobs' infos are unchanged.
   */
  #present(info: JobInfo): JobInfo {
    const run = this.#deps.ledger.current(info.name);
    if (run?.spec.service === undefined) return info;
    const shown = this.#services.present(run, info);
    if (run.stopReason === null || isTerminalStatus(shown.status)) return shown;
    return { ...shown, message: `stopping: ${run.stopReason}` };
  }

  /**
   * The queue row of a new run when a cap is set (issue 13); undefined without caps: the run is
   * created at once, as before. A run that could never fit (more GPUs than MAX_GPUS) is a 400.
   */
  #queueFieldsOf(spec: JobSpec, auid: string): QueueFields | undefined {
    const caps = this.#scheduler.caps;
    if (!this.#scheduler.capped) return undefined;
    if (!canEverFit(spec.resources.gpus, caps))
      throw new ValidationError({
        gpu_limit: `must be at most ${caps.maxGpus ?? 0} (MAX_GPUS of this pman): the job could never start`,
      });
    return queueFields(spec, auid);
  }

  /** The POST's own run, admitted: out of the queue first. A store that cannot note it leaves
   *  the run queued (false) — it is durable, and the scheduler admits it later. */
  async #dequeueOwn(runId: number, spec: JobSpec): Promise<boolean> {
    try {
      await this.#scheduler.dequeueOwn(runId);
      return true;
    } catch (err) {
      this.#warn(`could not take job "${spec.name}" out of the queue; it waits there`, err);
      this.#scheduler.wake();
      return false;
    }
  }

  /** The 201 of a run left in the queue: notstarted, "queued (position n)". */
  #queuedInfo(runId: number, spec: JobSpec): JobInfo {
    const place = this.#scheduler.place(runId);
    const message = place === undefined ? 'queued' : queuedText(place.position);
    return { ...waitingInfo(spec, message), status: 'notstarted' };
  }

  /**
   * A queued run the scheduler admitted (dequeued already): created at the engine as the POST
   * would have — unless it ended or was removed meanwhile (checked now, synchronously).
   */
  async #admitQueued(queued: QueuedRun): Promise<void> {
    const run = this.#deps.ledger.current(queued.jid);
    if (run?.id !== queued.runId || run.removed !== null || isTerminal(run)) return;
    // A POST of the jid under way (or the reconciler's create) owns it; the reconciler skips it now.
    if (this.#creating.has(run.jid)) return;
    this.#creating.add(run.jid);
    try {
      if (!(await this.#retries.beforeAttempt(run))) return;
      await this.#createAtEngine(run.id, run.spec, [], true);
    } finally {
      this.#creating.delete(run.jid);
    }
  }

  /** A run the engine refused: recorded as such, and removed, so it names no job. */
  async #refused(runId: number, jid: string, err: unknown, keep = false): Promise<void> {
    const { ledger } = this.#deps;
    const reason = err instanceof Error ? err.message : String(err);
    await ledger.finish(runId, {
      status: 'finishedWithError',
      message: `refused by the engine: ${reason}`,
      logs: '',
    });
    // A run admitted from the queue was answered 201 long ago: it stays, saying why it failed.
    if (!keep) await ledger.markRemoved(runId);
    this.#finished.forget(jid);
  }

  /**
   * A jid that breaks the backend's name rule names no job we could have made, so it is a 404
   * before any backend call: it never reaches an engine URL (think "../../info") or a Kubernetes name.
   */
  #assertPlausible(jid: string): void {
    const fits = fitsNameRule(jid, this.#deps.backend.capabilities.jobName);
    if (!fits && this.#live(jid) === undefined) throw notFound(jid);
  }

  /**
   * Status and log tail. A finished run is the store's answer (cached): no engine call. A run
   * still waiting for the engine is the store's too. Otherwise one look at the engine, recorded.
   */
  async read(jid: string): Promise<JobRead> {
    const read = await this.#read(jid);
    return { ...read, info: this.#present(read.info) };
  }

  async #read(jid: string): Promise<JobRead> {
    this.#assertPlausible(jid);
    const run = this.#live(jid);
    if (run === undefined) return this.#readUnknown(jid);
    if (isTerminal(run)) return this.#finishedRead(run);
    const held = heldRead(run, this.#deps.ledger, this.#scheduler, this.#limits);
    if (held !== undefined) return held;
    if (this.#pending(run) && this.#creating.has(jid)) {
      return { info: infoOfRun(run), logs: '' };
    }
    let read: JobRead;
    try {
      read = await this.#deps.backend.read(jid, { logs: this.#limits });
    } catch (err) {
      if (err instanceof NotFoundError) return this.#readVanished(run);
      // Waiting for an engine that is down: the store knows it has not started.
      if (err instanceof BackendUnavailableError && this.#pending(run)) {
        return { info: infoOfRun(run), logs: '' };
      }
      throw err;
    }
    // A backend that watches its jobs hands over their end with the complete log by itself: a
    // GET that sees it first waits (briefly) for that capture instead of reading the whole log a
    // second time alongside it; only if none comes does it capture the end itself.
    if (isTerminalStatus(read.info.status)) await this.#awaitEnd(run, GET_SETTLE_MS);
    const recorded = this.#live(jid);
    if (recorded !== undefined && isTerminal(recorded)) return this.#finishedRead(recorded);
    await this.#recorder.observe(run, read, false);
    const now = this.#live(jid);
    if (now !== undefined && isTerminal(now)) return this.#finishedRead(now);
    // An ended look that did not end the run (an attempt that is retried): the store's word.
    if (now !== undefined && isTerminalStatus(read.info.status))
      return { info: infoOfRun(now), logs: read.logs };
    // A run being stopped (cancel, deadline) says so during the grace, not the engine's "running".
    if (now?.stopReason != null) {
      return { ...read, info: { ...read.info, message: `stopping: ${now.stopReason}` } };
    }
    // A retried run's later attempt says which it is ("attempt 2 of 3").
    const attempt = now === undefined ? undefined : this.#retries.runningText(now);
    return attempt === undefined ? read : { ...read, info: { ...read.info, message: attempt } };
  }

  /** An engine object of ours the store does not know is adopted; anything else is a 404. */
  async #readUnknown(jid: string): Promise<JobRead> {
    let read: JobRead;
    try {
      read = await this.#deps.backend.read(jid, { logs: this.#limits });
    } catch (err) {
      throw err instanceof NotFoundError ? notFound(jid, err) : err;
    }
    const run = await this.#recorder.adopt(read, false);
    if (run !== undefined && isTerminal(run)) return this.#finishedRead(run);
    return read;
  }

  /** The engine no longer has a run's object: pending → still to be created; else it vanished. */
  async #readVanished(run: LedgerRun): Promise<JobRead> {
    if (this.#pending(run)) {
      this.#reconciler.wake();
      return { info: infoOfRun(run), logs: '' };
    }
    await this.#recorder.vanished(run);
    const now = this.#deps.ledger.current(run.jid) ?? run;
    return this.#finishedRead(now);
  }

  #finishedRead(run: LedgerRun): JobRead {
    const cached = this.#finished.get(run.jid, run.id);
    if (cached !== undefined) return cached;
    const logs = boundLogBytes(this.#deps.ledger.logBytes(run.id), this.#limits);
    const read = { info: infoOfRun(run), logs };
    this.#finished.set(run.jid, run.id, read);
    return read;
  }

  /** A snapshot the backend's watch handed over: recorded, or adopted when the store lacks it. */
  async #observed(snapshot: JobRead): Promise<void> {
    const jid = snapshot.info.name;
    // A snapshot whose log could not be read is recorded after one more read of it.
    const complete = snapshot.partial !== true;
    const known = this.#deps.ledger.current(jid);
    if (known !== undefined && this.#pending(known) && isTerminalStatus(snapshot.info.status)) {
      // The engine has not confirmed the run's object (onCreated), so this cannot be the end of
      // a run we started: it is a half-answered create being cleaned up (the engine made the
      // container but its answer was lost) or a foreign object of that name. The reconciler
      // settles the run (creates it, or finds the object); recording "dead" would end a job
      // that never ran.
      return;
    }
    if (this.#creating.has(jid)) {
      // The create in flight records it; a terminal snapshot must not be lost meanwhile.
      const run = this.#deps.ledger.current(jid);
      if (run !== undefined && run.removed === null)
        await this.#recorder.observe(run, snapshot, complete);
      return;
    }
    const run = this.#deps.ledger.current(jid);
    if (run === undefined) await this.#recorder.adopt(snapshot, complete);
    else await this.#recorder.observe(run, snapshot, complete);
  }

  /** 404 unless the store or the backend knows the jid (HEAD of the logs route). */
  async assertKnown(jid: string): Promise<void> {
    this.#assertPlausible(jid);
    if (this.#live(jid) !== undefined) return;
    await this.#readUnknown(jid);
  }

  /**
   * api.md §11: REMOVE_JOBS=no → nothing; unknown → 404. A run that had not finished is read once
   * more (what it wrote is kept), the engine objects go, then the run is marked removed: an engine
   * that cannot be reached is a 503 that changed nothing.
   */
  async remove(jid: string): Promise<void> {
    const { backend, ledger, config } = this.#deps;
    if (!config.removeJobs) return;
    this.#assertPlausible(jid);
    const run = this.#live(jid);
    if (run === undefined) {
      // Not in the store: an engine object of ours (made before the store existed) still goes.
      await backend.delete(jid).catch((err: unknown) => {
        throw err instanceof NotFoundError ? notFound(jid, err) : err;
      });
      return;
    }
    let last: JobRead | undefined;
    if (!isTerminal(run)) {
      const look = await this.#lastLook(run);
      last = look.read;
      // The object is gone already (a `docker rm -f`, a TTL cleanup): the watch may be handing
      // over its end right now — wait for that rather than record the run as cut short.
      if (look.gone) await this.#awaitEnd(run);
    }
    try {
      await backend.delete(jid);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const now = this.#live(jid) ?? run;
    if (!isTerminal(now)) await this.#endRemoved(now, last);
    await ledger.markRemoved(run.id);
    this.#finished.forget(jid);
  }

  /** A run about to be deleted: its state and complete log, if the engine still has them. */
  async #lastLook(run: LedgerRun): Promise<{ read?: JobRead; gone: boolean }> {
    if (this.#pending(run)) return { gone: false };
    try {
      return { read: await this.#deps.backend.read(run.jid, { logs: this.#archive }), gone: false };
    } catch (err) {
      return { gone: err instanceof NotFoundError };
    }
  }

  /** Waits (bounded) for a capture of the run's end that the backend's watch may be taking. */
  async #awaitEnd(run: LedgerRun, ms = END_SETTLE_MS): Promise<void> {
    if (this.#deps.backend.watchJobs === undefined) return;
    const deadline = Date.now() + ms;
    for (;;) {
      await this.#recorder.capturing(run.id);
      const now = this.#deps.ledger.current(run.jid);
      if (now === undefined || now.id !== run.id || isTerminal(now)) return;
      if (Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A run deleted before it finished keeps what it wrote and says how it ended. */
  async #endRemoved(run: LedgerRun, read: JobRead | undefined): Promise<void> {
    if (read !== undefined && isTerminalStatus(read.info.status)) {
      await this.#recorder.finish(run, read.info, read.logs, true);
      return;
    }
    await this.#deps.ledger.finish(run.id, {
      status: 'finishedWithError',
      message: `removed by DELETE while ${read?.info.status ?? run.status}`,
      logs: read?.logs ?? '',
    });
  }

  /**
   * Live jobs (api.md §12.1): our engine objects, with the store's answer for finished runs and
   * runs still waiting for the engine, sorted by jid.
   */
  async list(status: JobStatus | undefined): Promise<JobInfo[]> {
    const { ledger, backend } = this.#deps;
    const byJid = new Map<string, JobInfo>();
    for (const info of await backend.list()) {
      const run = ledger.current(info.name);
      if (run?.removed !== null && run !== undefined) continue;
      byJid.set(info.name, run !== undefined && isTerminal(run) ? infoOfRun(run) : info);
    }
    for (const run of ledger.liveRuns()) {
      if (!byJid.has(run.jid) && (isTerminal(run) || this.#pending(run))) {
        byJid.set(run.jid, infoOfRun(run));
      }
    }
    return [...byJid.values()]
      .map((info) => this.#present(info))
      .filter((info) => status === undefined || info.status === status)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The log stream, started before the response so a 404 can still be answered. The engine's
   * stream while it has the object (complete, whatever its size); a finished run's archived log
   * once it is gone, and a run still waiting for the engine has none yet.
   */
  async openLogs(jid: string, tail: number | undefined): Promise<ReadableStream<Uint8Array>> {
    this.#assertPlausible(jid);
    const run = this.#live(jid);
    if (run !== undefined && this.#pending(run) && !isTerminal(run)) {
      return streamOfBytes(new Uint8Array(0));
    }
    try {
      return await startStream(this.#deps.backend.streamLogs(jid, tail));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (run === undefined) throw notFound(jid, err);
      return streamOfBytes(this.#archivedTail(run.id, tail));
    }
  }

  /** The archived log, or its last `tail` lines, as bytes (never decoded as a whole). */
  #archivedTail(runId: number, tail: number | undefined): Uint8Array {
    const bytes = this.#deps.ledger.logBytes(runId);
    if (tail === undefined) return bytes;
    return new TextEncoder().encode(boundLogBytes(bytes, { tail, maxBytes: UNLIMITED }));
  }

  /** GET /api/v1/history/: runs, newest first, one page. */
  history(query: HistoryQuery): HistoryPage {
    return this.#deps.ledger.history(query);
  }

  /** GET /api/v1/history/<jid>/: every run of the jid, oldest first; 404 when it has none. */
  historyOf(jid: string): LedgerRun[] {
    const runs = this.#deps.ledger.runsOf(jid);
    if (runs.length === 0) throw new NotFoundError(`no runs of job "${jid}" in the history`);
    return runs;
  }

  /** The archived log of one run (what it wrote so far, while it runs: nothing yet). */
  runLog(jid: string, run: number): string {
    const found = this.#deps.ledger.runsOf(jid).find((r) => r.run === run);
    if (found === undefined) throw new NotFoundError(`job "${jid}" has no run ${run}`);
    return this.#deps.ledger.log(found.id);
  }

  /** One attempt's archived log (issue 13): a retried one's, or the run's own for its last. */
  attemptLog(jid: string, run: number, attempt: number): string {
    const found = this.#deps.ledger.runsOf(jid).find((r) => r.run === run);
    if (found === undefined) throw new NotFoundError(`job "${jid}" has no run ${run}`);
    const { attempts } = this.#deps.ledger;
    const recorded = attempts.count(found.id);
    if (attempt === recorded + 1) return this.#deps.ledger.log(found.id);
    const log = attempt <= recorded ? attempts.log(found.id, attempt) : undefined;
    if (log === undefined)
      throw new NotFoundError(`run ${run} of job "${jid}" has no attempt ${attempt}`);
    return log;
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

function waitingInfo(spec: JobSpec, message: string): JobInfo {
  return {
    name: spec.name,
    image: spec.image,
    command: spec.command,
    status: 'notstarted',
    message,
    timestamp: new Date().toISOString(),
  };
}
