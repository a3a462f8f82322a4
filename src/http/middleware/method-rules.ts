// Method rules (api.md §2.1), after auth: OPTIONS answers 200 with the route's Allow, a method the
// route has no handler for gets 405 with it. Allow is derived from the route table.
import type { MiddlewareHandler } from 'hono';
import { allowedMethods } from '../router.js';
import type { HttpEnv } from '../router.js';
import { jsonResponse } from '../wire/response.js';

const NOT_ALLOWED_TEXT = 'The method is not allowed for the requested URL.';

export function methodRules(indent?: number): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const allowed = allowedMethods(c.var.match.route);
    const allow = allowed.join(', ');
    const method = c.req.method.toUpperCase();
    if (method === 'OPTIONS') return new Response(null, { status: 200, headers: { Allow: allow } });
    if (!allowed.includes(method)) {
      return jsonResponse(405, { message: NOT_ALLOWED_TEXT }, indent, { Allow: allow });
    }
    await next();
  };
}
