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
}

export interface ReadOptions {
  /** Read the log tail too, within these bounds, in the same pass as the status. */
  logs?: LogLimits;
}

export interface CreateOptions {
  /**
   * Re-checks the job's storeBase directories (throws DirectoryError when one now leads outside
   * storeBase). A backend calls it right before the engine creates the job and again right before
   * it starts it — after a long image pull too — so a symlink swapped in after the first check is
   * never bound (issue 10, mount race). Absent when storeBase is not visible to this server.
   */
  recheckMounts?: () => Promise<void>;
}

/** One orchestrator. Methods throw the errors of src/domain/errors.ts, never client-library errors. */
export interface Backend {
  /** The CONTAINER_ENV it serves (container_env on the wire). */
  readonly name: BackendName;
  readonly capabilities: Capabilities;
  /**
   * Create and start the job. The spec is final (name rule and capabilities already checked).
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
  streamLogs(name: string, tail?: number): AsyncIterable<Uint8Array>;
  /** Stop and remove (tasks/pods too; pending pulls cancelled). NotFoundError if unknown. */
  delete(name: string): Promise<void>;
  /** Only jobs carrying our managed-by label. */
  list(): Promise<JobInfo[]>;
  /** Cheap liveness check of the backend (ping / version). Throws BackendUnavailableError. */
  ping(): Promise<void>;
  /** Stop watches, informers and background pulls. */
  close(): Promise<void>;
  /**
   * Optional capability: the backend notices by itself when a job turns terminal (Kubernetes
   * informers) and hands over a snapshot with its log tail, so that a job nobody polled is still
   * recorded before cleanup (TTL) removes it. The job service is the only writer of records.
   */
  watchTerminal?(limits: LogLimits, listener: (snapshot: JobRead) => void): void;
}

/** What every backend factory receives besides its own config. */
export interface BackendDeps {
  log: Logger;
  /** Timeout of each backend API call (BACKEND_TIMEOUT_SECONDS × 1000). */
  timeoutMs: number;
  /** Injected clock (tests share it with fakes). */
  now?: () => Date;
}
