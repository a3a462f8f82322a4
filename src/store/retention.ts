// Retention (HISTORY_RETENTION_DAYS, HISTORY_MAX_BYTES): ended runs go when older than the days,
// then the oldest go (removed ones first) while the runs and their logs exceed the bytes. In small
// transactions, so a prune never holds the write lock for long; events and logs follow by cascade.
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';

/** HISTORY_RETENTION_DAYS default. */
export const RETENTION_DAYS = 30;
/** Runs deleted per transaction. */
export const PRUNE_BATCH = 256;

const DAY_MS = 24 * 60 * 60 * 1000;

const Victim = z.object({ id: z.number().int(), bytes: z.number().int() });
type Victim = z.infer<typeof Victim>;

export interface RetentionOptions {
  retentionDays: number;
  /** undefined: no bound by bytes. */
  historyMaxBytes: number | undefined;
  now: () => number;
}

export class Retention {
  readonly #db: Database;
  readonly #options: RetentionOptions;
  readonly #expired: Statement<[number, number]>;
  readonly #oldestRemoved: Statement<[number]>;
  readonly #oldestFinished: Statement<[number]>;
  readonly #total: Statement<[]>;
  readonly #unsetCurrent: Statement<[number]>;
  readonly #delete: Statement<[number]>;

  constructor(db: Database, options: RetentionOptions) {
    this.#db = db;
    this.#options = options;
    // "Ended": finished, or removed by DELETE (a removed run that never finished ends there too:
    // nothing will finish it any more, and it must not stay forever).
    this.#expired = db.prepare(
      'SELECT id, bytes FROM runs WHERE ended IS NOT NULL AND ended < ? ORDER BY ended, id LIMIT ?',
    );
    this.#oldestRemoved = db.prepare(
      'SELECT id, bytes FROM runs WHERE removed IS NOT NULL ORDER BY removed, id LIMIT ?',
    );
    this.#oldestFinished = db.prepare(
      `SELECT id, bytes FROM runs WHERE ended IS NOT NULL AND removed IS NULL
       ORDER BY ended, id LIMIT ?`,
    );
    this.#total = db.prepare('SELECT run_bytes FROM store_stats WHERE id = 1').pluck();
    // The jid keeps last_run_no, so its next POST still gets the next run number.
    this.#unsetCurrent = db.prepare('UPDATE jobs SET current_run = NULL WHERE current_run = ?');
    this.#delete = db.prepare('DELETE FROM runs WHERE id = ?');
  }

  /** Runs deleted. Throws what SQLite throws (the Ledger maps it). */
  prune(): number {
    let deleted = 0;
    const cutoff = this.#options.now() - this.#options.retentionDays * DAY_MS;
    for (;;) {
      const batch = this.#victims(this.#expired.all(cutoff, PRUNE_BATCH));
      if (batch.length === 0) break;
      deleted += this.#deleteAll(batch);
    }
    const max = this.#options.historyMaxBytes;
    if (max === undefined) return deleted;
    for (const oldest of [this.#oldestRemoved, this.#oldestFinished]) {
      for (;;) {
        let excess = this.#bytes() - max;
        if (excess <= 0) return deleted;
        const batch: Victim[] = [];
        for (const victim of this.#victims(oldest.all(PRUNE_BATCH))) {
          if (excess <= 0) break;
          batch.push(victim);
          excess -= victim.bytes;
        }
        if (batch.length === 0) break;
        deleted += this.#deleteAll(batch);
      }
    }
    return deleted;
  }

  #bytes(): number {
    return z.number().int().parse(this.#total.get());
  }

  #victims(rows: unknown[]): Victim[] {
    return rows.map((row) => Victim.parse(row));
  }

  #deleteAll(batch: Victim[]): number {
    return this.#db
      .transaction(() => {
        for (const { id } of batch) {
          this.#unsetCurrent.run(id);
          this.#delete.run(id);
        }
        return batch.length;
      })
      .immediate();
  }
}
