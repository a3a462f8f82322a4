// Path rules (api.md §2.1): route matching, 308 for a missing or doubled slash, JSON 404,
// 405 with a fixed Allow, OPTIONS.
import type { MiddlewareHandler } from 'hono';
import { jsonResponse } from '../wire/response.js';

export type RouteName = 'root' | 'jobs' | 'job' | 'logs' | 'health' | 'ready';

export interface RouteMatch {
  route: RouteName;
  /** The decoded jid (leading '/' stripped) for the job and logs routes. */
  jid?: string;
}

export type PathDecision =
  { kind: 'route'; match: RouteMatch } | { kind: 'redirect'; path: string } | { kind: 'unknown' };

/** Allowed methods per route, in the fixed order of api.md §2.1. */
export const ALLOW: Readonly<Record<RouteName, readonly string[]>> = {
  root: ['GET', 'HEAD', 'OPTIONS', 'POST'],
  job: ['DELETE', 'GET', 'HEAD', 'OPTIONS'],
  jobs: ['GET', 'HEAD', 'OPTIONS'],
  logs: ['GET', 'HEAD', 'OPTIONS'],
  health: ['GET', 'HEAD', 'OPTIONS'],
  ready: ['GET', 'HEAD', 'OPTIONS'],
};

const NOT_FOUND =
  'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';
const NOT_ALLOWED = 'The method is not allowed for the requested URL.';
const API_PREFIX = '/api/v1/';

/** One path segment, percent-decoded, with pman's stripping of leading '/' (only possible as %2F). */
export function decodeJid(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    decoded = segment; // a malformed escape is taken literally rather than refused
  }
  return decoded.replace(/^\/+/, '');
}

/** Matches a canonical (slash-terminated, no doubled slash) path. */
export function matchPath(path: string): RouteMatch | undefined {
  if (path === '/health') return { route: 'health' };
  if (path === '/health/ready') return { route: 'ready' };
  if (!path.startsWith(API_PREFIX) || !path.endsWith('/')) return undefined;
  const segments = path.slice(API_PREFIX.length, -1).split('/');
  const [first, second, ...rest] = segments;
  if (first === '' && segments.length === 1) return { route: 'root' };
  if (first === undefined || first === '' || rest.length > 0) return undefined;
  if (second === undefined) {
    return first === 'jobs' ? { route: 'jobs' } : { route: 'job', jid: decodeJid(first) };
  }
  return second === 'logs' ? { route: 'logs', jid: decodeJid(first) } : undefined;
}

/** Decides what a raw (undecoded) request path gets: a route, a 308 target path, or 404. */
export function decidePath(rawPath: string): PathDecision {
  const collapsed = rawPath.replace(/\/{2,}/g, '/');
  const match = matchPath(collapsed);
  if (match !== undefined) {
    return collapsed === rawPath ? { kind: 'route', match } : { kind: 'redirect', path: collapsed };
  }
  // Werkzeug's strict_slashes: redirect only when the slash-terminated path is a known route.
  if (!collapsed.endsWith('/') && matchPath(collapsed + '/') !== undefined) {
    return { kind: 'redirect', path: collapsed + '/' };
  }
  return collapsed === rawPath ? { kind: 'unknown' } : { kind: 'redirect', path: collapsed };
}

/** Path and query string exactly as sent (Hono's c.req.path is already partly decoded). */
export function splitRawUrl(url: string): { path: string; query: string } {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start === -1) return { path: '/', query: '' };
  const rest = url.slice(start);
  const hash = rest.indexOf('#');
  const noHash = hash === -1 ? rest : rest.slice(0, hash);
  const q = noHash.indexOf('?');
  return q === -1
    ? { path: noHash, query: '' }
    : { path: noHash.slice(0, q), query: noHash.slice(q) };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** 308 with an absolute Location and a small HTML body, as Werkzeug sends it. */
function redirect(request: Request, path: string, query: string): Response {
  const url = new URL(request.url);
  const host = request.headers.get('host') ?? url.host;
  const location = `${url.protocol}//${host}${path}${query}`;
  const safe = escapeHtml(location);
  const body =
    '<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n' +
    `<p>You should be redirected automatically to the target URL: <a href="${safe}">${safe}</a>. If not, click the link.\n`;
  return new Response(body, {
    status: 308,
    headers: { Location: location, 'Content-Type': 'text/html; charset=utf-8' },
  });
}

/** The route of a request that passed `pathRules` (recomputed: cheap and keeps Hono's Env plain). */
export function routeOf(request: Request): RouteMatch | undefined {
  return matchPath(splitRawUrl(request.url).path);
}

/** 308 / 404 before anything else, so unknown paths never reach auth or the handlers. */
export function pathRules(indent?: number): MiddlewareHandler {
  return async (c, next) => {
    const { path, query } = splitRawUrl(c.req.url);
    const decision = decidePath(path);
    if (decision.kind === 'redirect') return redirect(c.req.raw, decision.path, query);
    if (decision.kind === 'unknown') return jsonResponse(404, { message: NOT_FOUND }, indent);
    await next();
  };
}

/** 405 with the fixed Allow header, and OPTIONS answered with it (after auth). */
export function methodRules(indent?: number): MiddlewareHandler {
  return async (c, next) => {
    const match = routeOf(c.req.raw);
    if (match === undefined) return jsonResponse(404, { message: NOT_FOUND }, indent);
    const allow = ALLOW[match.route];
    const method = c.req.method.toUpperCase();
    if (method === 'OPTIONS') {
      return new Response(null, { status: 200, headers: { Allow: allow.join(', ') } });
    }
    if (!allow.includes(method)) {
      return jsonResponse(405, { message: NOT_ALLOWED }, indent, { Allow: allow.join(', ') });
    }
    await next();
  };
}

export { NOT_FOUND as NOT_FOUND_TEXT };
