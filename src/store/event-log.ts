// Reads of the event log for replay: events after a seq (filtered by jid, status or run), the
// oldest seq still retained and the last seq ever handed out (retention deletes old runs' events).
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';
import { JOB_STATUSES } from '../domain/job.js';
import type { JobStatus } from '../domain/job.js';
import type { StoreEvent } from './event-hub.js';

export interface EventFilter {
  /** Only these jids (absent or empty: any). */
  jids?: readonly string[] | undefined;
  /** Only these statuses (absent or empty: any). */
  statuses?: readonly JobStatus[] | undefined;
  /** Only this run (its store id). */
  runId?: number | undefined;
}

const EventRow = z.object({
  seq: z.number().int(),
  run_id: z.number().int(),
  jid: z.string(),
  run_no: z.number().int(),
  status: z.enum(JOB_STATUSES),
  message: z.string(),
  at: z.number().int(),
});

const SELECT = `SELECT e.seq, e.run_id, r.jid, r.run_no, e.status, e.message, e.at
  FROM events e JOIN runs r ON r.id = e.run_id`;

export class EventLog {
  readonly #since: Statement<
    [
      number,
      string | null,
      string | null,
      string | null,
      string | null,
      number | null,
      number | null,
      number,
    ]
  >;
  readonly #oldest: Statement<[]>;
  readonly #last: Statement<[]>;

  constructor(db: Database) {
    // One statement for every filter: a NULL list means "any"; lists travel as JSON arrays.
    this.#since = db.prepare(
      `${SELECT} WHERE e.seq > ?
         AND (? IS NULL OR r.jid IN (SELECT value FROM json_each(?)))
         AND (? IS NULL OR e.status IN (SELECT value FROM json_each(?)))
         AND (? IS NULL OR e.run_id = ?)
       ORDER BY e.seq LIMIT ?`,
    );
    this.#oldest = db.prepare('SELECT min(seq) FROM events').pluck();
    this.#last = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck();
  }

  /** At most `limit` events with a seq above `seq` that pass `filter`, in seq order. */
  since(seq: number, limit: number, filter: EventFilter = {}): StoreEvent[] {
    // SQLite reads a negative LIMIT as "no limit": a caller's bug must not read the whole log.
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, not ${limit}`);
    const jids = listOrNull(filter.jids);
    const statuses = listOrNull(filter.statuses);
    const runId = filter.runId ?? null;
    const rows = this.#since.all(seq, jids, jids, statuses, statuses, runId, runId, limit);
    return rows.map((row) => {
      const r = EventRow.parse(row);
      return {
        seq: r.seq,
        runId: r.run_id,
        jid: r.jid,
        run: r.run_no,
        status: r.status,
        message: r.message,
        at: r.at,
      };
    });
  }

  /** The oldest seq still in the store (undefined when it holds no event). */
  oldest(): number | undefined {
    const value: unknown = this.#oldest.get();
    return typeof value === 'number' ? value : undefined;
  }

  /** The last seq ever handed out, retained or not (0 before the first event). */
  last(): number {
    const value: unknown = this.#last.get();
    return typeof value === 'number' ? value : 0;
  }
}

function listOrNull(list: readonly string[] | undefined): string | null {
  return list === undefined || list.length === 0 ? null : JSON.stringify(list);
}
