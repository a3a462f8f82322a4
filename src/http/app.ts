// createApp: the Hono app = request log + path rules + auth + method rules + routes + onError (architecture.md §7). No I/O.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import type { Config, Storage } from '../config/config.js';
import type { Authenticator } from './auth.js';
import { requireToken } from './auth.js';
import { JobService } from '../service/jobs.js';
import { onError } from './on-error.js';
import { methodRules, NOT_FOUND_TEXT, pathRules, routeOf } from './middleware/path-rules.js';
import { jsonResponse } from './wire/response.js';
import type { Method } from './routes.js';
import { routes } from './routes.js';
import type { JobRecords } from '../service/records.js';

export interface AppDeps {
  backend: Backend;
  records: JobRecords;
  config: Config;
  /** Resolved storage (src/config.ts). */
  storage: Storage;
  /** Local path where the server sees storeBase; undefined → skip on-disk checks. */
  storeBaseCheck?: string;
  log: Logger;
  /** Required when config.auth.enabled. */
  authenticator?: Authenticator;
}

/** One line per request; the Authorization header is never part of it. */
function requestLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    log.info(
      {
        reqId: randomUUID(),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  };
}

/** Every /api/v1/ route needs a token; /health and /health/ready stay open for probes. */
function guardApi(authenticator: Authenticator): MiddlewareHandler {
  const guard = requireToken(authenticator);
  return async (c, next) => {
    const route = routeOf(c.req.raw)?.route;
    if (route === 'health' || route === 'ready') return next();
    return guard(c, next);
  };
}

export function createApp(deps: AppDeps): Hono {
  const { config, log } = deps;
  const indent = config.mode === 'development' ? 4 : undefined;
  if (config.auth.enabled && deps.authenticator === undefined) {
    throw new Error('createApp: token authentication is enabled but no authenticator was given');
  }
  const jobs = new JobService(deps);
  const handlers = routes({ backend: deps.backend, config, jobs });
  const app = new Hono();
  app.use(requestLog(log.child({ component: 'http' })));
  app.use(pathRules(indent));
  if (config.auth.enabled && deps.authenticator !== undefined)
    app.use(guardApi(deps.authenticator));
  app.use(methodRules(indent));
  app.all('*', (c) => {
    const match = routeOf(c.req.raw);
    const method = (c.req.method === 'HEAD' ? 'GET' : c.req.method) as Method;
    const handler = match === undefined ? undefined : handlers[match.route][method];
    if (match === undefined || handler === undefined) {
      return jsonResponse(404, { message: NOT_FOUND_TEXT }, indent); // unreachable after the rules
    }
    return handler(c, match.jid ?? '');
  });
  app.notFound(() => jsonResponse(404, { message: NOT_FOUND_TEXT }, indent));
  app.onError(onError(log, indent));
  return app;
}
