// The one seam between the HTTP API and the orchestrators, and the central capability check.
import { UnsupportedError } from '../errors.js';
import type { Logger } from 'pino';
import type { JobInfo, JobSpec, LogLimits, Mount } from '../job.js';

export type BackendName = 'docker' | 'swarm' | 'kubernetes' | 'openshift' | 'memory';

export interface JobNameRule {
  pattern: RegExp;
  maxLength: number;
  /** Human text for the 400, e.g. "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit". */
  rule: string;
}

export interface Capabilities {
  /** Largest Resources.workers accepted; null = no limit. */
  maxWorkers: number | null;
  /** Whether gpu_limit > 0 can be honoured at all. */
  gpus: boolean;
  /** Why GPUs are unavailable (used in the 400 when gpus is false). */
  gpuUnavailableReason?: string;
  /** Largest node's CPU capacity in millicores when the backend can know it; null = unknown. */
  maxCpuMillicores: number | null;
  /** Largest node's memory in MiB when the backend can know it; null = unknown. */
  maxMemoryMiB: number | null;
  /** Whether JobSpec.user is honoured (false on OpenShift). */
  runAsUser: boolean;
  /** Which Mount kinds this backend can realize. */
  mountKinds: readonly Mount['kind'][];
  /** The backend's rule for job names (api.md §5.3). */
  jobName: JobNameRule;
}

/** One orchestrator. Methods throw the errors of src/errors.ts, never client-library errors. */
export interface Backend {
  readonly name: BackendName;
  readonly capabilities: Capabilities;
  /** How `cmd` is rendered on the wire: pman shell-quoted on Docker, space-joined elsewhere. */
  readonly cmdStyle: 'shell' | 'plain';
  /** Create and start the job. ConflictError if the name exists; InvalidSpecError if the engine refuses the spec. */
  create(spec: JobSpec): Promise<JobInfo>;
  /** Current state. NotFoundError if unknown. */
  get(name: string): Promise<JobInfo>;
  /** Combined stdout+stderr, decoded as UTF-8, bounded by the limits. NotFoundError if unknown. */
  logs(name: string, limits: LogLimits): Promise<string>;
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
}

/** What every backend factory receives besides its own config. */
export interface BackendDeps {
  log: Logger;
  /** Timeout of each backend API call (BACKEND_TIMEOUT_SECONDS × 1000). */
  timeoutMs: number;
  /** Injected clock (tests share it with fakes). */
  now?: () => Date;
}

/** Throws one UnsupportedError that lists every capability the spec exceeds, joined with "; ". */
export function assertSupported(spec: JobSpec, caps: Capabilities, backend: BackendName): void {
  const problems: string[] = [];
  const { workers, cpuMillicores, memoryMiB, gpus } = spec.resources;
  if (caps.maxWorkers !== null && workers > caps.maxWorkers) {
    problems.push(
      caps.maxWorkers === 1
        ? `Compute environment only supports number_of_workers=1, got number_of_workers=${workers}`
        : `number_of_workers=${workers} exceeds the largest value this ${backend} backend supports (${caps.maxWorkers})`,
    );
  }
  if (caps.maxCpuMillicores !== null && cpuMillicores > caps.maxCpuMillicores) {
    problems.push(
      `cpu_limit=${cpuMillicores} exceeds the largest node of this backend (${caps.maxCpuMillicores} millicores)`,
    );
  }
  if (caps.maxMemoryMiB !== null && memoryMiB > caps.maxMemoryMiB) {
    problems.push(
      `memory_limit=${memoryMiB} exceeds the largest node of this backend (${caps.maxMemoryMiB} MiB)`,
    );
  }
  if (gpus > 0 && !caps.gpus) {
    problems.push(
      `gpu_limit=${gpus} but ${caps.gpuUnavailableReason ?? `this ${backend} backend has no GPUs`}`,
    );
  }
  if (spec.user !== undefined && !caps.runAsUser) {
    problems.push(
      `this ${backend} backend does not run jobs as a fixed user (unset CONTAINER_USER)`,
    );
  }
  for (const mount of spec.mounts) {
    if (!caps.mountKinds.includes(mount.kind)) {
      problems.push(`this ${backend} backend cannot mount storage of kind "${mount.kind}"`);
      break;
    }
  }
  if (problems.length > 0) throw new UnsupportedError(problems.join('; '));
}
