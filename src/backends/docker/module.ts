// The docker backend as the registry sees it (CONTAINER_ENV=docker). The implementation, and
// dockerode with it, is loaded only by open(). CONTAINER_ENV=podman (src/backends/podman) runs this
// same backend on Podman's socket and shares its settings.
import type { BackendModule } from '../module.js';
import { resolveEngineStorage } from '../shared/engine-storage.js';
import { LIMIT_MODE_BACKENDS } from '../shared/limit-modes.js';
import { DOCKER_JOB_NAME } from './job-name.js';
import { checkIgnoreLimitsElsewhere, DOCKER_VARIABLES, readDockerSettings } from './settings.js';
import type { DockerBackendConfig } from './settings.js';

export const dockerModule: BackendModule<'docker', DockerBackendConfig> = {
  name: 'docker',
  aliases: [],
  storage: { types: ['docker_local_volume', 'host'] },
  jobName: DOCKER_JOB_NAME,
  ownVariables: DOCKER_VARIABLES,
  readSettings: readDockerSettings,
  // IGNORE_LIMITS=yes is refused by the backends that cannot honour it (shared/limit-modes.ts).
  checkElsewhere: (r, chosen) => {
    if (!LIMIT_MODE_BACKENDS.includes(chosen))
      checkIgnoreLimitsElsewhere(r, chosen, LIMIT_MODE_BACKENDS);
  },
  resolveStorage: (storage, settings, deps) => resolveEngineStorage(storage, settings.engine, deps),
  async open(settings, deps) {
    const { createDockerBackend } = await import('./docker.js');
    return createDockerBackend(settings, deps);
  },
};
