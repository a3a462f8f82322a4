// One attempt of one delivery: a signed JSON POST, bounded by the timeout, redirects not followed
// (an allowed host must not bounce us elsewhere). Answers undefined for a 2xx, else why it failed.
import type { Delivery } from '../../store/ledger.js';
import { deliveryBody } from './payload.js';
import { deliveryHeaders } from './signature.js';

export type Fetch = typeof fetch;

export interface AttemptSettings {
  secret: string;
  timeoutMs: number;
  fetch: Fetch;
  /** Unix seconds for Pman-Timestamp. */
  nowSeconds: number;
  /** Aborted when the worker stops. */
  stop: AbortSignal;
}

export async function attemptDelivery(
  d: Delivery,
  s: AttemptSettings,
): Promise<string | undefined> {
  const body = deliveryBody(d);
  const timeout = AbortSignal.timeout(s.timeoutMs);
  try {
    const res = await s.fetch(d.target, {
      method: 'POST',
      headers: deliveryHeaders(s.secret, d.seq, s.nowSeconds, body),
      body,
      redirect: 'manual',
      signal: AbortSignal.any([timeout, s.stop]),
    });
    // The answer's body is not ours to read; cancelled so the connection is freed.
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return undefined;
    return `HTTP ${res.status}`;
  } catch (err) {
    if (timeout.aborted) return `no answer within ${s.timeoutMs / 1000} s`;
    if (s.stop.aborted) return 'stopped';
    return `connection failed: ${causeOf(err)}`;
  }
}

/** fetch's TypeError says only "fetch failed": the cause holds the code (ECONNREFUSED…). */
function causeOf(err: unknown): string {
  const cause: unknown = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ?? cause.message;
  }
  return err instanceof Error ? err.message : String(err);
}
