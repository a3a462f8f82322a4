// The push routes of issue 12 as route-table entries: GET /api/v1/events/ (every run's status
// events), GET /api/v1/<jid>/events/ (one run's events and log lines, then `end`) and the followed
// log of GET /api/v1/<jid>/logs/?follow=1. All text/event-stream but the last (chunked text).
import type { EventStreams } from '../service/event-streams.js';
import type { HttpContext, Route } from './router.js';
import { dropConnection, streamResponse } from './sse.js';
import type { StreamSource } from './sse.js';
import { feedFrames, jobEventFrame, parseEventsQuery, rejectUnknown } from './wire/events.js';

const EVENT_STREAM = 'text/event-stream; charset=utf-8';
/** Sent first: the client knows its subscription is in place (and headers go out at once). */
const OPENED = ':ok\n\n';

/** HEAD answers the headers only: no feed is opened for a body nobody reads. */
const headOnly = (): Response =>
  new Response(null, {
    status: 200,
    headers: { 'Content-Type': EVENT_STREAM, 'Cache-Control': 'no-cache' },
  });

/**
 * An event-stream answer: `:ok` first (the subscription is in place), then `frames()` until it
 * answers undefined; `close` ends the feed behind it when the client goes.
 */
function eventStream(
  streams: EventStreams,
  frames: () => Promise<string | undefined>,
  close: () => void,
): Response {
  let opened = false;
  const source: StreamSource = {
    next() {
      if (opened) return frames();
      opened = true;
      return Promise.resolve(OPENED);
    },
    close,
  };
  return streamResponse(source, { contentType: EVENT_STREAM, heartbeatMs: streams.heartbeatMs });
}

export function eventsRoute(streams: EventStreams): Route {
  return {
    name: 'events',
    path: '/api/v1/events/',
    handlers: {
      GET: (c) => {
        const query = parseEventsQuery(c.req.url, c.req.header('Last-Event-ID'));
        if (c.req.method === 'HEAD') return Promise.resolve(headOnly());
        const feed = streams.feed(query, () => dropConnection(c));
        const frames = async (): Promise<string | undefined> => {
          const items = await feed.next();
          return items.length === 0 ? undefined : feedFrames(items);
        };
        return Promise.resolve(eventStream(streams, frames, () => feed.close()));
      },
    },
  };
}

export function jobEventsRoute(streams: EventStreams): Route {
  return {
    name: 'job-events',
    path: '/api/v1/:jid/events/',
    handlers: {
      GET: (c: HttpContext) => {
        rejectUnknown(new URL(c.req.url).searchParams, []);
        const jid = c.var.match.jid ?? '';
        const stop = new AbortController();
        const events = streams.jobEvents(jid, stop.signal, () => dropConnection(c));
        const items = events[Symbol.asyncIterator]();
        if (c.req.method === 'HEAD') {
          stop.abort();
          return Promise.resolve(headOnly());
        }
        const frames = async (): Promise<string | undefined> => {
          const item = await items.next();
          return item.done === true ? undefined : jobEventFrame(item.value);
        };
        return Promise.resolve(eventStream(streams, frames, () => stop.abort()));
      },
    },
  };
}

/** GET …/logs/?follow=1: what exists, then what the job writes, until it ends. */
export async function followedLogs(
  streams: EventStreams,
  jid: string,
  tail: number | undefined,
): Promise<Response> {
  const stop = new AbortController();
  const body = await streams.followLogs(jid, tail, stop.signal);
  const headers = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' };
  if (body instanceof ReadableStream) return new Response(body, { status: 200, headers });
  const chunks = body[Symbol.asyncIterator]();
  const source: StreamSource = {
    async next() {
      const chunk = await chunks.next();
      return chunk.done === true ? undefined : chunk.value;
    },
    close: () => stop.abort(),
  };
  const response = streamResponse(source, { contentType: headers['Content-Type'] });
  response.headers.set('X-Accel-Buffering', 'no');
  return response;
}
