// The fair queue's table (issue 13, migration v5): runs accepted over a cap, and retries waiting out
// their backoff. The scheduler (src/service/queue) reads it whole and decides; a run that ends or
// is removed leaves it by a trigger, in the transaction that ends it.
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { QueueEntry, RunningLoad } from '../domain/queue-order.js';

type Commit = <T>(body: () => T) => Promise<T>;

/** What a queue row holds besides its run and its order. */
export interface QueueFields {
  priority: number;
  /** The run's auid ('' when it has none). */
  auid: string;
  gpus: number;
  /** Not before this time (ms since the epoch): a retry's backoff. */
  notBefore?: number | undefined;
}

/** A queue row with its run's jid. */
export interface QueuedRun extends QueueEntry {
  jid: string;
  /** Its run number, and when it was accepted (ms since the epoch). */
  run: number;
  created: number;
}

const int = z.number().int();
const Row = z.object({
  run_id: int,
  jid: z.string(),
  run_no: int,
  created: int,
  seq: int,
  priority: int,
  auid: z.string(),
  gpus: int,
  not_before: int.nullable(),
});
const LoadRow = z.object({ auid: z.string().nullable(), gpus: z.number().nullable() });

const TERMINAL_SQL = "('finishedSuccessfully', 'finishedWithError')";

export class Queue {
  readonly #commit: Commit;
  readonly #insert: Statement<[number, number, string, number, number | null]>;
  readonly #delete: Statement<[number]>;
  readonly #has: Statement<[number]>;
  readonly #all: Statement<[]>;
  readonly #load: Statement<[]>;

  constructor(db: Database, commit: Commit) {
    this.#commit = commit;
    // seq: after every entry present, so FIFO holds among the entries that are there.
    this.#insert = db.prepare(
      `INSERT OR REPLACE INTO queue (run_id, seq, priority, auid, gpus, not_before)
       VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM queue), ?, ?, ?, ?)`,
    );
    this.#delete = db.prepare('DELETE FROM queue WHERE run_id = ?');
    this.#has = db.prepare('SELECT 1 FROM queue WHERE run_id = ?').pluck();
    this.#all = db.prepare(
      `SELECT q.run_id, r.jid, r.run_no, r.created, q.seq, q.priority, q.auid, q.gpus, q.not_before
       FROM queue q JOIN runs r ON r.id = q.run_id
       WHERE r.removed IS NULL AND r.status NOT IN ${TERMINAL_SQL}
       ORDER BY q.seq`,
    );
    // Running: admitted (not queued) and not terminal — also a run waiting for an engine that was
    // down (the reconciler creates it), so a cap holds through an outage.
    this.#load = db.prepare(
      `SELECT r.auid, json_extract(r.spec, '$.resources.gpus') AS gpus FROM runs r
       WHERE r.removed IS NULL AND r.status NOT IN ${TERMINAL_SQL}
         AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.run_id = r.id)`,
    );
  }

  /** Inside a transaction of the caller's (the intake): the run joins the queue with it. */
  insertNow(runId: number, fields: QueueFields): void {
    this.#insert.run(runId, fields.priority, fields.auid, fields.gpus, fields.notBefore ?? null);
  }

  enqueue(runId: number, fields: QueueFields): Promise<void> {
    return this.#commit(() => this.insertNow(runId, fields));
  }

  /** The run leaves the queue (it is being admitted); false when it was not in it. */
  dequeue(runId: number): Promise<boolean> {
    return this.#commit(() => this.#delete.run(runId).changes > 0);
  }

  has(runId: number): boolean {
    return this.#has.get(runId) !== undefined;
  }

  /** Every queued run still going, in enqueue order. */
  entries(): QueuedRun[] {
    return this.#all.all().map((row) => {
      const r = Row.parse(row);
      return {
        runId: r.run_id,
        jid: r.jid,
        run: r.run_no,
        created: r.created,
        seq: r.seq,
        priority: r.priority,
        auid: r.auid,
        gpus: r.gpus,
        ...(r.not_before !== null && { notBefore: r.not_before }),
      };
    });
  }

  /** What the admitted runs that are still going hold. */
  load(): RunningLoad {
    const byAuid = new Map<string, number>();
    let total = 0;
    let gpus = 0;
    for (const row of this.#load.all()) {
      const r = LoadRow.parse(row);
      const auid = r.auid ?? '';
      total++;
      gpus += r.gpus ?? 0;
      byAuid.set(auid, (byAuid.get(auid) ?? 0) + 1);
    }
    return { total, byAuid, gpus };
  }
}
