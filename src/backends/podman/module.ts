// The podman backend as the registry sees it (CONTAINER_ENV=podman): the docker backend on
// Podman's Docker-compatible socket (`podman system service`), with what differs in flavour.ts.
// The implementation, and dockerode with it, is loaded only by open().
import type { BackendModule } from '../module.js';
import { DOCKER_JOB_NAME } from '../docker/job-name.js';
import { resolveEngineStorage } from '../shared/engine-storage.js';
import { PODMAN_VARIABLES, readPodmanSettings } from './settings.js';
import type { PodmanBackendConfig } from './settings.js';

export const podmanModule: BackendModule<'podman', PodmanBackendConfig> = {
  name: 'podman',
  aliases: [],
  // docker_local_volume: a Podman volume's Mountpoint, found through the same compat calls.
  storage: { types: ['docker_local_volume', 'host'] },
  jobName: DOCKER_JOB_NAME,
  ownVariables: PODMAN_VARIABLES,
  readSettings: (r) => readPodmanSettings(r),
  resolveStorage: (storage, settings, deps) => resolveEngineStorage(storage, settings.engine, deps),
  async open(settings, deps) {
    const { createPodmanBackend } = await import('./podman.js');
    return createPodmanBackend(settings, deps);
  },
};
