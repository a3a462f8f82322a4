// The request URL as sent (api.md §2.1): raw path and query, and the jid segment's decoding.
// Routing works on the raw path because Hono's own path is partly decoded (%6Aobs would become
// the list route) and its param decoding reads malformed escapes differently from pman.

/** Path and query string exactly as sent: the path is not decoded, the query keeps its '?'. */
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

/** Hono's getPath: the one parse of a request's path, which c.req.path then returns raw. */
export function rawPathOf(request: Request): string {
  return splitRawUrl(request.url).path;
}

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
