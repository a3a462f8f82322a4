// Start-up storage for the engine backends: STORAGE_TYPE=docker_local_volume becomes a host path
// once, before any job runs (api.md §7.2). dockerode is loaded only when that storage is used.
import type { StorageConfig } from '../../config/storage.js';
import type { Storage } from '../../domain/job.js';
import type { BackendDeps } from '../backend.js';
import type { EngineConnection } from './engine-settings.js';

export async function resolveEngineStorage(
  storage: StorageConfig,
  engine: EngineConnection,
  deps: BackendDeps,
): Promise<Storage> {
  if (storage.type !== 'docker_local_volume') return storage;
  const { resolveLocalVolume } = await import('./local-volume.js');
  const storeBase = await resolveLocalVolume(
    engine,
    {
      ...(storage.volumeName !== undefined && { volumeName: storage.volumeName }),
      pfconSelector: storage.pfconSelector,
    },
    deps.timeoutMs,
  );
  return { type: 'host', storeBase };
}
