// The host port of a service job (issue 15), chosen once when its container is created: with
// HostPort "" Docker picks a new port at every restart of a crashing container (seen on 20.10:
// 32769, 32770, …), and the endpoint clients hold would break. A fixed port stays the same across
// the engine's restarts and pman's. The OS's answer is a hint only (pman may run in a container
// of its own): the engine refusing a taken port at start is the real check, and a refusal picks
// again (docker.ts).
import { createServer } from 'node:net';

/** Linux's default ephemeral range, also what Docker allocates from: the last-resort pick. */
const EPHEMERAL = { low: 32768, high: 60999 };

/** How many ports a start tries before the engine's refusal becomes the job's failure. */
export const HOST_PORT_ATTEMPTS = 5;

function listenOnce(host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, ...(host !== undefined && { host }), exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A port free on `bindIp` now, as the OS sees it: listening on port 0 there (or on every address,
 * when `bindIp` is not one of this process's, e.g. pman in a container), else a random one of the
 * ephemeral range.
 */
export async function freeHostPort(bindIp: string): Promise<number> {
  for (const host of [bindIp, undefined]) {
    try {
      return await listenOnce(host);
    } catch {
      // not an address here: try the next
    }
  }
  return EPHEMERAL.low + Math.floor(Math.random() * (EPHEMERAL.high - EPHEMERAL.low + 1));
}

/** Docker: "Bind for … failed: port is already allocated" (another container) or "… bind: address
 *  already in use" (another process); Podman says the latter. */
export function isPortTaken(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /port is already allocated|address already in use/i.test(text);
}
