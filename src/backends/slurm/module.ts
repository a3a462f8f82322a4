// The slurm backend as the registry sees it (CONTAINER_ENV=slurm). The implementation is loaded
// only by open().
import type { BackendModule } from '../module.js';
import { SLURM_JOB_NAME } from './job-name.js';
import { readSlurmSettings, SLURM_VARIABLES } from './settings.js';
import type { SlurmBackendConfig } from './settings.js';

export const slurmModule: BackendModule<'slurm', SlurmBackendConfig> = {
  name: 'slurm',
  aliases: [],
  // storeBase is a directory the nodes and this server share at the same path.
  storage: { types: ['host'] },
  jobName: SLURM_JOB_NAME,
  ownVariables: SLURM_VARIABLES,
  readSettings: (r) => readSlurmSettings(r),
  async open(settings, deps) {
    const { createSlurmBackend } = await import('./slurm.js');
    return createSlurmBackend(settings, deps);
  },
};
