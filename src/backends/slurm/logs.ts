// A job's output file in SLURM_LOG_DIR, read from this server (a filesystem the nodes share):
// only its last bytes are read, so a large log costs what the bounds keep.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { collectTail } from '../../domain/logs.js';
import type { LogLimits } from '../../domain/job.js';

function missing(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ENOENT';
}

/** The bounded tail; '' when the job has written nothing yet (no file). */
export async function readLogFile(file: string, limits: LogLimits): Promise<string> {
  if (limits.tail <= 0 || limits.maxBytes <= 0) return '';
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    if (missing(err)) return '';
    throw err;
  }
  // Two bytes more than the cap: collectTail then knows whether its window starts a line.
  const start = Math.max(0, size - limits.maxBytes - 2);
  return collectTail(createReadStream(file, { start }), limits);
}

const NEWLINE = 0x0a;

/** `read` of the opened file, or no bytes when the job has not written it yet. */
async function readIfPresent(
  file: string,
  read: (handle: FileHandle) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if (missing(err)) return new Uint8Array(0);
    throw err;
  }
  try {
    return await read(handle);
  } finally {
    await handle.close();
  }
}

/** The whole file, or its last `tail` lines; nothing when the file does not exist yet. */
export function readLogBytes(file: string, tail?: number): Promise<Uint8Array> {
  return readIfPresent(file, async (handle) =>
    lastLines(new Uint8Array(await handle.readFile()), tail),
  );
}

/** The last `tail` lines of `bytes` (all of them when tail is undefined). */
export function lastLines(bytes: Uint8Array, tail?: number): Uint8Array {
  if (tail === undefined) return bytes;
  if (tail <= 0) return new Uint8Array(0);
  let lines = 0;
  for (let i = bytes.length - 2; i >= 0; i--) {
    if (bytes[i] === NEWLINE && ++lines === tail) return bytes.subarray(i + 1);
  }
  return bytes;
}

/** Bytes appended after `offset` (a followed log). */
export function readFrom(file: string, offset: number): Promise<Uint8Array> {
  return readIfPresent(file, async (handle) => {
    const { size } = await handle.stat();
    if (size <= offset) return new Uint8Array(0);
    const buf = new Uint8Array(size - offset);
    await handle.read(buf, 0, buf.length, offset);
    return buf;
  });
}
