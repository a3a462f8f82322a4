// The history query: filters, newest first (created, then id), and an opaque cursor that names
// the last run of a page, so the next page starts right after it whatever was inserted meanwhile.
import { ValidationError } from '../domain/errors.js';
import type { JobStatus } from '../domain/job.js';

/** A page holds at most this many runs (the wire's ?limit= maximum). */
export const MAX_HISTORY_LIMIT = 1000;

export interface HistoryQuery {
  jid?: string;
  status?: JobStatus;
  auid?: string;
  /** Runs created at or after this time (ms since the epoch). */
  since?: number;
  /** Runs created before this time (ms since the epoch). */
  until?: number;
  limit: number;
  cursor?: string;
}

/** Where a page ended: the (created, id) of its last run. */
interface Position {
  created: number;
  id: number;
}

const CURSOR_VERSION = 'r1';

export function encodeCursor(position: Position): string {
  const text = `${CURSOR_VERSION}.${position.created}.${position.id}`;
  return Buffer.from(text).toString('base64url');
}

/** The position a cursor names; a ValidationError on anything this server did not hand out. */
export function decodeCursor(cursor: string): Position {
  const [version, created, id, ...rest] = Buffer.from(cursor, 'base64url')
    .toString('latin1')
    .split('.');
  const ok =
    version === CURSOR_VERSION &&
    rest.length === 0 &&
    /^-?\d{1,16}$/.test(created ?? '') &&
    /^\d{1,16}$/.test(id ?? '');
  if (!ok) throw new ValidationError({ cursor: 'is not a cursor this server handed out' });
  return { created: Number(created), id: Number(id) };
}

/** The WHERE clause and its parameters for `q` (every value bound, nothing spliced in). */
export function historyWhere(q: HistoryQuery): { sql: string; params: Array<string | number> } {
  const terms: string[] = [];
  const params: Array<string | number> = [];
  const add = (term: string, ...values: Array<string | number>) => {
    terms.push(term);
    params.push(...values);
  };
  if (q.jid !== undefined) add('jid = ?', q.jid);
  if (q.status !== undefined) add('status = ?', q.status);
  if (q.auid !== undefined) add('auid = ?', q.auid);
  if (q.since !== undefined) add('created >= ?', q.since);
  if (q.until !== undefined) add('created < ?', q.until);
  if (q.cursor !== undefined) {
    const { created, id } = decodeCursor(q.cursor);
    add('(created, id) < (?, ?)', created, id);
  }
  return { sql: terms.length === 0 ? '' : `WHERE ${terms.join(' AND ')}`, params };
}

/** A page size the store accepts: SQLite would read a negative LIMIT as "no limit". */
export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)
    throw new RangeError(`limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}, not ${limit}`);
}
