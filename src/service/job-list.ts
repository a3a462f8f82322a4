// GET /api/v1/jobs/ with filters and pages (issue 13): the job list as it always was (our engine
// objects and the store's runs, sorted by jid), narrowed by labels and auid from the store, and cut
// into pages by a cursor naming the last jid of a page. Sorted by jid, a page boundary never moves:
// jobs created meanwhile land either before it (not shown again) or after it (shown once).
import type { JobInfo, JobStatus } from '../domain/job.js';
import { ValidationError } from '../domain/errors.js';
import type { Ledger } from '../store/ledger.js';
import type { JobService } from './jobs.js';

export interface JobListQuery {
  status?: JobStatus;
  /** label=k=v pairs: every one must match the labels the job's engine objects carry. */
  labels: ReadonlyArray<readonly [string, string]>;
  auid?: string;
  /** Page size; absent = every job in one answer (as before issue 13). */
  limit?: number;
  cursor?: string;
}

export interface JobListPage {
  jobs: JobInfo[];
  /** The cursor of the next page; absent on the last one. */
  next?: string;
}

const CURSOR_VERSION = 'j1';

export function encodeJobCursor(lastJid: string): string {
  return Buffer.from(`${CURSOR_VERSION}.${lastJid}`).toString('base64url');
}

/** The jid a cursor names; a ValidationError on anything this server did not hand out. */
export function decodeJobCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${CURSOR_VERSION}.`;
  if (!text.startsWith(prefix) || text.length === prefix.length)
    throw new ValidationError({ cursor: 'is not a cursor this server handed out' });
  return text.slice(prefix.length);
}

export async function listJobs(
  jobs: Pick<JobService, 'list'>,
  ledger: Pick<Ledger, 'liveRuns'>,
  q: JobListQuery,
): Promise<JobListPage> {
  let rows = await jobs.list(q.status);
  if (q.labels.length > 0 || q.auid !== undefined) {
    // Labels and auid are the store's: an engine object the store does not know matches neither.
    const runs = new Map(ledger.liveRuns().map((run) => [run.jid, run]));
    rows = rows.filter((info) => {
      const run = runs.get(info.name);
      if (run === undefined) return false;
      if (q.auid !== undefined && run.auid !== q.auid) return false;
      return q.labels.every(([key, value]) => run.spec.labels[key] === value);
    });
  }
  if (q.cursor !== undefined) {
    const after = decodeJobCursor(q.cursor);
    rows = rows.filter((info) => info.name > after);
  }
  if (q.limit === undefined || rows.length <= q.limit) return { jobs: rows };
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return last === undefined ? { jobs: page } : { jobs: page, next: encodeJobCursor(last.name) };
}
