// The job ledger's settings (issue 11): where the store lives (STATE_DIR, on by default), how much
// of a finished run's log it keeps, how long and how much history stays, and whether a POST is
// accepted while the engine is down.
import type { EnvReader } from './env-reader.js';

/** STATE_DIR default: a folder in the working directory (`npm start`); the image sets its volume. */
export const DEFAULT_STATE_DIR = 'pman-state';

export interface LedgerSettings {
  /** STATE_DIR: the folder of the store file pman.db (relative: to the working directory). */
  stateDir: string;
  /** LOG_ARCHIVE_MAX_BYTES: a finished run's log kept at most (its end when larger). */
  logArchiveMaxBytes: number;
  /** HISTORY_RETENTION_DAYS: finished runs are kept this long after they finished or were removed. */
  historyRetentionDays: number;
  /** HISTORY_MAX_BYTES (RECORDS_MAX_BYTES, its old name): the oldest finished runs go beyond it. */
  historyMaxBytes?: number;
  /** ACCEPT_WHILE_UNAVAILABLE: a valid POST while the engine is down answers 201 and waits. */
  acceptWhileUnavailable: boolean;
}

export function readLedgerSettings(r: EnvReader): LedgerSettings {
  const stateDir = r.string('STATE_DIR') ?? DEFAULT_STATE_DIR;
  const historyMaxBytes =
    r.optionalInt('HISTORY_MAX_BYTES', { min: 1 }) ??
    r.optionalInt('RECORDS_MAX_BYTES', { min: 1 });
  return {
    stateDir,
    logArchiveMaxBytes: r.int('LOG_ARCHIVE_MAX_BYTES', 64 * 1024 * 1024, { min: 0 }),
    historyRetentionDays: r.int('HISTORY_RETENTION_DAYS', 30, { min: 1 }),
    ...(historyMaxBytes !== undefined && { historyMaxBytes }),
    acceptWhileUnavailable: r.bool('ACCEPT_WHILE_UNAVAILABLE', true),
  };
}
