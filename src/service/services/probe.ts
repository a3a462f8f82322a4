// The health check of a service whose backend has none of its own (Docker, Podman, Swarm; issue
// 15): a TCP connect to the endpoint, or with a health path an HTTP GET of it where a 2xx or 3xx
// answer passes (redirects are not followed). Only ever to the endpoint the backend reported.
// The answer is a short reason a person can act on, kept for the start timeout's message.
import { request } from 'node:http';
import { connect } from 'node:net';

/** How long one check may take. */
export const PROBE_TIMEOUT_MS = 2_000;
/**
 * How long a TCP check keeps its connection open before it passes. Docker's and Swarm's published
 * ports are served by a proxy that accepts every connection, even with nothing listening in the
 * container, and closes it within milliseconds: a connect alone would pass any running container.
 * A server keeps an idle connection open far longer than this (or speaks first, which also passes).
 */
export const TCP_HOLD_MS = 300;

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** Checks `endpoint` (`http://host:port`), with GET `healthPath` when given. */
export function probe(
  endpoint: string,
  healthPath: string | undefined,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return Promise.resolve({ ok: false, reason: `endpoint ${endpoint} is not a URL` });
  }
  if (url.protocol !== 'http:' || url.port === '') {
    return Promise.resolve({ ok: false, reason: `endpoint ${endpoint} is not http://host:port` });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port);
  return healthPath === undefined
    ? tcpProbe(host, port, timeoutMs)
    : httpProbe(host, port, healthPath, timeoutMs);
}

/** A TCP connect that stays open TCP_HOLD_MS (or gets data) passes; one the peer closes at once
 *  does not (a port proxy with nothing behind it). */
function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let hold: NodeJS.Timeout | undefined;
    const socket = connect({ host, port });
    const done = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(hold);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(timedOut(timeoutMs)), timeoutMs);
    socket.once('connect', () => {
      hold = setTimeout(() => done({ ok: true }), TCP_HOLD_MS);
    });
    // A server that speaks first (a banner) is listening.
    socket.once('data', () => done({ ok: true }));
    const closed = (): void =>
      done({
        ok: false,
        reason: 'connection closed at once (nothing listening behind the published port)',
      });
    socket.once('end', closed);
    socket.once('close', closed);
    socket.once('error', (err) => done({ ok: false, reason: reasonOf(err) }));
  });
}

function httpProbe(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    // agent: false — a fresh connection per check, none kept open to the service.
    const req = request({ host, port, path, method: 'GET', agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      done(
        status >= 200 && status < 400
          ? { ok: true }
          : { ok: false, reason: `HTTP ${status} from ${path}` },
      );
    });
    const timer = setTimeout(() => done(timedOut(timeoutMs)), timeoutMs);
    req.once('error', (err) => done({ ok: false, reason: reasonOf(err) }));
    req.end();
  });
}

function timedOut(ms: number): ProbeResult {
  return { ok: false, reason: `timed out after ${ms / 1000} s` };
}

/** node's socket errors in a few words (`connection refused`, not `connect ECONNREFUSED …`). */
function reasonOf(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case undefined:
    default:
      return err.message;
  }
}
