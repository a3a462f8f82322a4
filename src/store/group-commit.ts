// Group commit: every write queued in one event-loop turn runs in one IMMEDIATE transaction, so N
// concurrent requests cost one fsync (synchronous=FULL), not N. Each write runs in its own savepoint
// (better-sqlite3's nested transaction): one that throws is rolled back and rejected alone.
import type { Database } from 'better-sqlite3';
import { storeErrorOf } from './errors.js';

interface Pending {
  body: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  readonly #db: Database;
  readonly #file: string;
  #queue: Pending[] = [];
  #scheduled = false;
  #commits = 0;
  readonly #afterCommit: (() => void) | undefined;

  /** `afterCommit` runs after each transaction that committed (the Ledger publishes its events). */
  constructor(db: Database, file: string, afterCommit?: () => void) {
    this.#db = db;
    this.#file = file;
    this.#afterCommit = afterCommit;
  }

  /** Transactions committed (or attempted) so far: tests check that a burst shares one. */
  get commits(): number {
    return this.#commits;
  }

  /** Queues `body`; resolves with its result once the transaction holding it has committed. */
  run<T>(body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ body, resolve: resolve as (value: unknown) => void, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // setImmediate runs after the poll phase: every request callback of this turn has queued.
      setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now (close() calls it so nothing queued is lost). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    this.#commits++;
    let outcomes: Outcome[];
    try {
      outcomes = this.#db.transaction(() => batch.map((item) => this.#savepoint(item))).immediate();
    } catch (err) {
      const error = storeErrorOf(err, this.#file);
      for (const item of batch) item.reject(error);
      return;
    }
    // Before the callers resume: a subscriber sees an event no later than the writer's caller.
    this.#afterCommit?.();
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok === true) item.resolve(outcome.value);
      else item.reject(outcome === undefined ? new Error('lost write') : outcome.error);
    });
  }

  #savepoint(item: Pending): Outcome {
    try {
      return { ok: true, value: this.#db.transaction(item.body)() };
    } catch (err) {
      // Some errors (SQLITE_FULL, SQLITE_IOERR) end the whole transaction, not only the savepoint:
      // then nothing of the batch can commit, so the batch fails as a whole.
      if (!this.#db.inTransaction) throw err;
      return { ok: false, error: storeErrorOf(err, this.#file) };
    }
  }
}
