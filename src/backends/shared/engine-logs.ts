// Log reads from the Engine for containers and services: the request dialled as a stream (dockerode
// buffers a non-following log whole), a tail read within one call timeout, and a raw byte stream
// whose opening alone is bounded.
import type Docker from 'dockerode';
import type { LogLimits } from '../../domain/job.js';
import { collectTail } from '../../domain/logs.js';
import { demux } from './demux.js';
import { engineCall } from './engine-client.js';

/** An engine log response body: chunks until the engine is done, and a way to stop it early. */
export interface EngineLogStream extends AsyncIterable<unknown> {
  destroy(): void;
}

/** Where one job's logs come from. */
export interface LogSource {
  /** The log path of the job, e.g. `/containers/<name>/logs?` (already URL-encoded). */
  path: string;
  /** Multiplexed stdout/stderr frames (no TTY: containers) or the raw stream (TTY: swarm jobs). */
  framed: boolean;
  /** A larger tail is asked as "all" (Podman sizes a buffer by the tail it is sent; a tail read
   *  cuts the lines itself). Unset: any tail is sent as it is. */
  maxTail?: number;
}

/** The one docker-modem call we make ourselves (dockerode types the modem as `any`). */
interface Modem {
  dial(
    options: {
      path: string;
      method: 'GET';
      isStream: true;
      abortSignal: AbortSignal;
      statusCodes: Record<number, true | string>;
      options: Record<string, string | boolean>;
    },
    callback: (err: unknown, data: unknown) => void,
  ): void;
}

function isModem(value: unknown): value is Modem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { dial?: unknown }).dial === 'function'
  );
}

function isLogStream(value: unknown): value is EngineLogStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    Symbol.asyncIterator in value &&
    typeof (value as { destroy?: unknown }).destroy === 'function'
  );
}

/**
 * Opens GET <path>stdout=1&stderr=1&follow=<0|1>&tail=<n|all>. The promise settles when the engine has
 * answered (errors carry docker-modem's statusCode for toDomainError); aborting `signal` ends the
 * stream early.
 */
export function openLogs(
  docker: Docker,
  source: LogSource,
  tail: number | undefined,
  signal: AbortSignal,
  follow = false,
): Promise<EngineLogStream> {
  const modem: unknown = docker.modem;
  if (!isModem(modem)) return Promise.reject(new Error('dockerode client without a modem'));
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: source.path,
        method: 'GET',
        isStream: true,
        abortSignal: signal,
        statusCodes: {
          200: true,
          404: 'no such container or service',
          500: 'server error',
          503: 'node is not part of a swarm',
        },
        options: {
          stdout: true,
          stderr: true,
          follow,
          tail:
            tail === undefined || (source.maxTail !== undefined && tail > source.maxTail)
              ? 'all'
              : String(tail),
        },
      },
      (err, data) => {
        if (err !== null && err !== undefined) {
          // docker-modem's errors are Errors carrying statusCode/json, which toDomainError reads.
          reject(err instanceof Error ? err : new Error('log request failed', { cause: err }));
        } else if (isLogStream(data)) resolve(data);
        else reject(new Error('docker engine answered the log request without a stream'));
      },
    );
  });
}

async function* bytes(stream: AsyncIterable<unknown>): AsyncIterable<Uint8Array> {
  for await (const chunk of stream) {
    if (chunk instanceof Uint8Array) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
  }
}

/** The payload bytes: frames stripped when the stream is multiplexed. */
function payload(stream: EngineLogStream, source: LogSource): AsyncIterable<Uint8Array> {
  return source.framed ? demux(bytes(stream)) : bytes(stream);
}

/** Extra time a log read gets per MiB it may keep: a finished job's archive (64 MiB) takes a
 *  while to come through on a busy engine, where a GET's 1 MiB tail does not. */
const READ_MS_PER_MIB = 1000;

/** The bounded tail, read within one call timeout (plus READ_MS_PER_MIB per MiB kept): a hung
 *  engine must not hang a GET, and an archive read must not be cut short by a GET's budget. */
export function readLogTail(
  docker: Docker,
  timeoutMs: number,
  name: string,
  source: LogSource,
  limits: LogLimits,
): Promise<string> {
  const budget = timeoutMs + Math.ceil(limits.maxBytes / (1024 * 1024)) * READ_MS_PER_MIB;
  return engineCall(budget, { name }, async (signal) => {
    const stream = await openLogs(docker, source, limits.tail, signal);
    try {
      return await collectTail(payload(stream, source), limits);
    } finally {
      stream.destroy();
    }
  });
}

/**
 * The log bytes as they come (`tail` = last n lines; undefined: all). Only opening the stream is
 * bounded by the call timeout; the reader paces the body, so the stream gets its own signal that
 * the timeout aborts only while the request is being opened.
 */
export async function* streamLogBytes(
  docker: Docker,
  timeoutMs: number,
  name: string,
  source: LogSource,
  tail: number | undefined,
  follow = false,
  cancel?: AbortSignal,
): AsyncIterable<Uint8Array> {
  const opening = new AbortController();
  if (aborted(cancel)) return;
  const stream = await engineCall(timeoutMs, { name }, async (signal) => {
    const onTimeout = (): void => opening.abort(signal.reason);
    signal.addEventListener('abort', onTimeout, { once: true });
    try {
      return await openLogs(docker, source, tail, opening.signal, follow);
    } finally {
      signal.removeEventListener('abort', onTimeout);
    }
  });
  // A caller's abort ends a read that waits on the engine (a followed Swarm log never ends).
  const stop = (): void => stream.destroy();
  cancel?.addEventListener('abort', stop, { once: true });
  try {
    if (!aborted(cancel)) yield* payload(stream, source);
  } catch (err) {
    // The premature close our own abort caused is the end of the stream, not an error.
    if (!aborted(cancel)) throw err;
  } finally {
    cancel?.removeEventListener('abort', stop);
    opening.abort();
    stream.destroy();
  }
}

/** A function, so TypeScript does not keep the narrowing of an earlier check across awaits. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
