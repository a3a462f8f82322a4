// Opens a service's log stream without buffering it: dockerode's Service.logs() reads a
// non-following log whole into memory, and a following one never ends on Swarm.
import { Readable } from 'node:stream';
import type Docker from 'dockerode';

/** The one docker-modem call we make ourselves (dockerode types the modem as `any`). */
interface DialOptions {
  path: string;
  method: 'GET';
  isStream: true;
  abortSignal: AbortSignal;
  statusCodes: Record<number, true | string>;
  options: Record<string, string | number | boolean>;
}

interface Modem {
  dial(options: DialOptions, callback: (err: unknown, data: unknown) => void): void;
}

function isModem(value: unknown): value is Modem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { dial?: unknown }).dial === 'function'
  );
}

/**
 * Combined stdout+stderr of a service, as the engine sends it. Swarm jobs run with a TTY, so the
 * engine sends the raw stream (no multiplexing frames) and lines end with `\r\n`.
 * `tail` = last n lines; undefined = all. The signal aborts the request and the stream.
 */
export async function openServiceLogs(
  docker: Docker,
  serviceId: string,
  tail: number | undefined,
  signal: AbortSignal,
): Promise<Readable> {
  const modem: unknown = docker.modem;
  if (!isModem(modem)) throw new Error('dockerode client without a modem');
  return new Promise<Readable>((resolve, reject) => {
    modem.dial(
      {
        path: `/services/${encodeURIComponent(serviceId)}/logs?`,
        method: 'GET',
        isStream: true,
        abortSignal: signal,
        statusCodes: {
          200: true,
          404: 'no such service',
          500: 'server error',
          503: 'node is not part of a swarm',
        },
        options: { stdout: true, stderr: true, follow: false, tail: tail ?? 'all' },
      },
      (err, data) => {
        // docker-modem's errors are Errors carrying statusCode/json, which toDomainError reads.
        if (err !== null && err !== undefined)
          reject(
            err instanceof Error
              ? err
              : new Error('docker engine log request failed', { cause: err }),
          );
        else if (data instanceof Readable) resolve(data);
        else reject(new Error('docker engine sent no log stream'));
      },
    );
  });
}
