// Path rules (api.md §2.1): resolve the raw path against the route table once and keep the match on
// the context; otherwise a 308 for a missing or doubled slash (Werkzeug's page), or a JSON 404.
import type { MiddlewareHandler } from 'hono';
import type { HttpEnv, RouteMatcher } from '../router.js';
import { jsonResponse } from '../wire/response.js';
import { splitRawUrl } from '../wire/url.js';

export const NOT_FOUND_TEXT =
  'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';

/**
 * Where a path that is no route is sent, or undefined for a 404. Werkzeug's merge_slashes: runs of
 * slashes collapse (even when that is no route either); strict_slashes: a missing final slash is
 * added only when the slash-terminated path is a known route.
 */
export function redirectTarget(
  rawPath: string,
  isRoute: (path: string) => boolean,
): string | undefined {
  const collapsed = rawPath.replace(/\/{2,}/g, '/');
  if (!collapsed.endsWith('/') && !isRoute(collapsed) && isRoute(collapsed + '/')) {
    return collapsed + '/';
  }
  return collapsed === rawPath ? undefined : collapsed;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** 308 with an absolute Location and a small HTML body, as Werkzeug sends it. */
function redirect(request: Request, path: string): Response {
  const url = new URL(request.url);
  const host = request.headers.get('host') ?? url.host;
  const location = `${url.protocol}//${host}${path}${splitRawUrl(request.url).query}`;
  const safe = escapeHtml(location);
  const body =
    '<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n' +
    `<p>You should be redirected automatically to the target URL: <a href="${safe}">${safe}</a>. If not, click the link.\n`;
  return new Response(body, {
    status: 308,
    headers: { Location: location, 'Content-Type': 'text/html; charset=utf-8' },
  });
}

/** First after the request log, so unknown paths never reach auth or the handlers. */
export function pathRules(match: RouteMatcher, indent?: number): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    // c.req.path is the raw path: createApp gives Hono rawPathOf as its getPath.
    const found = match(c.req.path);
    if (found !== undefined) {
      c.set('match', found);
      return next();
    }
    const target = redirectTarget(c.req.path, (path) => match(path) !== undefined);
    if (target !== undefined) return redirect(c.req.raw, target);
    return jsonResponse(404, { message: NOT_FOUND_TEXT }, indent);
  };
}
