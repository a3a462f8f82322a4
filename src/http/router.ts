// What a route is, the match kept on the request's context, the Allow header derived from a
// route, and the matcher that resolves a raw path against the route table with Hono's TrieRouter.
import type { Context } from 'hono';
import { METHOD_NAME_ALL } from 'hono/router';
import { TrieRouter } from 'hono/router/trie-router';
import { decodeJid } from './wire/url.js';

/** Every method an Allow header can name, in api.md §2.1's fixed order (alphabetical). */
const ALLOW_ORDER = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST'] as const;

/** Methods a route declares handlers for; HEAD (runs GET) and OPTIONS (method-rules) come free. */
export type Method = Exclude<(typeof ALLOW_ORDER)[number], 'HEAD' | 'OPTIONS'>;

/** The route a request resolved to; set once by path-rules, read by everything after it. */
export interface RouteMatch {
  route: Route;
  /** The percent-decoded jid, leading '/' stripped, on routes with a `:jid` segment. */
  jid?: string;
}

export interface HttpEnv {
  Variables: { match: RouteMatch };
}

export type HttpContext = Context<HttpEnv>;
export type Handler = (c: HttpContext) => Promise<Response>;

export interface Route {
  name: string;
  /** A Hono path pattern, matched against the raw (undecoded) path; `:jid` is one segment. */
  path: string;
  /** Answered without a token (the /health probes); every other route needs one when auth is on. */
  open?: boolean;
  handlers: Partial<Record<Method, Handler>>;
}

/** The Allow header's methods: the route's own, HEAD wherever GET is, OPTIONS always. */
export function allowedMethods(route: Route): readonly string[] {
  const own = Object.keys(route.handlers);
  return ALLOW_ORDER.filter(
    (m) => own.includes(m) || m === 'OPTIONS' || (m === 'HEAD' && own.includes('GET')),
  );
}

export type RouteMatcher = (rawPath: string) => RouteMatch | undefined;

/** Resolves a raw path against the table; where two patterns match, the earlier entry wins. */
export function routeMatcher(table: readonly Route[]): RouteMatcher {
  const router = new TrieRouter<Route>();
  for (const route of table) router.add(METHOD_NAME_ALL, route.path, route);
  return (rawPath) => {
    const [[first]] = router.match(METHOD_NAME_ALL, rawPath);
    if (first === undefined) return undefined;
    const [route, params] = first;
    // The TrieRouter hands out the raw segments themselves (no index map), never decoded.
    const jid = params.jid;
    return typeof jid === 'string' ? { route, jid: decodeJid(jid) } : { route };
  };
}
