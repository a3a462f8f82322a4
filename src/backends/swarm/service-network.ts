// SERVICE_NETWORK (issue 15), checked once at start-up: a service job must be able to publish its
// port, so a wrong network stops the server instead of leaving every service without an endpoint.
import type Docker from 'dockerode';
import { z } from 'zod';
import { ConfigError } from '../../config/errors.js';
import { NotFoundError } from '../../domain/errors.js';
import { engineCall } from '../shared/engine-client.js';
import type { SwarmServiceSettings } from './settings.js';

const networkSchema = z.object({
  Scope: z.string().default(''),
  Driver: z.string().default(''),
  Internal: z.boolean().default(false),
});

/**
 * `bridge` (the default) names no network and needs nothing. Any other name must be an existing
 * swarm-scoped network; an internal one cannot publish a host-mode port (the task gets no
 * docker_gwbridge leg: seen on Docker 20.10 as an empty PortStatus), so host mode refuses it.
 */
export async function checkServiceNetwork(
  docker: Docker,
  timeoutMs: number,
  settings: SwarmServiceSettings,
): Promise<void> {
  const name = settings.network;
  if (name === 'bridge') return;
  let raw: unknown;
  try {
    // Network inspect takes no abort signal; engineCall's race still bounds it.
    raw = await engineCall(
      timeoutMs,
      {},
      () => docker.getNetwork(encodeURIComponent(name)).inspect() as Promise<unknown>,
    );
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new ConfigError([`SERVICE_NETWORK: there is no network "${name}" on this engine`]);
    }
    throw err;
  }
  const found = networkSchema.parse(raw);
  if (found.Scope !== 'swarm') {
    throw new ConfigError([
      `SERVICE_NETWORK: network "${name}" is ${found.Scope}-scoped (driver ${found.Driver}); a swarm service needs a swarm-scoped overlay (or "bridge": none)`,
    ]);
  }
  if (found.Internal && settings.publishMode === 'host') {
    throw new ConfigError([
      `SERVICE_NETWORK: network "${name}" is internal, and a task on an internal network alone gets no host-mode port; use a non-internal overlay or "bridge" (the default)`,
    ]);
  }
}
