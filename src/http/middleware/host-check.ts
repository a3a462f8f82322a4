// The Host check against DNS rebinding (issue 10, item 8): a web page whose name an attacker
// re-points at 127.0.0.1 makes the victim's browser send requests to us with the attacker's name
// in Host. With token auth off nothing else stops it, so only loopback names and ALLOWED_HOSTS are
// served then. A Host that is not a host[:port] at all is refused always (RFC 9112 §3.2).
import { BlockList, isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { AllowedHosts } from '../../config/listen.js';
import type { HttpEnv } from '../router.js';
import { jsonResponse } from '../wire/response.js';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** host[:port] or [v6]:port. Linear: each part is a single character class. */
const HOST_PORT = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::[0-9]{1,5})?$/;

/** The host name of a Host header value, lower-cased, without port, brackets or a final dot. */
export function hostName(header: string): string | undefined {
  if (header.length > 260) return undefined;
  const m = HOST_PORT.exec(header.toLowerCase());
  if (m === null) return undefined;
  const v6 = m[1];
  if (v6 !== undefined) return isIP(v6) === 6 ? v6 : undefined;
  const name = m[2] ?? '';
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

export function isLoopbackHost(name: string): boolean {
  if (name === 'localhost') return true;
  const family = isIP(name);
  if (family === 4) return LOOPBACK.check(name, 'ipv4');
  return family === 6 && LOOPBACK.check(name, 'ipv6');
}

function isListed(name: string, allowed: AllowedHosts): boolean {
  if (allowed === '*') return true;
  return allowed.some((entry) =>
    entry.startsWith('.') ? name === entry.slice(1) || name.endsWith(entry) : name === entry,
  );
}

export interface HostRule {
  /** Whether a well-formed Host must also be loopback or listed. */
  enforce: boolean;
  allowed: AllowedHosts;
  /** The probes' paths (the route table's open routes), exempt from the list. */
  isOpen: (rawPath: string) => boolean;
}

/**
 * First after the request log: the 308s echo Host into Location, so nothing may answer before it.
 * The probes (/health, /health/ready) are exempt from the list, never from the syntax: they are
 * open even with auth on, and kubelet probes send the pod IP as Host.
 */
export function hostCheck(rule: HostRule, indent?: number): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    // No Host header: not a browser (they always send one), so no rebinding; HTTP/1.0 clients.
    const header = c.req.header('host');
    if (header === undefined) return next();
    const name = hostName(header);
    if (name === undefined) return jsonResponse(400, { message: invalidHostText(header) }, indent);
    if (!rule.enforce || isLoopbackHost(name) || isListed(name, rule.allowed)) return next();
    if (rule.isOpen(c.req.path)) return next();
    return jsonResponse(
      400,
      {
        message: `Host header "${clip(header)}" is not allowed: only loopback hosts and those in ALLOWED_HOSTS are served`,
      },
      indent,
    );
  };
}

/** The 400 text for a Host that is no host[:port]; also used before Hono's adapter (server.ts). */
export function invalidHostText(header: string): string {
  return `Host header "${clip(header)}" is not a valid host`;
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
