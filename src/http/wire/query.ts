// Query parameters of the read routes: ?status= on the list, ?tail= on the logs (api.md §12).
import { ValidationError } from '../../domain/errors.js';
import { JOB_STATUSES } from '../../domain/job.js';
import type { JobStatus } from '../../domain/job.js';

/** First value per key, as Werkzeug's request.args.get() reads it. */
export function firstQueryValues(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URL(url).searchParams) if (!(key in out)) out[key] = value;
  return out;
}

export function parseStatusFilter(value: string | undefined): JobStatus | undefined {
  if (value === undefined) return undefined;
  if ((JOB_STATUSES as readonly string[]).includes(value)) return value as JobStatus;
  throw new ValidationError({ status: `${value} is not a valid choice` });
}

export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value)) {
    throw new ValidationError({
      tail: `must be a non-negative integer, got ${JSON.stringify(value)}`,
    });
  }
  return Number(value);
}
