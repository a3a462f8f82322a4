// What Docker, Podman and Swarm share about service jobs (issue 15): the address a published port
// is bound on (SERVICE_BIND_IP), the label that marks a service job's container or service, and
// the endpoint built from a published port. Pure and light (no dockerode).
import { isIP } from 'node:net';
import type { EnvReader } from '../../config/env-reader.js';

/** Every engine object of a service job carries it: list(), status and a restarted server know
 *  from it alone that the job is a service and which container port it serves. */
export const SERVICE_PORT_LABEL = 'pman.service.port';

/** Loopback by default: a service is reachable from this host only unless the operator says so. */
export const DEFAULT_SERVICE_BIND_IP = '127.0.0.1';

/** SERVICE_BIND_IP: an IPv4 or IPv6 literal (a host name would be resolved by the engine at each
 *  start, and the endpoint would no longer say where the port really is). */
export function readServiceBindIp(r: EnvReader): string {
  const value = r.string('SERVICE_BIND_IP') ?? DEFAULT_SERVICE_BIND_IP;
  if (isIP(value) === 0) {
    r.problem(
      'SERVICE_BIND_IP',
      `"${value}" is not an IP address; give the IPv4 or IPv6 literal service ports are published on (default ${DEFAULT_SERVICE_BIND_IP})`,
    );
    return DEFAULT_SERVICE_BIND_IP;
  }
  return value;
}

/** The container port of a service job, from its labels; undefined for a batch job. */
export function servicePortOf(
  labels: Readonly<Record<string, string>> | null | undefined,
): number | undefined {
  const raw = labels?.[SERVICE_PORT_LABEL];
  if (raw === undefined || !/^[0-9]{1,5}$/.test(raw)) return undefined;
  const port = Number(raw);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * `http://<ip>:<port>`. An engine that bound every address (0.0.0.0 or ::) is reached through
 * SERVICE_BIND_IP instead (a wildcard is no address a client can call); IPv6 in brackets.
 */
export function endpointFor(hostIp: string, hostPort: number, bindIp: string): string {
  const wildcard = hostIp === '' || hostIp === '0.0.0.0' || hostIp === '::';
  const ip = wildcard ? bindIp : hostIp;
  const host = isIP(ip) === 6 ? `[${ip}]` : ip;
  return `http://${host}:${hostPort}`;
}
