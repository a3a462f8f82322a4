// CONTAINER_ENV=docker (and its alias podman): its own variables, read from the shared EnvReader.
// Pure and light (no dockerode), so loadConfig stays synchronous.
import type { EnvReader } from '../../config/env-reader.js';
import { readEngine } from '../shared/engine-settings.js';
import type { EngineConnection } from '../shared/engine-settings.js';

export interface DockerBackendConfig {
  kind: 'docker';
  /** What CONTAINER_ENV said ('podman' is an alias of docker). */
  alias: 'docker' | 'podman';
  engine: EngineConnection;
  ignoreLimits: boolean;
  memoryLimitMode: 'hard' | 'soft';
  imagePullWaitSeconds: number;
  imagePullTimeoutSeconds: number;
}

/** Warned about when set for another backend. IGNORE_LIMITS is not: "yes" elsewhere is an error
 *  (checkIgnoreLimitsElsewhere) and "no" elsewhere changes nothing. */
export const DOCKER_VARIABLES = [
  'MEMORY_LIMIT_MODE',
  'IMAGE_PULL_WAIT_SECONDS',
  'IMAGE_PULL_TIMEOUT_SECONDS',
] as const;

export function readDockerSettings(r: EnvReader, as: string): DockerBackendConfig {
  return {
    kind: 'docker',
    alias: as === 'podman' ? 'podman' : 'docker',
    engine: readEngine(r),
    ignoreLimits: r.bool('IGNORE_LIMITS', false),
    memoryLimitMode: r.oneOf('MEMORY_LIMIT_MODE', ['hard', 'soft'] as const, 'hard'),
    imagePullWaitSeconds: r.int('IMAGE_PULL_WAIT_SECONDS', 15, { min: 0 }),
    imagePullTimeoutSeconds: r.int('IMAGE_PULL_TIMEOUT_SECONDS', 600, { min: 1 }),
  };
}

/** IGNORE_LIMITS=yes cannot be honoured by another backend: refused rather than ignored. */
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
}
