// The memory backend as the registry sees it (CONTAINER_ENV=memory: tests and demos). It has no
// settings of its own, and since it mounts nothing, STOREBASE and VOLUME_NAME may stay unset.
import type { BackendModule } from './module.js';
import { createMemoryBackend, MEMORY_CAPABILITIES } from './memory.js';

export interface MemoryBackendConfig {
  kind: 'memory';
}

export const memoryModule: BackendModule<'memory', MemoryBackendConfig> = {
  name: 'memory',
  aliases: [],
  storage: { types: ['host', 'kubernetes_pvc'], locationOptional: true },
  jobName: MEMORY_CAPABILITIES.jobName,
  ownVariables: [],
  notice: 'CONTAINER_ENV=memory: jobs are only recorded, never run (tests and demos)',
  readSettings: () => ({ kind: 'memory' }),
  // Loaded eagerly: one small file without dependencies (its rule is needed above anyway).
  open: () => createMemoryBackend(),
};
