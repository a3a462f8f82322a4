// CONTAINER_ENV=docker (and its alias podman): its own variables, read from the shared EnvReader.
// Pure and light (no dockerode), so loadConfig stays synchronous.
import type { EnvReader } from '../../config/env-reader.js';
import { readEngine } from '../shared/engine-settings.js';
import type { EngineConnection } from '../shared/engine-settings.js';
import { readInstanceId } from '../../config/instance.js';
import { HARDENING_VARIABLES, readJobHardening } from '../shared/job-hardening.js';
import { readLimitModes } from '../shared/limit-modes.js';
import type { JobHardening } from '../shared/job-hardening.js';

/**
 * Docker jobs join no network by default: on this engine an `--internal` bridge still reaches
 * every port the host listens on through the bridge's gateway address (the INPUT chain is not
 * filtered), pman's published port included, while `none` gives a job its loopback only.
 */
export const DOCKER_DEFAULT_JOB_NETWORK = 'none';

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
}

/** Warned about when set for another backend. IGNORE_LIMITS and MEMORY_LIMIT_MODE are not: Swarm
 *  and Kubernetes honour them too (shared/limit-modes.ts); "yes" elsewhere is an error
 *  (checkIgnoreLimitsElsewhere). */
export const DOCKER_VARIABLES = [
  'IMAGE_PULL_WAIT_SECONDS',
  'IMAGE_PULL_TIMEOUT_SECONDS',
  'MAX_CONCURRENT_PULLS',
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
