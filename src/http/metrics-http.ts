// The HTTP side of the metrics (issue 14): every answer's duration by method, route TEMPLATE and
// status (a raw path would make one series per jid), and the number of event streams and followed
// logs open right now — counted while their body streams, until it ends or the client leaves.
import type { MiddlewareHandler } from 'hono';
import { UNMATCHED_ROUTE } from '../service/metrics.js';
import type { Metrics } from '../service/metrics.js';
import type { HttpEnv, RouteMatch } from './router.js';

/** The routes whose 200 answers stay open: SSE feeds, and the logs route when followed. */
const STREAM_ROUTES = new Set(['events', 'job-events']);
const FOLLOWED_LOGS_ROUTE = 'logs';

export function httpMetrics(metrics: Metrics): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const match: RouteMatch | undefined = c.var.match;
    const route = match?.route.path ?? UNMATCHED_ROUTE;
    const seconds = (performance.now() - started) / 1000;
    metrics.observeRequest(c.req.method.toUpperCase(), route, c.res.status, seconds);
    const body = c.res.body;
    if (match === undefined || body === null || c.res.status !== 200) return;
    const name = match.route.name;
    const streams =
      STREAM_ROUTES.has(name) ||
      (name === FOLLOWED_LOGS_ROUTE && new URL(c.req.url).searchParams.has('follow'));
    if (!streams) return;
    c.res = new Response(counted(body, metrics.streamOpened(route)), c.res);
  };
}

/**
 * The same bytes, pulled one read at a time (highWaterMark 0: nothing read ahead, so the SSE
 * heartbeat still sees a client that does not read); `closed` runs once at the end or on cancel.
 */
function counted(body: ReadableStream<Uint8Array>, closed: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            closed();
            controller.close();
          } else controller.enqueue(value);
        } catch (err) {
          closed();
          controller.error(err);
        }
      },
      async cancel(reason) {
        closed();
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
