// The backend registry: one line per CONTAINER_ENV name → that backend's module. Adding a backend
// is one folder plus one line here. createBackend opens the configured one (its implementation is
// imported lazily: a Docker deployment never loads the Kubernetes client) after resolving storage
// once, before any job runs.
import { stat } from 'node:fs/promises';
import { ConfigError } from '../config/errors.js';
import type { StorageConfig } from '../config/storage.js';
import type { Storage } from '../domain/job.js';
import type { Backend, BackendDeps, BackendName } from './backend.js';
import { dockerModule } from './docker/module.js';
import { kubernetesModule, openshiftModule } from './kubernetes/module.js';
import { memoryModule } from './memory-module.js';
import { podmanModule } from './podman/module.js';
import { slurmModule } from './slurm/module.js';
import type { BackendModule } from './module.js';
import { swarmModule } from './swarm/module.js';

/** The order is the order CONTAINER_ENV's choices are listed in (aliases after their backend). */
export const BACKENDS = {
  docker: dockerModule,
  podman: podmanModule,
  swarm: swarmModule,
  kubernetes: kubernetesModule,
  openshift: openshiftModule,
  slurm: slurmModule,
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
  /** INSECURE_SKIP_STOREBASE_CHECK: start even though a host-bind storeBase is invisible here. */
  insecureSkipStoreBaseCheck?: boolean;
}

export interface CreatedBackend {
  backend: Backend;
  storage: Storage;
  /** The host storeBase when it is a directory this process can see, so input/output paths can be
   *  checked; undefined for a PVC, for a backend that mounts nothing, and under
   *  INSECURE_SKIP_STOREBASE_CHECK (host-bind storage is otherwise refused when invisible). */
  storeBaseCheck?: string;
}

/** STORAGE_TYPE=docker_local_volume became a host path through the engine; anything else is
 *  the configured storage as it is. */
async function resolveStorage<K extends BackendName>(
  name: K,
  settings: SettingsMap[K],
  configured: StorageConfig,
  deps: BackendDeps,
): Promise<Storage> {
  const module: ModuleMap[K] = MODULES[name];
  if (module.resolveStorage !== undefined) {
    return module.resolveStorage(configured, settings, deps);
  }
  if (configured.type === 'docker_local_volume') {
    // loadConfig admits docker_local_volume only for backends that can resolve it.
    throw new Error(`STORAGE_TYPE=docker_local_volume with CONTAINER_ENV=${name}`);
  }
  return configured;
}

function open<K extends BackendName>(
  name: K,
  settings: SettingsMap[K],
  deps: BackendDeps,
): Promise<Backend> {
  const module: ModuleMap[K] = MODULES[name];
  return module.open(settings, deps);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The start-up line for a host-bind storeBase this server cannot see: which variable, and the fix. */
function invisibleStoreBaseLine(configured: StorageConfig, storeBase: string): string {
  const variable =
    configured.type === 'docker_local_volume'
      ? `VOLUME_NAME (STORAGE_TYPE=docker_local_volume resolved storeBase to "${storeBase}")`
      : `STOREBASE: "${storeBase}"`;
  return (
    `${variable} is not a directory this server can see, so no input_dir/output_dir could be ` +
    'checked on disk before it is bound into a job; mount storeBase into this server at the same ' +
    'path (as swarm/stack.yml and kubernetes/dev do), or set INSECURE_SKIP_STOREBASE_CHECK=yes ' +
    'to run without those checks'
  );
}

/**
 * Opens the configured backend once its storage is known. Host-bind storage (Docker, Swarm,
 * Kubernetes hostPath) is checked before the backend is dialled: the on-disk input/output checks
 * are what keeps a job's bind inside storeBase, so a storeBase this server cannot see refuses the
 * start (a ConfigError) instead of silently skipping them — unless the operator opted out.
 */
export async function createBackend(
  config: BackendStart,
  deps: BackendDeps,
): Promise<CreatedBackend> {
  const module: AnyBackendModule = MODULES[config.backend.kind];
  const storage = await resolveStorage(config.backend.kind, config.backend, config.storage, deps);
  let storeBaseCheck: string | undefined;
  if (storage.type === 'host') {
    if (await isDirectory(storage.storeBase)) {
      storeBaseCheck = storage.storeBase;
    } else if (module.storage.locationOptional === true) {
      // A backend that binds nothing (memory): nothing to keep inside storeBase.
      deps.log.info(
        { storeBase: storage.storeBase },
        'storeBase is not visible on this server: input_dir/output_dir existence checks are skipped',
      );
    } else if (config.insecureSkipStoreBaseCheck === true) {
      deps.log.warn(
        { storeBase: storage.storeBase },
        'INSECURE_SKIP_STOREBASE_CHECK=yes: STOREBASE IS NOT VISIBLE ON THIS SERVER, SO INPUT_DIR/OUTPUT_DIR ARE BOUND INTO JOBS WITHOUT ANY ON-DISK CHECK (a symlink in storeBase can expose any host path to a job)',
      );
    } else {
      throw new ConfigError([invisibleStoreBaseLine(config.storage, storage.storeBase)]);
    }
  }
  const backend = await open(config.backend.kind, config.backend, deps);
  return { backend, storage, ...(storeBaseCheck !== undefined && { storeBaseCheck }) };
}
