// One log line per request: its id (X-Request-Id), method, raw path, route template, status and
// duration — never the Authorization header. A job created by the request is named by its jid,
// so the job's later lines can be traced back to the request that made it.
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { currentRequestId } from '../../log.js';
import type { HttpEnv, RouteMatch } from '../router.js';

export function requestLog(log: Logger): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    // Unset when no route matched (a 404, a 308, a refused Host).
    const match: RouteMatch | undefined = c.var.match;
    const created = match?.route.name === 'root' && c.res.status === 201;
    const jid = created ? await createdJid(c.res) : undefined;
    log.info(
      {
        // Named here too: a logger built without src/log.ts's mixin (an embedder's) still has it.
        reqId: currentRequestId(),
        method: c.req.method,
        path: c.req.path,
        ...(match !== undefined && { route: match.route.path }),
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(jid !== undefined && { jid }),
      },
      created ? 'request: job created' : 'request',
    );
  };
}

/** The jid of a 201 answer to POST /api/v1/ (a small JSON body, read from a copy). */
async function createdJid(res: Response): Promise<string | undefined> {
  try {
    const body: unknown = await res.clone().json();
    if (typeof body !== 'object' || body === null || !('jid' in body)) return undefined;
    return typeof body.jid === 'string' ? body.jid : undefined;
  } catch {
    return undefined;
  }
}
