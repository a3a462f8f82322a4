// The token check (api.md §15.2) for every route the table does not mark open: all of /api/v1/,
// never /health or /health/ready (probes). Runs after path-rules, so unknown paths never get a 401.
import type { MiddlewareHandler } from 'hono';
import type { Authenticator } from '../auth.js';
import type { HttpEnv } from '../router.js';

export function authGuard(authenticator: Authenticator): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    if (c.var.match.route.open !== true) authenticator.verify(c.req.header('authorization'));
    await next();
  };
}
