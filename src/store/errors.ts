// The store's errors, and the one place where better-sqlite3's error codes become them.
import Database from 'better-sqlite3';
import { JobError } from '../domain/errors.js';

/** The store cannot be used as it is: start-up stops with this message (names the file). */
export class StoreError extends JobError {
  /** The database file concerned. */
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}

/** The store's disk (or its page limit) is full; the write was rolled back (503 + Retry-After). */
export class StoreFullError extends JobError {
  readonly file: string;
  /** Seconds the client should wait before trying again. */
  readonly retryAfterSeconds: number;
  constructor(file: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(`the job store ${file} is full: nothing was written; free space on its disk`, options);
    this.file = file;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 30;
  }
}

/** An event for a run that already reached a terminal status (terminal statuses are final). */
export class RunFinalError extends JobError {
  readonly runId: number;
  constructor(runId: number, status: string) {
    super(`run ${runId} already ended "${status}"; its status is final`);
    this.runId = runId;
  }
}

/** better-sqlite3's error code (extended codes included, e.g. SQLITE_CORRUPT_INDEX), if any. */
export function sqliteCode(err: unknown): string | undefined {
  return err instanceof Database.SqliteError ? err.code : undefined;
}

/** Whether a code says the file is not a database of any kind or is damaged. */
function isDamaged(code: string): boolean {
  return code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT');
}

/**
 * Maps an error thrown by better-sqlite3 while using `file`: a full disk becomes StoreFullError,
 * a damaged or foreign file a StoreError saying what to do; anything else is returned unchanged.
 */
export function storeErrorOf(err: unknown, file: string): unknown {
  const code = sqliteCode(err);
  if (code === undefined) return err;
  if (code.startsWith('SQLITE_FULL')) return new StoreFullError(file, { cause: err });
  if (isDamaged(code)) return damaged(file, (err as Error).message, err);
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM'))
    return new StoreError(
      file,
      `cannot open the job store ${file} (${code}): check that STATE_DIR exists and this server may write it`,
      { cause: err },
    );
  if (code.startsWith('SQLITE_READONLY'))
    return new StoreError(file, `the job store ${file} is read-only (${code}): make it writable`, {
      cause: err,
    });
  return err;
}

/** The StoreError for a damaged or foreign file: never reset silently, say how to recover. */
export function damaged(file: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    file,
    `the job store ${file} is corrupt or not a pman-ts store (${detail}); it was left untouched: ` +
      'restore it from a backup, or move it away to start with an empty history',
    { cause },
  );
}
