// The webhook signature (issue 12): HMAC-SHA256 of "<timestamp>.<body>" keyed by WEBHOOK_SECRET,
// sent as `Pman-Signature: sha256=<hex>` with `Pman-Timestamp` and `Pman-Event-Id`. The timestamp
// is signed too, so a receiver can refuse a replayed old delivery.
import { createHmac } from 'node:crypto';

/** `sha256=<hex>` of `${timestamp}.${body}`. */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one attempt: `timestamp` is unix seconds at the time of sending. */
export function deliveryHeaders(
  secret: string,
  seq: number,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Pman-Event-Id': String(seq),
    'Pman-Timestamp': String(timestamp),
    'Pman-Signature': signature(secret, timestamp, body),
  };
}
