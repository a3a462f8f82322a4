// The Port: the one seam between the job service and an orchestrator. A backend is one folder
// (memory: memory.ts and its memory-module.ts) implementing it, plus one line in the registry.
import type { Logger } from 'pino';
import type { Capabilities } from '../domain/capabilities.js';
import type { JobInfo, JobSpec, LogLimits } from '../domain/job.js';

export type { Capabilities, JobNameRule } from '../domain/capabilities.js';

/**
 * The CONTAINER_ENV names: the registry's keys. registry.ts fills this interface in (declaration
 * merging), so the Port does not import the registry, which imports the Port through every module.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface BackendNames {}
export type BackendName = keyof BackendNames;

/** A job as one read of the backend found it. */
export interface JobRead {
  info: JobInfo;
  /** Combined stdout+stderr, decoded as UTF-8 and bounded; '' unless asked for, or not started. */
  logs: string;
  /** The log was asked for but could not be read (a watch snapshot): the caller may read again. */
  partial?: boolean;
}

export interface ReadOptions {
  /** Read the log tail too, within these bounds, in the same pass as the status. */
  logs?: LogLimits;
}

export interface StreamOptions {
  /**
   * Keep the stream open and pass new output as it is written (Docker/Swarm: the engine's
   * follow=1). Docker ends it when the container exits; Swarm's service log never ends by itself
   * (the service ends it from the task state); a backend that cannot follow answers what exists.
   */
  follow?: boolean;
  /** Ends the stream (and the engine request behind it), even while a read is waiting. */
  signal?: AbortSignal;
}

export interface CreateOptions {
  /**
   * Re-checks the job's storeBase directories (throws DirectoryError when one now leads outside
   * storeBase). A backend calls it right before the engine creates the job and again right before
   * it starts it — after a long image pull too — so a symlink swapped in after the first check is
   * never bound (issue 10, mount race). Absent when storeBase is not visible to this server.
   */
  recheckMounts?: () => Promise<void>;
  /**
   * Called at most once, after create() answered, when the job fails in the background before it
   * ever ran (Docker: the start, or a pending image pull, was refused): a finishedWithError JobInfo
   * whose message is the engine's text. Whatever the backend had made for the job is removed.
   */
  onFailed?: (info: JobInfo) => void;
  /**
   * Called once, as soon as the engine holds the job's object: before `create` resolves, or later
   * when `create` answered first (Docker: a missing image is pulled before the container exists).
   * The service keeps a run "pending" until then, so a restart creates a job whose pull it cut
   * short, and never takes one that had no object yet for an object that vanished.
   */
  onCreated?: () => void;
}

/** One orchestrator. Methods throw the errors of src/domain/errors.ts, never client-library errors. */
export interface Backend {
  /** The CONTAINER_ENV it serves (container_env on the wire). */
  readonly name: BackendName;
  readonly capabilities: Capabilities;
  /**
   * Create and start the job. The spec is final (name rule and capabilities already checked).
   * Docker answers once the container is created (or, for a missing image, once its pull is under
   * way: notstarted "pulling image"); the start continues in the background and a refusal there
   * reaches `options.onFailed`. Swarm and Kubernetes create in one call.
   * ConflictError if a job of that name exists: the service checks only its records and its own
   * creates in flight, so this is the duplicate check for every job the backend holds.
   * InvalidSpecError if the engine refuses the spec.
   */
  create(spec: JobSpec, options?: CreateOptions): Promise<JobInfo>;
  /**
   * Current state, and the log tail when asked, from one look at the backend (no second call
   * for the logs). NotFoundError if unknown.
   */
  read(name: string, options?: ReadOptions): Promise<JobRead>;
  /** Raw log bytes for GET /api/v1/:jid/logs/; `tail` = last n lines (undefined: all). */
  streamLogs(name: string, tail?: number, options?: StreamOptions): AsyncIterable<Uint8Array>;
  /** Stop and remove (tasks/pods too; pending pulls cancelled). NotFoundError if unknown. */
  delete(name: string): Promise<void>;
  /** Only jobs carrying our managed-by label. */
  list(): Promise<JobInfo[]>;
  /** Cheap liveness check of the backend (ping / version). Throws BackendUnavailableError. */
  ping(): Promise<void>;
  /** Stop watches, informers and background pulls. */
  close(): Promise<void>;
  /**
   * Optional: starts a job whose engine object exists but was never started (the server died
   * between Docker's create and start). A no-op when it runs or ran; NotFoundError when unknown.
   * A start the engine refuses removes the object and throws as create would have (InvalidSpecError
   * with the engine's text).
   */
  resume?(name: string): Promise<void>;
  /**
   * Optional capability: every status change of our jobs that the backend notices by itself
   * (engine events, informers, resyncs — including the first sight of each job after start-up),
   * as `{info, logs}`. A terminal snapshot is handed over once, with `info.exitCode` and the log
   * read within `limits` as soon as the final state is seen — before anything may remove the
   * object (Kubernetes TTL, a `docker rm -f` from outside); other snapshots carry logs ''. The job
   * service is the only writer of job state: the backend only reports.
   */
  watchJobs?(limits: LogLimits, listener: (snapshot: JobRead) => void): void;
  /**
   * Optional: stops a running job without removing it (cancel, deadlines). SIGTERM, then SIGKILL
   * after `graceSeconds`; the object and its logs stay until `delete`. A no-op for a job that
   * already ended; NotFoundError if unknown. Resolves once the engine took the order (the end is
   * seen through read/watch as for any other end).
   */
  stop?(name: string, graceSeconds: number): Promise<void>;
  /** Optional: the nodes jobs can run on, with what each offers (GET /api/v1/capacity/). */
  capacity?(): Promise<NodeCapacity[]>;
  /** Optional: the images the engine holds locally, one entry per tag (GET /api/v1/images/,
   *  issue 15; Docker and Podman). Untagged images are left out. */
  images?(): Promise<LocalImage[]>;
}

/** One locally held image tag as GET /api/v1/images/ shows it. */
export interface LocalImage {
  /** The tag as `docker images` prints it, e.g. `127.0.0.1:5999/pman-ts/busybox:test`. */
  reference: string;
  /** The image id (`sha256:…`). */
  id: string;
  sizeBytes: number;
  /** RFC 3339 UTC. */
  created: string;
  /** The image's labels (OCI `org.opencontainers.image.*` among them). */
  labels: Readonly<Record<string, string>>;
}

/** One node of the backend as GET /api/v1/capacity/ shows it. */
export interface NodeCapacity {
  name: string;
  cpuMillicores: number;
  memoryMiB: number;
  gpus: number;
}

/** What every backend factory receives besides its own config. */
export interface BackendDeps {
  log: Logger;
  /** Timeout of each backend API call (BACKEND_TIMEOUT_SECONDS × 1000). */
  timeoutMs: number;
  /** Injected clock (tests share it with fakes). */
  now?: () => Date;
}
