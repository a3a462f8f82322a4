// Idempotent submit (issue 13): what a POST of a jid that already names a job gets (EXISTING_JOB)
// and how long an Idempotency-Key is remembered (IDEMPOTENCY_TTL_SECONDS).
import type { EnvReader } from './env-reader.js';

export const EXISTING_JOB_MODES = ['conflict', 'return', 'rerun-failed'] as const;
export type ExistingJobMode = (typeof EXISTING_JOB_MODES)[number];

/** IDEMPOTENCY_TTL_SECONDS default: one day. */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;

export interface SubmitSettings {
  /** EXISTING_JOB: conflict (pman's 409, the default), return, or rerun-failed. */
  existingJob: ExistingJobMode;
  /** IDEMPOTENCY_TTL_SECONDS: how long a key and its first answer are kept. */
  idempotencyTtlSeconds: number;
}

export function readSubmitSettings(r: EnvReader): SubmitSettings {
  return {
    existingJob: r.oneOf('EXISTING_JOB', EXISTING_JOB_MODES, 'conflict'),
    idempotencyTtlSeconds: r.int('IDEMPOTENCY_TTL_SECONDS', DEFAULT_IDEMPOTENCY_TTL_SECONDS, {
      min: 1,
      max: 31_536_000,
    }),
  };
}
