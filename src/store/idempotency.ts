// Idempotency keys and run requests (issue 13, migration v6). A key holds the request it was
// first sent with and, once that request was answered, the answer to replay; keys go after
// IDEMPOTENCY_TTL_SECONDS with the hourly prune. A run's canonical request is kept with it, so a
// POST of the same jid with another body can be told which fields differ.
import type { Database, Statement } from 'better-sqlite3';
import { z } from 'zod';

type Commit = <T>(body: () => T) => Promise<T>;

export interface KeyRecord {
  key: string;
  jid: string;
  fingerprint: string;
  /** The canonical JSON of the request the key was first sent with. */
  request: string;
  /** The first answer's HTTP status; null while the first request is in flight (or was cut off
   *  by a restart). */
  status: number | null;
  /** The first answer as JSON (what the service answered); null while in flight. */
  answer: string | null;
  created: number;
  expires: number;
}

const KeyRow = z.object({
  key: z.string(),
  jid: z.string(),
  fingerprint: z.string(),
  request: z.string(),
  status: z.number().int().nullable(),
  answer: z.string().nullable(),
  created: z.number().int(),
  expires: z.number().int(),
});

export interface KeyStart {
  key: string;
  jid: string;
  fingerprint: string;
  request: string;
  created: number;
  expires: number;
}

export class IdempotencyStore {
  readonly #commit: Commit;
  readonly #get: Statement<[string, number]>;
  readonly #begin: Statement<[KeyStart]>;
  readonly #complete: Statement<[number, string, string]>;
  readonly #drop: Statement<[string]>;
  readonly #prune: Statement<[number]>;
  readonly #putRequest: Statement<[number, string]>;
  readonly #request: Statement<[number]>;

  constructor(db: Database, commit: Commit) {
    this.#commit = commit;
    // An expired key is as good as absent (the prune only reclaims the space).
    this.#get = db.prepare('SELECT * FROM idempotency_keys WHERE key = ? AND expires > ?');
    // Replaces an expired record of the same key; a live one is never overwritten (the caller
    // read it as absent first, in the same synchronous turn).
    this.#begin = db.prepare(
      `INSERT INTO idempotency_keys (key, jid, fingerprint, request, status, answer, created, expires)
       VALUES (@key, @jid, @fingerprint, @request, NULL, NULL, @created, @expires)
       ON CONFLICT (key) DO UPDATE SET jid = excluded.jid, fingerprint = excluded.fingerprint,
         request = excluded.request, status = NULL, answer = NULL, created = excluded.created,
         expires = excluded.expires`,
    );
    this.#complete = db.prepare(
      'UPDATE idempotency_keys SET status = ?, answer = ? WHERE key = ? AND status IS NULL',
    );
    this.#drop = db.prepare('DELETE FROM idempotency_keys WHERE key = ? AND status IS NULL');
    this.#prune = db.prepare('DELETE FROM idempotency_keys WHERE expires <= ?');
    this.#putRequest = db.prepare(
      'INSERT INTO run_requests (run_id, request) VALUES (?, ?) ON CONFLICT (run_id) DO NOTHING',
    );
    this.#request = db.prepare('SELECT request FROM run_requests WHERE run_id = ?').pluck();
  }

  /** The key's record unless it expired by `now`. */
  get(key: string, now: number): KeyRecord | undefined {
    const row = this.#get.get(key, now);
    return row === undefined ? undefined : KeyRow.parse(row);
  }

  /** Notes that the key's first request is under way (durable before the job is created). */
  begin(start: KeyStart): Promise<void> {
    return this.#commit(() => {
      this.#begin.run(start);
    });
  }

  /** The first answer, to be replayed to every later request with the key. */
  complete(key: string, status: number, answer: string): Promise<void> {
    return this.#commit(() => {
      this.#complete.run(status, answer, key);
    });
  }

  /** The first request failed without creating anything: the key is free again. */
  drop(key: string): Promise<void> {
    return this.#commit(() => {
      this.#drop.run(key);
    });
  }

  /** Deletes the keys expired by `now`; how many. */
  prune(now: number): number {
    return this.#prune.run(now).changes;
  }

  /** The canonical request the run was created from (written right after its create). */
  putRequest(runId: number, request: string): Promise<void> {
    return this.#commit(() => {
      this.#putRequest.run(runId, request);
    });
  }

  /** The canonical request of a run; undefined for runs made before v6 (or imported). */
  requestOf(runId: number): string | undefined {
    const value: unknown = this.#request.get(runId);
    return typeof value === 'string' ? value : undefined;
  }
}
