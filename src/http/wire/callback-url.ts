// callback_url of a create body (issue 12): an http(s) URL whose host is exactly one of
// WEBHOOK_ALLOWED_HOSTS — the server POSTs there, so anything else would be a request forgery.

export const CALLBACK_URL_FIELD = 'callback_url';

/** The problem text of a callback_url, or its normalized href when it may be used. */
export function checkCallbackUrl(
  raw: unknown,
  allowedHosts: readonly string[],
): { ok: true; url: string } | { ok: false; problem: string } {
  if (typeof raw !== 'string') return { ok: false, problem: 'must be a string' };
  if (allowedHosts.length === 0)
    return { ok: false, problem: 'is not accepted here: WEBHOOK_ALLOWED_HOSTS is not set' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'must be an absolute http:// or https:// URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, problem: 'must be an http:// or https:// URL' };
  if (url.username !== '' || url.password !== '')
    return { ok: false, problem: 'must not carry a user name or password' };
  // URL.hostname is already lower case, punycoded and, for IPv4, canonical (0x7f.1 → 127.0.0.1);
  // IPv6 keeps its brackets there, the allowed list holds it without them.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowedHosts.includes(host))
    return { ok: false, problem: `host ${JSON.stringify(host)} is not in WEBHOOK_ALLOWED_HOSTS` };
  return { ok: true, url: url.href };
}
