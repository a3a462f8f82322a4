// The backend registry: picks the backend for CONTAINER_ENV with a lazy import (a Docker
// deployment never loads the Kubernetes client) and resolves storage once, before any job runs.
import { stat } from 'node:fs/promises';
import type { Config, Storage } from '../config/config.js';
import type { Backend, BackendDeps } from './backend.js';

export interface CreatedBackend {
  backend: Backend;
  storage: Storage;
  /** The host storeBase when it is a directory this process can see, so input/output paths can be
   *  checked; undefined when it is not (pman's container usually does not mount it). */
  storeBaseCheck?: string;
}

async function openBackend(config: Config, deps: BackendDeps): Promise<Backend> {
  const cfg = config.backend;
  switch (cfg.kind) {
    case 'docker':
      return (await import('./docker/docker.js')).createDockerBackend(cfg, deps);
    case 'swarm':
      return (await import('./swarm/swarm.js')).createSwarmBackend(cfg, deps);
    case 'kubernetes':
    case 'openshift':
      return (await import('./kubernetes/kubernetes.js')).createKubernetesBackend(cfg, deps);
    case 'memory':
      return (await import('./memory.js')).createMemoryBackend();
  }
}

/** docker_local_volume becomes a host path here, once (api.md §7.2). */
async function resolveStorage(config: Config, deps: BackendDeps): Promise<Storage> {
  const storage = config.storage;
  if (storage.type !== 'docker_local_volume') return storage;
  if (config.backend.kind !== 'docker' && config.backend.kind !== 'swarm') {
    // loadConfig only admits docker_local_volume on docker and swarm.
    throw new Error(`STORAGE_TYPE=docker_local_volume with CONTAINER_ENV=${config.backend.kind}`);
  }
  const { resolveLocalVolume } = await import('./shared/local-volume.js');
  const storeBase = await resolveLocalVolume(
    config.backend.engine,
    {
      ...(storage.volumeName !== undefined && { volumeName: storage.volumeName }),
      pfconSelector: storage.pfconSelector,
    },
    deps.timeoutMs,
  );
  return { type: 'host', storeBase };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function createBackend(config: Config, deps: BackendDeps): Promise<CreatedBackend> {
  const storage = await resolveStorage(config, deps);
  const backend = await openBackend(config, deps);
  if (storage.type !== 'host') return { backend, storage };
  if (await isDirectory(storage.storeBase)) {
    return { backend, storage, storeBaseCheck: storage.storeBase };
  }
  deps.log.info(
    { storeBase: storage.storeBase },
    'storeBase is not visible on this server: input_dir/output_dir existence checks are skipped',
  );
  return { backend, storage };
}
