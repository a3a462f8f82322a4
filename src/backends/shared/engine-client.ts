// The Docker Engine client for the docker and swarm backends: construction from our config (never
// from process.env), per-call timeouts, and the one translation of engine errors into domain errors.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { EngineConnection } from './engine-settings.js';
import {
  BackendRefusedError,
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
} from '../../domain/errors.js';
import { unreachableCodes } from './net-errors.js';
import { loadDockerode } from './no-ssh.js';

const DockerClient = loadDockerode();

/** Builds a dockerode client. No request is made here. */
export async function createDockerClient(engine: EngineConnection): Promise<Docker> {
  const host = engine.host;
  if (host === undefined || host === '')
    return new DockerClient({ socketPath: '/var/run/docker.sock' });
  const url = new URL(host);
  if (url.protocol === 'unix:') return new DockerClient({ socketPath: url.pathname });
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BackendRefusedError(`DOCKER_HOST: unsupported scheme "${url.protocol}"`);
  }
  const tls = engine.tlsVerify || url.protocol === 'https:' || url.port === '2376';
  const port = url.port === '' ? (tls ? 2376 : 2375) : Number(url.port);
  if (!tls) return new DockerClient({ protocol: 'http', host: url.hostname, port });
  const certs = engine.certPath;
  if (certs === undefined) return new DockerClient({ protocol: 'https', host: url.hostname, port });
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'cert.pem', 'key.pem'].map((f) => readFile(path.join(certs, f))),
  );
  return new DockerClient({ protocol: 'https', host: url.hostname, port, ca, cert, key });
}

/** What an engine error looks like once docker-modem has built it. */
interface ModemError {
  statusCode?: number;
  json?: unknown;
  code?: string;
  message?: string;
}

function asModemError(err: unknown): ModemError {
  // docker-modem's errors are plain Errors with extra fields; anything else carries only its text.
  return typeof err === 'object' && err !== null ? err : { message: String(err) };
}

/** The engine's own message (`{"message": "..."}`), without docker-modem's "(HTTP code …)" prefix. */
export function engineMessage(err: unknown): string {
  const e = asModemError(err);
  const json = e.json;
  if (typeof json === 'object' && json !== null && 'message' in json) {
    const m = json.message;
    if (typeof m === 'string') return m.trim();
  }
  if (json instanceof Uint8Array && json.length > 0)
    return Buffer.from(json).toString('utf8').trim();
  return (e.message ?? 'unknown engine error').trim();
}

// ENOENT: the unix socket of the engine is not there.
const NETWORK_CODES = unreachableCodes('ENOENT');

export interface ErrorContext {
  /** The job name, for 404/409 messages. */
  name?: string;
  /** Whether a 400 from the engine is about the caller's spec (true on create/start). */
  specCall?: boolean;
}

/**
 * Translates any error from dockerode (or our own timeout) into a domain error, keeping it as `cause`.
 * 404 → NotFound, 409 → Conflict, 400 on a spec call → InvalidSpec, 401/403 → Refused,
 * 5xx/429/network/timeouts → Unavailable (503 + Retry-After at the edge).
 */
export function toDomainError(err: unknown, ctx: ErrorContext = {}): Error {
  if (err instanceof Error && err.name.endsWith('Error') && isDomainError(err)) return err;
  const e = asModemError(err);
  const msg = engineMessage(err);
  const jid = ctx.name === undefined ? 'job' : `job "${ctx.name}"`;
  switch (e.statusCode) {
    case 404:
      return new NotFoundError(`${jid} not found`, { cause: err });
    case 409:
      return new ConflictError(`${jid} already exists`, { cause: err });
    case 400:
      return ctx.specCall === true
        ? new InvalidSpecError(msg, { cause: err })
        : new BackendUnavailableError(`docker engine refused the request: ${msg}`, { cause: err });
    case 401:
    case 403:
      return new BackendRefusedError(`docker engine refused access: ${msg}`, { cause: err });
    case 500:
      // The engine reports some spec problems (bad mounts, no GPU driver) as 500 on create/start.
      return ctx.specCall === true && looksLikeSpecProblem(msg)
        ? new InvalidSpecError(msg, { cause: err })
        : new BackendUnavailableError(`docker engine error: ${msg}`, { cause: err });
    case undefined:
    default:
      break;
  }
  if (e.statusCode !== undefined && (e.statusCode >= 500 || e.statusCode === 429)) {
    return new BackendUnavailableError(`docker engine error: ${msg}`, { cause: err });
  }
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) {
    return new BackendUnavailableError(`docker engine unreachable: ${e.code}`, { cause: err });
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new BackendUnavailableError('docker engine did not answer in time', { cause: err });
  }
  if (e.statusCode !== undefined) {
    return new BackendUnavailableError(`docker engine error (${e.statusCode}): ${msg}`, {
      cause: err,
    });
  }
  if (/socket hang up|connect|EOF/i.test(msg)) {
    return new BackendUnavailableError(`docker engine unreachable: ${msg}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(msg);
}

function isDomainError(err: Error): boolean {
  return (
    err instanceof NotFoundError ||
    err instanceof ConflictError ||
    err instanceof InvalidSpecError ||
    err instanceof BackendRefusedError ||
    err instanceof BackendUnavailableError
  );
}

/** Engine 500s on create/start that are really about the job's spec. */
function looksLikeSpecProblem(msg: string): boolean {
  return /could not select device driver|executable file not found|no such file or directory|invalid mount|not a directory|permission denied|invalid (argument|reference)|exec format error|OCI runtime create failed|Range of CPUs|Minimum memory limit/i.test(
    msg,
  );
}

/**
 * Runs one engine call with a timeout. The signal is handed to dockerode (`abortSignal`) where the
 * call supports it; the race makes the timeout hold even where it does not.
 */
export async function engineCall<T>(
  timeoutMs: number,
  ctx: ErrorContext,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(new BackendUnavailableError(`docker engine did not answer within ${timeoutMs} ms`));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(signal), timedOut]);
  } catch (err) {
    throw toDomainError(err, ctx);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
