// The body of a webhook delivery: the status event's JSON, exactly the SSE `data` of GET
// /api/v1/events/ (seq, jid, run, status, message, timestamp in RFC 3339 UTC).
import type { Delivery } from '../../store/ledger.js';

export function deliveryBody(d: Delivery): string {
  return JSON.stringify({
    seq: d.seq,
    jid: d.jid,
    run: d.run,
    status: d.status,
    message: d.message,
    timestamp: new Date(d.at).toISOString(),
  });
}
