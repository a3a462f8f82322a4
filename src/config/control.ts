// Job control (issue 13): how a cancel or a deadline stops a job, and the deadline every backend
// applies. JOB_DEADLINE_SECONDS was Kubernetes-only (activeDeadlineSeconds); the service now
// enforces it on every backend, and Kubernetes keeps activeDeadlineSeconds as a backstop.
import type { EnvReader } from './env-reader.js';

/** CANCEL_GRACE_SECONDS default: SIGTERM, then SIGKILL this much later (docker stop's is 10). */
export const DEFAULT_CANCEL_GRACE_SECONDS = 10;

export interface ControlSettings {
  /** CANCEL_GRACE_SECONDS: between the SIGTERM of a cancel or deadline and the SIGKILL. */
  cancelGraceSeconds: number;
  /** JOB_DEADLINE_SECONDS: a run that has run this long is stopped; unset = none (a POST's
   *  `timeout_seconds` still applies). Kubernetes keeps its own backstop default. */
  jobDeadlineSeconds?: number;
}

export function readControlSettings(r: EnvReader): ControlSettings {
  const jobDeadlineSeconds = r.optionalInt('JOB_DEADLINE_SECONDS', { min: 1 });
  return {
    cancelGraceSeconds: r.int('CANCEL_GRACE_SECONDS', DEFAULT_CANCEL_GRACE_SECONDS, {
      min: 0,
      max: 3600,
    }),
    ...(jobDeadlineSeconds !== undefined && { jobDeadlineSeconds }),
  };
}
