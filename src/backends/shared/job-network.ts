// The network jobs join (JOB_NETWORK, issue 10, 4), checked or made once at start-up so that a
// job is never started on a network that lets it reach pman. A problem is a ConfigError: the
// server does not start rather than run jobs less confined than configured.
import type Docker from 'dockerode';
import { z } from 'zod';
import { ConfigError } from '../../config/errors.js';
import { NotFoundError } from '../../domain/errors.js';
import { engineCall } from './engine-client.js';

const networkSchema = z.object({
  Name: z.string().default(''),
  Driver: z.string().default(''),
  Scope: z.string().default(''),
  Internal: z.boolean().default(false),
});
export type NetworkView = z.infer<typeof networkSchema>;

/** Labels of a network pman made, so an operator can tell it from theirs. */
const CREATED_BY = { 'org.chrisproject.managed-by': 'pman' };

async function inspectNetwork(
  docker: Docker,
  timeoutMs: number,
  name: string,
): Promise<NetworkView | undefined> {
  try {
    // Network inspect takes no abort signal; engineCall's race still bounds it.
    const raw: unknown = await engineCall(
      timeoutMs,
      {},
      () => docker.getNetwork(encodeURIComponent(name)).inspect() as Promise<unknown>,
    );
    return networkSchema.parse(raw);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * Docker: `none` (the default: loopback only) needs nothing; `host` is refused (a job would share
 * the host's network, pman's port included); any other name must exist. A non-internal network is
 * the operator's choice (plugins that download), logged by the caller as a warning.
 */
export async function checkDockerJobNetwork(
  docker: Docker,
  timeoutMs: number,
  name: string,
): Promise<NetworkView | undefined> {
  if (name === 'none') return undefined;
  if (name === 'host') {
    throw new ConfigError([
      'JOB_NETWORK: "host" gives every job the host\'s network, pman\'s own port included; use "none" (the default) or a network of your own',
    ]);
  }
  const found = await inspectNetwork(docker, timeoutMs, name);
  if (found === undefined) {
    throw new ConfigError([`JOB_NETWORK: there is no network "${name}" on this engine`]);
  }
  return found;
}

/**
 * Docker/Podman service jobs (SERVICE_NETWORK, issue 15): the network must exist, so a typo stops
 * start-up instead of failing every service job's start, and not be internal (nothing would be
 * published). `none` and `host` were refused when the settings were read; `bridge` is the
 * engine's default network (Podman answers for it too).
 */
export async function checkDockerServiceNetwork(
  docker: Docker,
  timeoutMs: number,
  name: string,
): Promise<NetworkView> {
  const found = await inspectNetwork(docker, timeoutMs, name);
  if (found === undefined) {
    throw new ConfigError([`SERVICE_NETWORK: there is no network "${name}" on this engine`]);
  }
  if (found.Internal) {
    // The engine accepts the port binding and publishes nothing (seen on Docker 20.10).
    throw new ConfigError([
      `SERVICE_NETWORK: network "${name}" is internal, so a service job on it could publish no port; use "bridge" (the default) or a non-internal network`,
    ]);
  }
  return found;
}

/**
 * Swarm: the overlay jobs join, made internal and attachable when missing (no route to any host
 * port, no docker_gwbridge leg). An existing one must be a swarm-scoped network; `bridge` keeps
 * pman's old behaviour (no network in the spec: the default bridge, which reaches the host).
 */
export async function ensureSwarmJobNetwork(
  docker: Docker,
  timeoutMs: number,
  name: string,
): Promise<NetworkView | undefined> {
  if (name === 'bridge') return undefined;
  if (name === 'none' || name === 'host') {
    throw new ConfigError([
      `JOB_NETWORK: a swarm service cannot use "${name}"; use an overlay (the default "pman-jobs" is made internal)`,
    ]);
  }
  const found = await inspectNetwork(docker, timeoutMs, name);
  if (found !== undefined) {
    if (found.Scope !== 'swarm') {
      throw new ConfigError([
        `JOB_NETWORK: network "${name}" is ${found.Scope}-scoped (driver ${found.Driver}); swarm jobs need a swarm-scoped overlay`,
      ]);
    }
    return found;
  }
  await engineCall(timeoutMs, {}, () =>
    docker.createNetwork({
      Name: name,
      Driver: 'overlay',
      Internal: true,
      Attachable: true,
      CheckDuplicate: true,
      Labels: CREATED_BY,
    }),
  );
  return inspectNetwork(docker, timeoutMs, name);
}
