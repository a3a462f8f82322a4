// The event routes' wire (issue 12): their query parameters, and the text/event-stream framing of
// status events, log lines, `reset` and `end`.
import { ValidationError } from '../../domain/errors.js';
import type { JobStatus } from '../../domain/job.js';
import type { JobEventItem } from '../../service/job-events.js';
import type { FeedItem } from '../../service/event-feed.js';
import type { StoreEvent } from '../../store/ledger.js';
import { parseStatusFilter } from './query.js';

export const EVENTS_PARAMETERS = ['since', 'jid', 'status'] as const;

export interface EventsQuery {
  since?: number;
  jids: string[];
  statuses: JobStatus[];
}

const SEQ = /^\d{1,15}$/;

/** Every unknown parameter named at once (a misspelt filter must not silently widen the stream). */
export function rejectUnknown(params: URLSearchParams, known: readonly string[]): void {
  const unknown = [...new Set(params.keys())].filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const list = known.length === 0 ? 'none' : known.join(', ');
  throw new ValidationError(
    Object.fromEntries(unknown.map((key) => [key, `is not a parameter of this route (${list})`])),
  );
}

/**
 * ?since=&jid=&status= (jid and status repeatable). `Last-Event-ID` wins over `since`: a browser's
 * EventSource reconnects to the same URL, with the header saying where it stopped.
 */
export function parseEventsQuery(url: string, lastEventId: string | undefined): EventsQuery {
  const params = new URL(url).searchParams;
  rejectUnknown(params, EVENTS_PARAMETERS);
  const query: EventsQuery = {
    jids: params.getAll('jid').map((jid) => {
      if (jid === '') throw new ValidationError({ jid: 'must not be empty' });
      return jid;
    }),
    statuses: params.getAll('status').map((status) => parseStatusFilter(status) as JobStatus),
  };
  const header = lastEventId?.trim();
  const since = header !== undefined && header !== '' ? header : (params.get('since') ?? undefined);
  if (since !== undefined) {
    if (!SEQ.test(since))
      throw new ValidationError({
        [header !== undefined && header !== '' ? 'Last-Event-ID' : 'since']:
          `must be an event sequence number (a non-negative integer), got ${JSON.stringify(since)}`,
      });
    query.since = Number(since);
  }
  return query;
}

/** ?follow= of the logs route: 1/true/yes or 0/false/no (absent: no). */
export function parseFollow(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no' || v === '') return false;
  throw new ValidationError({ follow: `must be 1 or 0, got ${JSON.stringify(value)}` });
}

/** The status event's JSON: seq, jid, run, status, message, timestamp (RFC 3339, UTC). */
export function statusData(event: StoreEvent): string {
  return JSON.stringify({
    seq: event.seq,
    jid: event.jid,
    run: event.run,
    status: event.status,
    message: event.message,
    timestamp: new Date(event.at).toISOString(),
  });
}

function statusFrame(event: StoreEvent): string {
  return `id: ${event.seq}\nevent: status\ndata: ${statusData(event)}\n\n`;
}

/** GET /api/v1/events/ items as SSE text. */
export function feedFrames(items: readonly FeedItem[]): string {
  return items
    .map((item) =>
      item.kind === 'status'
        ? statusFrame(item.event)
        : `event: reset\ndata: ${JSON.stringify({ oldest: item.oldest ?? null, last: item.last })}\n\n`,
    )
    .join('');
}

/** GET /api/v1/<jid>/events/ items as SSE text (a log line holds no CR or LF: linesOf split it). */
export function jobEventFrame(item: JobEventItem): string {
  switch (item.kind) {
    case 'status':
      return statusFrame(item.event);
    case 'log':
      return `event: log\ndata: ${item.line}\n\n`;
    case 'end': {
      const { jid, run, status, exitCode } = item.run;
      const data = JSON.stringify({ jid, run, status, exit_code: exitCode });
      return `event: end\ndata: ${data}\n\n`;
    }
  }
}

/** A comment line: proxies see traffic on an idle stream. */
export const HEARTBEAT = ':\n\n';
