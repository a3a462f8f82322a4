// GET /metrics (issue 14): the Prometheus scrape, outside /api/v1/ and outside the JWT guard (like
// the probes: a scraper holds no pman token), guarded instead by METRICS_TOKEN when it is set.
import { createHash, timingSafeEqual } from 'node:crypto';
import { HTTPException } from 'hono/http-exception';
import type { Metrics } from '../service/metrics.js';
import type { HttpContext, Route } from './router.js';

export const METRICS_PATH = '/metrics';

const UNAUTHORIZED_TEXT =
  'GET /metrics needs the metrics token: send the header "Authorization: Bearer <METRICS_TOKEN>"';

/** Digests first: equal lengths for timingSafeEqual, and no early exit on the first wrong byte. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Throws a 401 (JSON message, WWW-Authenticate: Bearer) unless the request carries the token. */
function assertToken(c: HttpContext, expected: Buffer): void {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = digest(match?.[1] ?? '');
  if (match === null || !timingSafeEqual(given, expected))
    throw new HTTPException(401, { message: UNAUTHORIZED_TEXT });
}

export function metricsRoute(metrics: Metrics, token: string | undefined): Route {
  const expected = token === undefined ? undefined : digest(token);
  return {
    name: 'metrics',
    path: METRICS_PATH,
    // Not behind the JWT guard nor the Host list (Prometheus scrapes the pod IP); METRICS_TOKEN is.
    open: true,
    handlers: {
      GET: async (c) => {
        if (expected !== undefined) assertToken(c, expected);
        const text = await metrics.scrape();
        return new Response(text, {
          status: 200,
          headers: { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' },
        });
      },
    },
  };
}
