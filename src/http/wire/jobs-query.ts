// GET /api/v1/jobs/?status=&label=k=v&auid=&limit=&cursor= (issue 13). An unknown parameter is a
// 400 naming it: a misspelt filter must not silently widen the answer.
import { ValidationError } from '../../domain/errors.js';
import type { JobListQuery } from '../../service/job-list.js';
import { MAX_HISTORY_LIMIT } from '../../store/history.js';
import { rejectUnknown } from './events.js';
import { parseStatusFilter } from './query.js';

export const JOBS_PARAMETERS = ['status', 'label', 'auid', 'limit', 'cursor'] as const;

const SINGLE_PARAMETERS = ['status', 'auid', 'limit', 'cursor'] as const;

export function parseJobsQuery(url: string): JobListQuery {
  const params = new URL(url).searchParams;
  rejectUnknown(params, JOBS_PARAMETERS);
  // Only `label` repeats (all must match): a second status or limit would otherwise be dropped
  // silently, and `?status=a&status=b` read as "either" would answer only a's jobs.
  for (const key of SINGLE_PARAMETERS) {
    if (params.getAll(key).length > 1)
      throw new ValidationError({ [key]: 'may be given once (only label repeats)' });
  }
  const query: JobListQuery = {
    labels: params.getAll('label').map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw new ValidationError({
          label: `must be key=value, got ${JSON.stringify(pair)}`,
        });
      return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
    }),
  };
  const status = parseStatusFilter(params.get('status') ?? undefined);
  if (status !== undefined) query.status = status;
  const auid = params.get('auid');
  if (auid === '') throw new ValidationError({ auid: 'must not be empty' });
  if (auid !== null) query.auid = auid;
  const limit = params.get('limit');
  if (limit !== null) query.limit = parseLimit(limit);
  const cursor = params.get('cursor');
  if (cursor === '') throw new ValidationError({ cursor: 'must not be empty' });
  if (cursor !== null) query.cursor = cursor;
  return query;
}

function parseLimit(text: string): number {
  const limit = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && limit <= MAX_HISTORY_LIMIT))
    throw new ValidationError({
      limit: `must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${JSON.stringify(text)}`,
    });
  return limit;
}
