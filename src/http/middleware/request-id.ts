// Request ids (issue 14): the client's X-Request-Id when it is a short token of safe characters
// (a proxy's or a tracer's id keeps its value end to end), else a generated UUID; answered in the
// X-Request-Id header of every response, and the scope of the request's log lines (src/log.ts).
// First of all middleware, so the 400s, 404s and 308s before any route carry it too.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { requestScope } from '../../log.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Longest id kept: a UUID is 36, a W3C trace id 32; an attacker's megabyte goes in no log line. */
export const MAX_REQUEST_ID_LENGTH = 128;

/** Letters, digits and `-_.:/+=@`: no spaces, quotes or control characters to forge log fields. */
const SAFE_ID = /^[\w.:/+=@-]+$/;

/** The id to use for a request: the header's value when it is safe, else a new UUID. */
export function requestIdFor(header: string | undefined): string {
  if (header !== undefined && header.length <= MAX_REQUEST_ID_LENGTH && SAFE_ID.test(header))
    return header;
  return randomUUID();
}

export function requestId(): MiddlewareHandler {
  return async (c, next) => {
    const reqId = requestIdFor(c.req.header(REQUEST_ID_HEADER));
    await requestScope.run({ reqId }, next);
    c.header(REQUEST_ID_HEADER, reqId);
  };
}
