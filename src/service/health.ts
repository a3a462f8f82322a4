// The health probes' view of the backend: GET /health reports it, GET /health/ready refuses (503)
// while it does not answer within HEALTH_PING_TIMEOUT_MS.
import type { Backend } from '../backends/backend.js';
import { BackendUnavailableError } from '../domain/errors.js';

/** How long a health probe waits for backend.ping(). */
export const HEALTH_PING_TIMEOUT_MS = 2_000;

/** Throws BackendUnavailableError (503 + Retry-After) when the backend is down or too slow. */
export async function assertBackendReady(
  backend: Pick<Backend, 'ping'>,
  timeoutMs: number = HEALTH_PING_TIMEOUT_MS,
): Promise<void> {
  try {
    await withTimeout(backend.ping(), timeoutMs, 'backend');
  } catch (err) {
    if (err instanceof BackendUnavailableError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new BackendUnavailableError(reason, { cause: err });
  }
}

/** 'ok', or why the backend does not answer: the process itself serves either way. */
export async function backendHealth(
  backend: Pick<Backend, 'ping'>,
  timeoutMs: number = HEALTH_PING_TIMEOUT_MS,
): Promise<string> {
  try {
    await assertBackendReady(backend, timeoutMs);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

async function withTimeout<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendUnavailableError(`${what} did not answer within ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
