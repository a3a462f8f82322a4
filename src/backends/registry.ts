// The backend registry: one line per CONTAINER_ENV name → that backend's module. Adding a backend
// is one folder plus one line here. createBackend opens the configured one (its implementation is
// imported lazily: a Docker deployment never loads the Kubernetes client) after resolving storage
// once, before any job runs.
import { stat } from 'node:fs/promises';
import type { StorageConfig } from '../config/storage.js';
import type { Storage } from '../domain/job.js';
import type { Backend, BackendDeps, BackendName } from './backend.js';
import { dockerModule } from './docker/module.js';
import { kubernetesModule, openshiftModule } from './kubernetes/module.js';
import { memoryModule } from './memory-module.js';
import type { BackendModule } from './module.js';
import { swarmModule } from './swarm/module.js';

/** The order is the order CONTAINER_ENV's choices are listed in (aliases after their backend). */
export const BACKENDS = {
  docker: dockerModule,
  swarm: swarmModule,
  kubernetes: kubernetesModule,
  openshift: openshiftModule,
  memory: memoryModule,
};

declare module './backend.js' {
  // BackendName is the registry's keys. Filled in from here so that the Port does not import the
  // registry, which imports every backend module, which imports the Port (an import loop).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface BackendNames extends Record<keyof typeof BACKENDS, true> {}
}

export type { BackendName } from './backend.js';

/** The settings type of backend `K`. */
export type SettingsOf<K extends BackendName> = ReturnType<(typeof BACKENDS)[K]['readSettings']>;
type SettingsMap = { [K in BackendName]: SettingsOf<K> };
/** Some backend's settings; `kind` says which (a union correlated with the registry). */
export type BackendSettings = SettingsMap[BackendName];

// Written as a mapped type so that TypeScript correlates a module with its own settings in
// start() below; the assignment also checks that each key is its module's name.
type ModuleMap = { [K in BackendName]: BackendModule<K, SettingsMap[K]> };
const MODULES: ModuleMap = BACKENDS;
// Each backend's settings carry its name as `kind`, so Config.backend says which backend it is for;
// a module whose settings say otherwise fails here, naming itself.
type KindIsNotName = {
  [K in BackendName]: SettingsOf<K>['kind'] extends K ? never : K;
}[BackendName];
type NoneOf<T extends never> = T;
export type _EveryKindIsItsName = NoneOf<KindIsNotName>;

export type AnyBackendModule = ModuleMap[BackendName];

export function backendModule(name: BackendName): AnyBackendModule {
  return MODULES[name];
}

/** Every module, in registry order. */
export function backendModules(): readonly AnyBackendModule[] {
  return Object.values(MODULES);
}

/** The parts of the Config that opening a backend needs. */
export interface BackendStart {
  backend: BackendSettings;
  storage: StorageConfig;
}

export interface CreatedBackend {
  backend: Backend;
  storage: Storage;
  /** The host storeBase when it is a directory this process can see, so input/output paths can be
   *  checked; undefined when it is not (pman's container usually does not mount it). */
  storeBaseCheck?: string;
}

async function start<K extends BackendName>(
  name: K,
  settings: SettingsMap[K],
  configured: StorageConfig,
  deps: BackendDeps,
): Promise<{ backend: Backend; storage: Storage }> {
  const module: ModuleMap[K] = MODULES[name];
  let storage: Storage;
  if (module.resolveStorage !== undefined) {
    storage = await module.resolveStorage(configured, settings, deps);
  } else if (configured.type === 'docker_local_volume') {
    // loadConfig admits docker_local_volume only for backends that can resolve it.
    throw new Error(`STORAGE_TYPE=docker_local_volume with CONTAINER_ENV=${name}`);
  } else {
    storage = configured;
  }
  return { backend: await module.open(settings, deps), storage };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function createBackend(
  config: BackendStart,
  deps: BackendDeps,
): Promise<CreatedBackend> {
  const { backend, storage } = await start(
    config.backend.kind,
    config.backend,
    config.storage,
    deps,
  );
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
