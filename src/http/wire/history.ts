// The history routes' parameters (issue 11): ?jid=&status=&auid=&since=&until=&limit=&cursor= and
// the <run> path segment. An unknown parameter or a bad value is a 400 naming it.
import { ValidationError } from '../../domain/errors.js';
import { MAX_HISTORY_LIMIT } from '../../store/history.js';
import type { HistoryQuery } from '../../store/history.js';
import { parseStatusFilter } from './query.js';

/** ?limit= when absent (its maximum is the store's page bound, MAX_HISTORY_LIMIT). */
export const DEFAULT_HISTORY_LIMIT = 100;

export const HISTORY_PARAMETERS = [
  'jid',
  'status',
  'auid',
  'since',
  'until',
  'limit',
  'cursor',
] as const;

const KNOWN: ReadonlySet<string> = new Set(HISTORY_PARAMETERS);

/** RFC 3339 date-time: a date, 'T' (or a space, as RFC 3339 allows), a time, Z or an offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const TIME_TEXT = 'must be an RFC 3339 time such as 2024-05-07T15:02:11Z';

/**
 * The query of GET /api/v1/history/. Every unknown parameter is named at once (a misspelt filter
 * must not silently widen the answer); a repeated one counts by its first value, as elsewhere.
 */
export function parseHistoryQuery(url: string): HistoryQuery {
  const params = new URL(url).searchParams;
  const unknown = [...new Set(params.keys())].filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) {
    const known = HISTORY_PARAMETERS.join(', ');
    throw new ValidationError(
      Object.fromEntries(
        unknown.map((key) => [key, `is not a parameter of this route (${known})`]),
      ),
    );
  }
  const value = (key: (typeof HISTORY_PARAMETERS)[number]) => params.get(key) ?? undefined;
  const query: HistoryQuery = { limit: parseLimit(value('limit')) };
  const jid = nonEmpty('jid', value('jid'));
  if (jid !== undefined) query.jid = jid;
  const status = parseStatusFilter(value('status'));
  if (status !== undefined) query.status = status;
  const auid = nonEmpty('auid', value('auid'));
  if (auid !== undefined) query.auid = auid;
  const since = parseTime('since', value('since'));
  if (since !== undefined) query.since = since;
  const until = parseTime('until', value('until'));
  if (until !== undefined) query.until = until;
  const cursor = nonEmpty('cursor', value('cursor'));
  if (cursor !== undefined) query.cursor = cursor;
  return query;
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_HISTORY_LIMIT;
  const limit = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && limit <= MAX_HISTORY_LIMIT))
    throw new ValidationError({
      limit: `must be an integer from 1 to ${MAX_HISTORY_LIMIT}, got ${JSON.stringify(text)}`,
    });
  return limit;
}

function nonEmpty(key: string, text: string | undefined): string | undefined {
  if (text === '') throw new ValidationError({ [key]: 'must not be empty' });
  return text;
}

/** Milliseconds since the epoch of an RFC 3339 time. */
function parseTime(key: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = RFC3339.test(text) ? Date.parse(text.replace(' ', 'T')) : NaN;
  if (!Number.isFinite(ms))
    throw new ValidationError({ [key]: `${TIME_TEXT}, got ${JSON.stringify(text)}` });
  return ms;
}

/** The <run> segment of /api/v1/history/<jid>/<run>/logs/: 1, 2, … */
export function parseRunNumber(segment: string | undefined, name = 'run'): number {
  const text = segment ?? '';
  if (!/^[1-9]\d{0,14}$/.test(text))
    throw new ValidationError({
      [name]: `must be ${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name} number (1, 2, …), got ${JSON.stringify(text)}`,
    });
  return Number(text);
}
