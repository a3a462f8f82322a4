// The webhook outbox (issue 12, migration v3): deliveries queued by a trigger in the transaction
// of their event; read here for the delivery worker (each target's jid's oldest first: per-job
// order) and the status route, and settled (acknowledged, rescheduled, dropped) through the
// Ledger's group commit.
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { JOB_STATUSES } from '../domain/job.js';
import type { JobStatus } from '../domain/job.js';
import { storeErrorOf } from './errors.js';

/** One queued POST of one status event to one target. */
export interface Delivery {
  id: number;
  target: string;
  seq: number;
  jid: string;
  run: number;
  status: JobStatus;
  message: string;
  /** When the event was written (ms). */
  at: number;
  /** When it was queued (ms): its age counts against WEBHOOK_MAX_AGE. */
  queued: number;
  /** Failed attempts so far. */
  attempts: number;
  /** When it is (or was) due (ms). */
  nextAt: number;
}

export interface TargetStatus {
  target: string;
  pending: number;
  /** When the oldest pending delivery was queued (ms); absent when none is pending. */
  oldestQueued?: number;
  lastError?: string;
  lastErrorAt?: number;
  delivered: number;
  failed: number;
}

export type Write = <T>(body: () => T) => Promise<T>;

const int = z.number().int();
const DeliveryRow = z.object({
  id: int,
  target: z.string(),
  seq: int,
  jid: z.string(),
  run_no: int,
  status: z.enum(JOB_STATUSES),
  message: z.string(),
  at: int,
  queued: int,
  attempts: int,
  next_at: int,
});
const PendingRow = z.object({ target: z.string(), pending: int, oldest: int });
const StatsRow = z.object({
  target: z.string(),
  delivered: int,
  failed: int,
  last_error: z.string().nullable(),
  last_error_at: int.nullable(),
});

const HEADS = `SELECT o.* FROM webhook_outbox o
  JOIN (SELECT min(id) AS id FROM webhook_outbox GROUP BY target, jid) h ON h.id = o.id`;

export class Outbox {
  readonly #db: Database;
  readonly #file: string;
  readonly #write: Write;
  readonly #s: ReturnType<typeof statements>;

  constructor(db: Database, file: string, write: Write) {
    this.#db = db;
    this.#file = file;
    this.#write = write;
    this.#s = statements(db);
  }

  /** WEBHOOK_URL of this start (or none): what every event from now on is queued for. */
  setTargets(urls: readonly string[]): void {
    this.#read(() =>
      this.#db.transaction(() => {
        this.#s.clearTargets.run();
        for (const url of urls) this.#s.addTarget.run(url);
      })(),
    );
  }

  /**
   * Deliveries that may go now: the oldest of each target's jid, due by `now`, except those in
   * `busy` (in flight: their successors wait), oldest due first, at most `limit`.
   */
  due(now: number, limit: number, busy: ReadonlySet<number>): Delivery[] {
    return this.#read(() =>
      this.#s.due
        .all(now, limit + busy.size)
        .map(toDelivery)
        .filter((d) => !busy.has(d.id))
        .slice(0, limit),
    );
  }

  /** When the next delivery that is not in `busy` falls due (ms); undefined when none waits. */
  nextDue(busy: ReadonlySet<number>): number | undefined {
    return this.#read(
      () =>
        this.#s.heads
          .all(busy.size + 1)
          .map(toDelivery)
          .find((d) => !busy.has(d.id))?.nextAt,
    );
  }

  /** A 2xx: the delivery is done. */
  acknowledge(d: Delivery): Promise<void> {
    return this.#write(() => {
      this.#s.remove.run(d.id);
      this.#s.stats.run({ target: d.target, delivered: 1, failed: 0, error: null, at: null });
    });
  }

  /** A failed attempt: tried again at `nextAt`; the error is the target's last one. */
  retry(d: Delivery, error: string, now: number, nextAt: number): Promise<void> {
    return this.#write(() => {
      this.#s.reschedule.run(nextAt, d.id);
      this.#s.stats.run({ target: d.target, delivered: 0, failed: 0, error, at: now });
    });
  }

  /** Past WEBHOOK_MAX_AGE: given up, counted as failed. */
  drop(d: Delivery, error: string, now: number): Promise<void> {
    return this.#write(() => {
      this.#s.remove.run(d.id);
      this.#s.stats.run({ target: d.target, delivered: 0, failed: 1, error, at: now });
    });
  }

  /** Per target that has or had a delivery: pending, oldest pending, last error, counts. */
  status(): TargetStatus[] {
    return this.#read(() => {
      const byTarget = new Map<string, TargetStatus>();
      const entry = (target: string): TargetStatus => {
        let found = byTarget.get(target);
        if (found === undefined)
          byTarget.set(target, (found = { target, pending: 0, delivered: 0, failed: 0 }));
        return found;
      };
      for (const raw of this.#s.allStats.all()) {
        const row = StatsRow.parse(raw);
        const t = entry(row.target);
        t.delivered = row.delivered;
        t.failed = row.failed;
        if (row.last_error !== null) t.lastError = row.last_error;
        if (row.last_error_at !== null) t.lastErrorAt = row.last_error_at;
      }
      for (const raw of this.#s.pending.all()) {
        const row = PendingRow.parse(raw);
        const t = entry(row.target);
        t.pending = row.pending;
        t.oldestQueued = row.oldest;
      }
      return [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : 1));
    });
  }

  #read<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      throw storeErrorOf(err, this.#file);
    }
  }
}

function toDelivery(raw: unknown): Delivery {
  const r = DeliveryRow.parse(raw);
  return {
    id: r.id,
    target: r.target,
    seq: r.seq,
    jid: r.jid,
    run: r.run_no,
    status: r.status,
    message: r.message,
    at: r.at,
    queued: r.queued,
    attempts: r.attempts,
    nextAt: r.next_at,
  };
}

interface StatsUpdate {
  target: string;
  delivered: number;
  failed: number;
  error: string | null;
  at: number | null;
}

function statements(db: Database) {
  return {
    clearTargets: db.prepare<[]>('DELETE FROM webhook_targets'),
    addTarget: db.prepare<[string]>('INSERT OR IGNORE INTO webhook_targets (url) VALUES (?)'),
    due: db.prepare<[number, number]>(
      `${HEADS} WHERE o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?`,
    ),
    heads: db.prepare<[number]>(`${HEADS} ORDER BY o.next_at, o.id LIMIT ?`),
    remove: db.prepare<[number]>('DELETE FROM webhook_outbox WHERE id = ?'),
    reschedule: db.prepare<[number, number]>(
      'UPDATE webhook_outbox SET attempts = attempts + 1, next_at = ? WHERE id = ?',
    ),
    stats: db.prepare<[StatsUpdate]>(
      `INSERT INTO webhook_stats (target, delivered, failed, last_error, last_error_at)
       VALUES (@target, @delivered, @failed, @error, @at)
       ON CONFLICT (target) DO UPDATE SET delivered = delivered + @delivered,
         failed = failed + @failed, last_error = coalesce(@error, last_error),
         last_error_at = coalesce(@at, last_error_at)`,
    ),
    allStats: db.prepare<[]>('SELECT * FROM webhook_stats'),
    pending: db.prepare<[]>(
      'SELECT target, count(*) AS pending, min(queued) AS oldest FROM webhook_outbox GROUP BY target',
    ),
  };
}
