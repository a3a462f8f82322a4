// The HTTP side of the metrics (issue 14): every answer's duration by method, route TEMPLATE and
// status (a raw path would make one series per jid), and the number of event streams and followed
// logs open right now — counted from the Node response's 'close' (the stream ended or the client
// left), so the body itself passes through untouched: no wrapper, no extra step per chunk.
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
    if (match === undefined || c.res.body === null || c.res.status !== 200) return;
    const name = match.route.name;
    const streams =
      STREAM_ROUTES.has(name) ||
      (name === FOLLOWED_LOGS_ROUTE && new URL(c.req.url).searchParams.has('follow'));
    // Served by @hono/node-server (c.env.outgoing): app.request() in a test has no connection.
    const outgoing = nodeResponse(c.env);
    if (!streams || outgoing === undefined) return;
    const closed = metrics.streamOpened(route);
    // A client gone already (its 'close' came and went) is not counted as open.
    if (outgoing.destroyed === true) closed();
    else outgoing.once('close', closed);
  };
}

interface Closable {
  readonly destroyed?: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** The Node ServerResponse @hono/node-server puts in c.env, if there is one. */
function nodeResponse(env: unknown): Closable | undefined {
  if (typeof env !== 'object' || env === null) return undefined;
  const outgoing: unknown = (env as { outgoing?: unknown }).outgoing;
  if (typeof outgoing !== 'object' || outgoing === null || !('once' in outgoing)) return undefined;
  return typeof outgoing.once === 'function' ? (outgoing as Closable) : undefined;
}
