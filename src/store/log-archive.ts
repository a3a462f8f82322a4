// A run's complete log as the store keeps it: gzip (node:zlib; small logs as they are), its sha256 and size, and above
// logArchiveMaxBytes only its end (cut at a line start where one is near, else at a character).
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { boundLogText } from '../domain/logs.js';

/** LOG_ARCHIVE_MAX_BYTES default: 64 MiB of log text per run. */
export const LOG_ARCHIVE_MAX_BYTES = 64 * 1024 * 1024;

/** Below this, a log is stored as it is: gzip would save little and costs a zlib stream per run. */
export const GZIP_FROM_BYTES = 1024;

export interface ArchivedLog {
  encoding: 'identity' | 'gzip';
  /** The kept text, gzip-compressed unless it is small. */
  data: Buffer;
  /** UTF-8 bytes of the kept text. */
  size: number;
  /** sha256 (hex) of the kept text's bytes. */
  sha256: string;
}

/** The end of `logs` that fits `maxBytes` of UTF-8, as boundLogText keeps it (all lines). */
export function keepEnd(logs: string, maxBytes: number): string {
  if (Buffer.byteLength(logs) <= maxBytes) return logs;
  return boundLogText(logs, { tail: Number.MAX_SAFE_INTEGER, maxBytes });
}

export function archiveLog(logs: string, maxBytes: number): ArchivedLog {
  const text = Buffer.from(keepEnd(logs, maxBytes));
  const small = text.length < GZIP_FROM_BYTES;
  return {
    encoding: small ? 'identity' : 'gzip',
    data: small ? text : gzipSync(text),
    size: text.length,
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

export function readArchive(data: Buffer, encoding: 'identity' | 'gzip'): string {
  return readArchiveBytes(data, encoding).toString('utf8');
}

export function readArchiveBytes(data: Buffer, encoding: 'identity' | 'gzip'): Buffer {
  return encoding === 'gzip' ? gunzipSync(data) : data;
}
