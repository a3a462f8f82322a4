// The vocabulary shared by the HTTP layer and every backend (types only).

/** The five states pfcon and CUBE understand, spelled exactly as pman sent them (api.md §9). */
export type JobStatus =
  'notstarted' | 'started' | 'finishedSuccessfully' | 'finishedWithError' | 'undefined';

export const JOB_STATUSES = [
  'notstarted',
  'started',
  'finishedSuccessfully',
  'finishedWithError',
  'undefined',
] as const satisfies readonly JobStatus[];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  'finishedSuccessfully',
  'finishedWithError',
]);

export const INCOMING = '/share/incoming';
export const OUTGOING = '/share/outgoing';

/** Where a job's data comes from, already resolved from storeBase and checked for escapes. */
export interface Mount {
  /** 'host': `source` is an absolute host directory (STOREBASE, or a local volume's mountpoint).
   *  'volume': `source` is a PersistentVolumeClaim name. */
  kind: 'host' | 'volume';
  source: string;
  /** Relative path under `source`: never empty, no '', '.' or '..' segments. */
  subPath: string;
  containerPath: typeof INCOMING | typeof OUTGOING;
  readOnly: boolean;
}

export interface Resources {
  /** Workers that must all succeed (Kubernetes parallelism = completions; Docker and Swarm run exactly 1). */
  workers: number;
  /** CPU limit in millicores: 1000 = one CPU. */
  cpuMillicores: number;
  /** Memory limit in mebibytes (MiB). */
  memoryMiB: number;
  /** Whole GPUs; 0 for none. */
  gpus: number;
}

/** What every backend receives. Built once by toJobSpec(); backends never see wire fields or storage config. */
export interface JobSpec {
  /** The jid, already checked against the backend's name rule. */
  name: string;
  image: string;
  /** The full argv (api.md §6). Replaces the image's ENTRYPOINT and CMD on every backend. */
  command: readonly string[];
  /** The job's environment, in request order (insertion order of the record). */
  env: Readonly<Record<string, string>>;
  resources: Resources;
  mounts: readonly Mount[];
  /** Drawn from CONTAINER_USER (ranges resolved to one value per job). */
  user?: { uid?: number; gid?: number };
  /** /dev/shm size in MiB (SHM_SIZE). */
  shmMiB?: number;
  /** The request's callback_url (issue 12): this run's status events are also POSTed there. */
  callbackUrl?: string;
  /** JOB_LABELS merged with the request's labels; each backend adds its own managed-by label,
   *  which list() filters on. */
  labels: Readonly<Record<string, string>>;
  /** The request's own labels (issue 13), kept apart for GET /api/v1/jobs/?label= filters. */
  userLabels?: Readonly<Record<string, string>>;
  /** timeout_seconds (issue 13): the run is stopped once it ran this long. */
  timeoutSeconds?: number;
  /** priority (issue 13): higher starts first from the queue. toJobSpec and the store always set
   *  it (0 when not sent); optional only so JobSpec literals of tests and tools need not name it:
   *  read it as `spec.priority ?? 0`. */
  priority?: number;
  /** retries (issue 13): opt-in re-runs of a failed attempt. */
  retries?: RetryPolicy;
  /** service (issue 15): a long-running job with an endpoint instead of a batch job. */
  service?: ServiceSpec;
}

/** How a Kubernetes/OpenShift service job is exposed (the Service's type); other backends only
 *  publish a host port and refuse NodePort. */
export type ServiceExposure = 'ClusterIP' | 'NodePort';

/** The request's service object in domain terms (issue 15). */
export interface ServiceSpec {
  /** The container port the server listens on (1..65535). */
  port: number;
  /** HTTP path the health check GETs (a 2xx or 3xx answer passes); absent: a TCP connect is the
   *  check. Starts with '/'. */
  healthPath?: string;
  /** The Service type on Kubernetes/OpenShift; 'ClusterIP' unless asked. */
  exposure: ServiceExposure;
}

/** What a backend knows of a service job besides its status (issue 15). */
export interface ServiceView {
  /** Where clients reach it, e.g. `http://127.0.0.1:49153`, once the backend assigned an address
   *  (Docker: the published host port; Kubernetes: the Service's cluster address). */
  endpoint?: string;
  /** The backend's own verdict on the health check (Kubernetes: the readiness probe, through the
   *  Deployment's available replicas). Absent: the backend has none, and the job service probes
   *  the endpoint itself. */
  healthy?: boolean;
  /** How often the engine restarted the server so far, when it counts them. */
  restarts?: number;
}

/** The request's retries object in domain terms. */
export interface RetryPolicy {
  /** Attempts after the first (0..20). */
  limit: number;
  /** Wait between attempts (default 10). */
  backoffSeconds: number;
  /** Only these exit codes are retried; absent: any failure. */
  onExitCodes?: readonly number[];
}

export interface JobInfo {
  name: string;
  image: string;
  command: readonly string[];
  status: JobStatus;
  /** Short human-readable state or reason, e.g. "running", "OOMKilled (exit code 137)". */
  message: string;
  /** RFC 3339 UTC ('Z'): finish time when terminal, else start time, else creation time. */
  timestamp: string;
  /**
   * The job's exit code once terminal, when the engine reports one (Docker State.ExitCode, Swarm
   * the task's container, Kubernetes the first failing worker's or 0). Kept by the job ledger;
   * never on the pman wire (http/wire/response.ts picks its 7 keys by name).
   */
  exitCode?: number;
  /** Service jobs only (issue 15): endpoint, health and restarts as the backend sees them. */
  service?: ServiceView;
}

/** Bounds for a log read (api.md §10). */
export interface LogLimits {
  /** Last N lines (JOB_LOGS_TAIL). */
  tail: number;
  /** Byte cap after the line tail (JOB_LOGS_MAX_BYTES). */
  maxBytes: number;
}

/** Where storeBase lives once start-up has resolved it (a docker_local_volume becomes 'host'). */
export type Storage =
  { type: 'host'; storeBase: string } | { type: 'kubernetes_pvc'; claimName: string };

/** One side of CONTAINER_USER: a fixed id or an inclusive range (a random value per job). */
export interface IdRange {
  lo: number;
  hi: number;
}
