// createApp: the Hono app = request id → request log → metrics → host check → path rules → auth
// guard → method rules → the route table's handlers, dispatched by Hono's router on the raw path;
// onError last (architecture.md §7). No I/O.
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import type { Config, Storage } from '../config/config.js';
import type { StreamSettings } from '../service/event-streams.js';
import { JobService } from '../service/jobs.js';
import { meteredBackend } from '../service/metered-backend.js';
import { Metrics } from '../service/metrics.js';
import type { Ledger } from '../store/ledger.js';
import type { Authenticator } from './auth.js';
import { authGuard } from './middleware/auth-guard.js';
import { hostCheck } from './middleware/host-check.js';
import { methodRules } from './middleware/method-rules.js';
import { NOT_FOUND_TEXT, pathRules } from './middleware/path-rules.js';
import { requestId } from './middleware/request-id.js';
import { requestLog } from './middleware/request-log.js';
import { httpMetrics } from './metrics-http.js';
import { withDocRoutes } from './openapi/doc-routes.js';
import { onError } from './on-error.js';
import { routeMatcher } from './router.js';
import type { HttpEnv } from './router.js';
import { routeTable } from './routes.js';
import { indentFor, jsonResponse } from './wire/response.js';
import { rawPathOf } from './wire/url.js';

export interface AppDeps {
  backend: Backend;
  /** The job ledger the service writes (src/store). */
  ledger: Ledger;
  /** The job service, when the caller built it (main.ts runs its reconciler); else made here. */
  jobs?: JobService;
  config: Config;
  /** Resolved storage (src/config.ts). */
  storage: Storage;
  /** Local path where the server sees storeBase; undefined → skip on-disk checks. */
  storeBaseCheck?: string;
  log: Logger;
  /** Required when config.auth.enabled. */
  authenticator?: Authenticator;
  /** The bounds of the event streams (issue 12; tests shrink them). */
  streams?: StreamSettings;
  /** GET /metrics's registry; absent: one of its own (no process metrics), over a metered backend. */
  metrics?: Metrics;
}

export type App = Hono<HttpEnv>;

export function createApp(deps: AppDeps): App {
  const { config, log, authenticator } = deps;
  const indent = indentFor(config.mode);
  if (config.auth.enabled && authenticator === undefined) {
    throw new Error('createApp: token authentication is enabled but no authenticator was given');
  }
  const metrics = deps.metrics ?? new Metrics({ backend: deps.backend.name, ledger: deps.ledger });
  // A caller that built the service (main.ts) metered its backend already.
  const backend = deps.jobs === undefined ? meteredBackend(deps.backend, metrics) : deps.backend;
  const apiRoutes = routeTable({
    backend,
    config,
    jobs:
      deps.jobs ??
      new JobService({
        ...deps,
        backend,
        warn: (message, err) => log.warn({ err }, message),
      }),
    ledger: deps.ledger,
    ...(deps.streams !== undefined && { streams: deps.streams }),
    log: log.child({ component: 'http' }),
    metrics,
  });
  // Plus /openapi.json, /docs and /ui/ (issue 14), which describe and show the others.
  const table = withDocRoutes(apiRoutes, {
    version: config.serverVersion,
    auth: config.auth.enabled,
    jobName: deps.backend.capabilities.jobName,
    backend: deps.backend.name,
  });
  // The raw path is the one parse of the URL: Hono's router and c.req.path both see it undecoded.
  const app = new Hono<HttpEnv>({ getPath: rawPathOf });
  const match = routeMatcher(table);
  app.use(requestId());
  app.use(requestLog(log.child({ component: 'http' })));
  app.use(httpMetrics(metrics));
  app.use(
    hostCheck(
      {
        // Auth off: the Host list is the only guard against DNS rebinding. Auth on: only if set.
        enforce: !config.auth.enabled || config.http?.allowedHostsSet === true,
        allowed: config.http?.allowedHosts ?? [],
        isOpen: (path) => match(path)?.route.open === true,
      },
      indent,
    ),
  );
  app.use(pathRules(match, indent));
  if (config.auth.enabled && authenticator !== undefined) app.use(authGuard(authenticator));
  app.use(methodRules(indent));
  for (const route of table) {
    for (const [method, handler] of Object.entries(route.handlers)) {
      app.on(method, route.path, handler);
    }
  }
  // Unreachable after the rules: every path and method that gets this far has a handler.
  app.notFound(() => jsonResponse(404, { message: NOT_FOUND_TEXT }, indent));
  app.onError(onError(log, indent));
  return app;
}
