// What a backend can honour (data, computed at start-up) and the one central check of a spec
// against it; plus the job-name rule every backend states (api.md §5.3). Pure.
import { UnsupportedError } from './errors.js';
import type { JobSpec, Mount } from './job.js';

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
  /** Service jobs (issue 15): absent = this backend cannot run them (a 400 naming `service`);
   *  `nodePort`: whether `service.type` NodePort can be honoured (Kubernetes/OpenShift only). */
  services?: { nodePort: boolean };
}

/**
 * Whether `name` follows the rule. The length is checked first, so the pattern only ever sees a
 * short string (and the patterns are linear anyway: no nested quantifiers).
 */
export function fitsNameRule(name: string, rule: JobNameRule): boolean {
  return name !== '' && [...name].length <= rule.maxLength && rule.pattern.test(name);
}

/** Throws one UnsupportedError that lists every capability the spec exceeds, joined with "; ". */
export function assertSupported(spec: JobSpec, caps: Capabilities, backend: string): void {
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
  const service = spec.service;
  if (service !== undefined && caps.services === undefined) {
    problems.push(`service: this ${backend} backend cannot run service jobs`);
  } else if (service?.exposure === 'NodePort' && caps.services?.nodePort !== true) {
    problems.push(
      `service.type: NodePort is a Kubernetes/OpenShift Service type; this ${backend} backend publishes a host port (leave service.type unset)`,
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
