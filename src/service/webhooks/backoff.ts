// The retry schedule of a failed delivery (issue 12): 1 s after the first failure, doubling each
// time, never more than 10 min apart.

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 10 * 60 * 1000;

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/** The wait after the `failures`-th failed attempt (1, 2, …): base·2^(failures−1), at most max. */
export function backoffMs(
  failures: number,
  { baseMs, maxMs }: BackoffSettings = { baseMs: BACKOFF_BASE_MS, maxMs: BACKOFF_MAX_MS },
): number {
  // 2^31 already exceeds any max: the exponent is capped so the number stays finite.
  const exponent = Math.min(Math.max(failures, 1) - 1, 31);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}
