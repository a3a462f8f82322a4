// CONTAINER_ENV=swarm: its own variables, read from the shared EnvReader. Pure and light (no
// dockerode), so loadConfig stays synchronous.
import type { EnvReader } from '../../config/env-reader.js';
import { readEngine } from '../shared/engine-settings.js';
import type { EngineConnection } from '../shared/engine-settings.js';
import { readInstanceId } from '../../config/instance.js';
import { HARDENING_VARIABLES, readJobHardening } from '../shared/job-hardening.js';
import { readLimitModes } from '../shared/limit-modes.js';
import type { LimitModes } from '../shared/limit-modes.js';
import { DEFAULT_CANCEL_GRACE_SECONDS } from '../../config/control.js';
import type { JobHardening } from '../shared/job-hardening.js';
import { DEFAULT_SERVICE_BIND_IP, readServiceBindIp } from '../shared/service-settings.js';

/**
 * Swarm jobs join this overlay, created at start-up (internal, attachable) when missing. An
 * internal overlay has no gateway on the host and no docker_gwbridge leg: a job has no route to
 * any host port, pman's included, as long as pman's own service is not on it (swarm/stack.yml).
 */
export const SWARM_DEFAULT_JOB_NETWORK = 'pman-jobs';

/** How a service job's port is published: through the routing mesh (a port from the swarm's
 *  ingress range, on every node) or on the node that runs its task (a free host port). */
export type ServicePublishMode = 'ingress' | 'host';
export const SERVICE_PUBLISH_MODES = ['ingress', 'host'] as const satisfies ServicePublishMode[];

/**
 * The network of service jobs when SERVICE_NETWORK is unset: none in the spec. Publishing a port
 * gives the task a docker_gwbridge leg anyway (ingress too), and a host-mode port on the internal
 * job overlay alone is never published at all (seen on Docker 20.10: empty PortStatus).
 */
export const SWARM_DEFAULT_SERVICE_NETWORK = 'bridge';

/** Service jobs (issue 15). */
export interface SwarmServiceSettings {
  /** SERVICE_PUBLISH_MODE (default ingress). */
  publishMode: ServicePublishMode;
  /** SERVICE_BIND_IP: the host part of the endpoint (a swarm publishes on every node address). */
  bindIp: string;
  /** SERVICE_NETWORK: the overlay service jobs join; `bridge`: none in the spec. */
  network: string;
}

export interface SwarmBackendConfig {
  kind: 'swarm';
  engine: EngineConnection;
  /** Generic-resource kind nodes advertise for GPUs; undefined → gpu_limit > 0 is refused. */
  gpuResource?: string;
  /** PID limit, capabilities, no-new-privileges and network of every job (issue 10, 9 and 4). */
  hardening: JobHardening;
  /** INSTANCE_ID: the managed-by value becomes `pman-<id>` (shared/labels.ts). */
  instanceId?: string;
  /** MEMORY_LIMIT_MODE and IGNORE_LIMITS (issue 13; pman set no limits on Swarm). */
  limits?: LimitModes;
  /** CANCEL_GRACE_SECONDS, set as each service's StopGracePeriod when it is created: a cancel
   *  scales the service to 0 and Swarm stops the task with the grace its spec carries. */
  stopGraceSeconds?: number;
  /** SERVICE_PUBLISH_MODE, SERVICE_BIND_IP, SERVICE_NETWORK; unset: their defaults. */
  service?: SwarmServiceSettings;
}

/** Warned about when set for another backend. */
export const SWARM_VARIABLES = [
  'SWARM_GPU_RESOURCE',
  'SERVICE_PUBLISH_MODE',
  'SERVICE_BIND_IP',
  'SERVICE_NETWORK',
  ...HARDENING_VARIABLES,
] as const;

/** The service-job settings with nothing set (tests, fakes). */
export const DEFAULT_SWARM_SERVICE_SETTINGS: SwarmServiceSettings = {
  publishMode: 'ingress',
  bindIp: DEFAULT_SERVICE_BIND_IP,
  network: SWARM_DEFAULT_SERVICE_NETWORK,
};

const NETWORK = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

function readServiceSettings(r: EnvReader): SwarmServiceSettings {
  const network = r.string('SERVICE_NETWORK') ?? SWARM_DEFAULT_SERVICE_NETWORK;
  if (!NETWORK.test(network)) {
    r.problem('SERVICE_NETWORK', `"${network.slice(0, 80)}" is not a Docker network name`);
  }
  return {
    publishMode: r.oneOf('SERVICE_PUBLISH_MODE', SERVICE_PUBLISH_MODES, 'ingress'),
    bindIp: readServiceBindIp(r),
    network,
  };
}

export function readSwarmSettings(r: EnvReader): SwarmBackendConfig {
  const gpuResource = r.string('SWARM_GPU_RESOURCE');
  const instanceId = readInstanceId(r);
  return {
    kind: 'swarm',
    engine: readEngine(r),
    hardening: readJobHardening(r, SWARM_DEFAULT_JOB_NETWORK),
    limits: readLimitModes(r),
    stopGraceSeconds: r.int('CANCEL_GRACE_SECONDS', DEFAULT_CANCEL_GRACE_SECONDS, { min: 0 }),
    service: readServiceSettings(r),
    ...(instanceId !== undefined && { instanceId }),
    ...(gpuResource !== undefined && { gpuResource }),
  };
}
