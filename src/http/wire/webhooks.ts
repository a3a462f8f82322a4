// GET /api/v1/webhooks/'s JSON (issue 12): per target, what waits, how old the oldest is, the last
// error and its time, and how many were delivered and given up.
import type { TargetStatus } from '../../store/ledger.js';

export interface WireWebhookTarget {
  url: string;
  pending: number;
  /** Seconds since the oldest pending delivery was queued; null when none is pending. */
  oldest_pending_age_seconds: number | null;
  last_error: string | null;
  /** RFC 3339 (UTC); null when none. */
  last_error_at: string | null;
  delivered: number;
  failed: number;
}

/** `configured` (WEBHOOK_URL) is listed even before its first delivery. */
export function toWireWebhooks(
  targets: readonly TargetStatus[],
  configured: string | undefined,
  now: number,
): { targets: WireWebhookTarget[] } {
  const all = [...targets];
  if (configured !== undefined && !all.some((t) => t.target === configured))
    all.unshift({ target: configured, pending: 0, delivered: 0, failed: 0 });
  return {
    targets: all.map((t) => ({
      url: t.target,
      pending: t.pending,
      oldest_pending_age_seconds:
        t.oldestQueued === undefined
          ? null
          : Math.max(0, Math.floor((now - t.oldestQueued) / 1000)),
      last_error: t.lastError ?? null,
      last_error_at: t.lastErrorAt === undefined ? null : new Date(t.lastErrorAt).toISOString(),
      delivered: t.delivered,
      failed: t.failed,
    })),
  };
}
