// The swarm backend as the registry sees it (CONTAINER_ENV=swarm). The implementation, and
// dockerode with it, is loaded only by open().
import type { BackendModule } from '../module.js';
import { resolveEngineStorage } from '../shared/engine-storage.js';
import { SWARM_JOB_NAME } from './job-name.js';
import { readSwarmSettings, SWARM_VARIABLES } from './settings.js';
import type { SwarmBackendConfig } from './settings.js';

export const swarmModule: BackendModule<'swarm', SwarmBackendConfig> = {
  name: 'swarm',
  aliases: [],
  storage: { types: ['host', 'docker_local_volume'] },
  jobName: SWARM_JOB_NAME,
  ownVariables: SWARM_VARIABLES,
  readSettings: (r) => readSwarmSettings(r),
  resolveStorage: (storage, settings, deps) => resolveEngineStorage(storage, settings.engine, deps),
  async open(settings, deps) {
    const { createSwarmBackend } = await import('./swarm.js');
    return createSwarmBackend(settings, deps);
  },
};
