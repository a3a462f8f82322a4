// CONTAINER_ENV=docker (and its alias podman): its own variables, read from the shared EnvReader.
// Pure and light (no dockerode), so loadConfig stays synchronous.
import type { EnvReader } from '../../config/env-reader.js';
import { readEngine } from '../shared/engine-settings.js';
import type { EngineConnection } from '../shared/engine-settings.js';
import { readInstanceId } from '../../config/instance.js';
import { HARDENING_VARIABLES, readJobHardening } from '../shared/job-hardening.js';
import { readLimitModes } from '../shared/limit-modes.js';
import type { JobHardening } from '../shared/job-hardening.js';
import { DEFAULT_SERVICE_BIND_IP, readServiceBindIp } from '../shared/service-settings.js';

/**
 * Docker jobs join no network by default: on this engine an `--internal` bridge still reaches
 * every port the host listens on through the bridge's gateway address (the INPUT chain is not
 * filtered), pman's published port included, while `none` gives a job its loopback only.
 */
export const DOCKER_DEFAULT_JOB_NETWORK = 'none';

/** Service jobs publish a port, which `none` cannot: they join the default bridge unless
 *  SERVICE_NETWORK names another network. */
export const DOCKER_DEFAULT_SERVICE_NETWORK = 'bridge';

export interface DockerBackendConfig {
  kind: 'docker';
  /** What CONTAINER_ENV said ('podman' is an alias of docker). */
  alias: 'docker' | 'podman';
  engine: EngineConnection;
  ignoreLimits: boolean;
  memoryLimitMode: 'hard' | 'soft';
  /** IMAGE_PULL_WAIT_SECONDS: how long a create waits for a missing image before answering 201
   *  `pulling image` (0, the default: not at all; the pull goes on in the background either way). */
  imagePullWaitSeconds: number;
  imagePullTimeoutSeconds: number;
  /** MAX_CONCURRENT_PULLS: distinct images being pulled at once (in a create's wait or in the
   *  background); a create that needs yet another image answers 429. */
  maxConcurrentPulls: number;
  /** PID limit, capabilities, no-new-privileges and network of every job (issue 10, 9 and 4). */
  hardening: JobHardening;
  /** INSTANCE_ID: the managed-by value becomes `pman-<id>` (shared/labels.ts). */
  instanceId?: string;
  /** SERVICE_BIND_IP: the host address service jobs' ports are published on; unset: 127.0.0.1
   *  (set only when configured, so the defaults stay in one place: serviceSettings()). */
  serviceBindIp?: string;
  /** SERVICE_NETWORK: the network service jobs join; unset: `bridge`. */
  serviceNetwork?: string;
}

/** Warned about when set for another backend. IGNORE_LIMITS and MEMORY_LIMIT_MODE are not: Swarm
 *  and Kubernetes honour them too (shared/limit-modes.ts); "yes" elsewhere is an error
 *  (checkIgnoreLimitsElsewhere). */
export const DOCKER_VARIABLES = [
  'IMAGE_PULL_WAIT_SECONDS',
  'IMAGE_PULL_TIMEOUT_SECONDS',
  'MAX_CONCURRENT_PULLS',
  'SERVICE_BIND_IP',
  'SERVICE_NETWORK',
  ...HARDENING_VARIABLES,
] as const;

export function readDockerSettings(r: EnvReader, as: string): DockerBackendConfig {
  return {
    kind: 'docker',
    alias: as === 'podman' ? 'podman' : 'docker',
    engine: readEngine(r),
    ...readContainerSettings(r),
  };
}

/** What a job's container gets, whichever engine runs it: Docker's settings without the engine
 *  connection (CONTAINER_ENV=podman reads these too, and its own socket). */
export type ContainerSettings = Omit<DockerBackendConfig, 'kind' | 'alias' | 'engine'>;

export function readContainerSettings(r: EnvReader): ContainerSettings {
  const instanceId = readInstanceId(r);
  return {
    ...readLimitModes(r),
    imagePullWaitSeconds: r.int('IMAGE_PULL_WAIT_SECONDS', 0, { min: 0 }),
    imagePullTimeoutSeconds: r.int('IMAGE_PULL_TIMEOUT_SECONDS', 600, { min: 1 }),
    maxConcurrentPulls: r.int('MAX_CONCURRENT_PULLS', 8, { min: 1 }),
    hardening: readJobHardening(r, DOCKER_DEFAULT_JOB_NETWORK),
    ...(instanceId !== undefined && { instanceId }),
    ...readServiceVariables(r),
  };
}

/** SERVICE_BIND_IP and SERVICE_NETWORK, each only when set. */
function readServiceVariables(
  r: EnvReader,
): Pick<ContainerSettings, 'serviceBindIp' | 'serviceNetwork'> {
  const network = r.string('SERVICE_NETWORK');
  if (network === 'none' || network === 'host') {
    // none has no port to publish; host would share the host's network, pman's own port included.
    r.problem(
      'SERVICE_NETWORK',
      `"${network}" cannot carry a service job's published port; use "${DOCKER_DEFAULT_SERVICE_NETWORK}" (the default) or a network of your own`,
    );
  }
  return {
    ...(r.isSet('SERVICE_BIND_IP') && { serviceBindIp: readServiceBindIp(r) }),
    ...(network !== undefined && network !== '' && { serviceNetwork: network }),
  };
}

/** What service jobs get, defaults applied. */
export interface ServiceSettings {
  bindIp: string;
  network: string;
}

export function serviceSettings(
  s: Pick<ContainerSettings, 'serviceBindIp' | 'serviceNetwork'>,
): ServiceSettings {
  return {
    bindIp: s.serviceBindIp ?? DEFAULT_SERVICE_BIND_IP,
    network: s.serviceNetwork ?? DOCKER_DEFAULT_SERVICE_NETWORK,
  };
}

/** IGNORE_LIMITS=yes and MEMORY_LIMIT_MODE=soft cannot be honoured by another backend: refused
 *  rather than ignored. */
export function checkIgnoreLimitsElsewhere(
  r: EnvReader,
  chosen: string,
  ourWords: readonly string[],
): void {
  if (r.optionalBool('IGNORE_LIMITS') === true) {
    r.problem(
      'IGNORE_LIMITS',
      `"yes" is only supported with CONTAINER_ENV=${ourWords.join(' or ')}, not ${chosen}`,
    );
  }
  // A reservation without a limit is as foreign to these backends: refused, never ignored.
  if (
    r.isSet('MEMORY_LIMIT_MODE') &&
    r.oneOf('MEMORY_LIMIT_MODE', ['hard', 'soft'] as const, 'hard') === 'soft'
  ) {
    r.problem(
      'MEMORY_LIMIT_MODE',
      `"soft" is only supported with CONTAINER_ENV=${ourWords.join(' or ')}, not ${chosen}`,
    );
  }
}
