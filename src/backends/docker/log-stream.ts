// A container's log stream (stdout + stderr, no follow) as raw, still multiplexed bytes.
// dockerode buffers the whole log in memory unless it follows, so the request is dialled here with
// isStream: a 100 MB log is then read chunk by chunk into a bounded tail.
import type Docker from 'dockerode';

function isByteStream(value: unknown): value is AsyncIterable<Uint8Array> & { destroy(): void } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Symbol.asyncIterator in value &&
    'destroy' in value &&
    typeof value.destroy === 'function'
  );
}

/**
 * Opens GET /containers/{name}/logs?stdout=1&stderr=1&tail=<n|all>. The promise settles when the
 * engine has answered (errors carry docker-modem's statusCode for toDomainError); aborting
 * `signal` ends the stream early.
 */
export function openLogStream(
  docker: Docker,
  name: string,
  tail: number | undefined,
  signal: AbortSignal,
): Promise<AsyncIterable<Uint8Array> & { destroy(): void }> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/containers/${encodeURIComponent(name)}/logs?`,
        method: 'GET',
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        options: {
          stdout: true,
          stderr: true,
          follow: false,
          tail: tail === undefined ? 'all' : String(tail),
        },
      },
      (err, result) => {
        if (err !== null) reject(err);
        else if (isByteStream(result)) resolve(result);
        else reject(new Error('docker engine answered the log request without a stream'));
      },
    );
  });
}
