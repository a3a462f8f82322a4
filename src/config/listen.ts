// The HTTP server's own settings (issue 10, items 8 and 12): which Host headers are served, the
// timeouts and connection cap that keep a stalled client from pinning sockets, and native TLS.
import { isIP } from 'node:net';
import type { EnvReader } from './env-reader.js';

/** ALLOWED_HOSTS: `*` (any host), or names and addresses; `.example.org` also allows subdomains. */
export type AllowedHosts = '*' | readonly string[];

export interface HttpServerSettings {
  /** Host names served besides loopback; enforced when auth is off or when ALLOWED_HOSTS is set. */
  allowedHosts: AllowedHosts;
  /** Whether ALLOWED_HOSTS was set (then it applies with auth on too). */
  allowedHostsSet: boolean;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed (a client that stopped reading). */
  idleTimeoutMs: number;
  maxConnections: number;
  /** TLS_CERT_FILE and TLS_KEY_FILE (both or neither): serve HTTPS, reloaded on SIGHUP. */
  tls?: { certFile: string; keyFile: string };
}

export const HTTP_DEFAULTS = {
  requestTimeoutSeconds: 60,
  headersTimeoutSeconds: 30,
  keepAliveTimeoutSeconds: 5,
  // Above a slow create (pull wait + engine calls of BACKEND_TIMEOUT_SECONDS each): a socket
  // silent while its answer is being prepared must not be cut before the answer.
  idleTimeoutSeconds: 300,
  maxConnections: 1024,
} as const;

/** A DNS name (letters, digits, '-', '_' per label; leading '.' = with subdomains). Linear. */
const HOST_NAME = /^\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$/;

/** One ALLOWED_HOSTS entry, normalized (lower case, no brackets, no trailing dot), or undefined. */
export function normalizeHostEntry(entry: string): string | undefined {
  const lower = entry.trim().toLowerCase();
  const bare = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  if (isIP(bare) !== 0) return bare;
  if (bare.length > 253 || !HOST_NAME.test(bare)) return undefined;
  return bare.endsWith('.') ? bare.slice(0, -1) : bare;
}

function readAllowedHosts(r: EnvReader): AllowedHosts {
  const raw = r.string('ALLOWED_HOSTS');
  if (raw === undefined) return [];
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.includes('*')) return '*';
  const hosts: string[] = [];
  for (const entry of entries) {
    const host = normalizeHostEntry(entry);
    if (host === undefined) {
      r.problem('ALLOWED_HOSTS', `"${entry}" is not a host name, an IP address or *`);
    } else hosts.push(host);
  }
  return hosts;
}

function readTls(r: EnvReader): HttpServerSettings['tls'] {
  const certFile = r.string('TLS_CERT_FILE');
  const keyFile = r.string('TLS_KEY_FILE');
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    r.problem(missing, 'TLS_CERT_FILE and TLS_KEY_FILE must be set together');
    return undefined;
  }
  return { certFile, keyFile };
}

export function readHttpServer(r: EnvReader): HttpServerSettings {
  const d = HTTP_DEFAULTS;
  const seconds = (name: string, fallback: number) => r.int(name, fallback, { min: 1 }) * 1000;
  const requestTimeoutMs = seconds('HTTP_REQUEST_TIMEOUT_SECONDS', d.requestTimeoutSeconds);
  const headersTimeoutMs = seconds('HTTP_HEADERS_TIMEOUT_SECONDS', d.headersTimeoutSeconds);
  if (headersTimeoutMs > requestTimeoutMs) {
    // Node refuses a header timeout longer than the whole-request timeout.
    r.problem('HTTP_HEADERS_TIMEOUT_SECONDS', 'must not exceed HTTP_REQUEST_TIMEOUT_SECONDS');
  }
  const tls = readTls(r);
  return {
    allowedHosts: readAllowedHosts(r),
    allowedHostsSet: r.isSet('ALLOWED_HOSTS'),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: seconds('HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', d.keepAliveTimeoutSeconds),
    idleTimeoutMs: seconds('HTTP_IDLE_TIMEOUT_SECONDS', d.idleTimeoutSeconds),
    maxConnections: r.int('HTTP_MAX_CONNECTIONS', d.maxConnections, { min: 1 }),
    ...(tls !== undefined && { tls }),
  };
}
