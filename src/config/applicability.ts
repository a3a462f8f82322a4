// Start-up warnings: pman variables we do not support (naming the replacement) and options that do
// not apply to the chosen backend or storage. Nothing set is ignored without a word (architecture.md §1).
import { backendModules } from '../backends/registry.js';
import type { AnyBackendModule } from '../backends/registry.js';
import type { EnvReader } from './env-reader.js';
import type { StorageType } from './storage.js';

/** pman variables without an equivalent here, and what to use instead. */
const UNSUPPORTED = {
  CROMWELL_URL: 'there is no cromwell backend',
  TIMELIMIT_MINUTES: 'there is no cromwell backend',
  OPENSHIFTMGR_PROJECT: 'use JOB_NAMESPACE',
  KUBECFG_PATH: 'use KUBECONFIG',
  NFS_SERVER: 'use STORAGE_TYPE=kubernetes_pvc with an NFS-backed PersistentVolumeClaim',
  SECURITYCONTEXT_RUN_AS_USER: 'use CONTAINER_USER=UID:GID',
  SECURITYCONTEXT_RUN_AS_GROUP: 'use CONTAINER_USER=UID:GID',
} as const satisfies Record<string, string>;

const STORAGE_OPTIONS: Readonly<Record<string, readonly StorageType[]>> = {
  STOREBASE: ['host'],
  VOLUME_NAME: ['docker_local_volume', 'kubernetes_pvc'],
  PFCON_SELECTOR: ['docker_local_volume'],
};

/** Other backends' own variables that the chosen one does not read, in name order. */
function foreignVariables(chosen: AnyBackendModule): string[] {
  const ours = new Set<string>(chosen.ownVariables);
  const foreign = new Set<string>();
  for (const module of backendModules()) {
    for (const name of module.ownVariables) if (!ours.has(name)) foreign.add(name);
  }
  return [...foreign].sort();
}

export function warnInapplicable(
  r: EnvReader,
  chosen: AnyBackendModule,
  storageType: StorageType,
): void {
  for (const [name, replacement] of Object.entries(UNSUPPORTED)) {
    if (r.isSet(name)) r.warn(`${name} is not supported and is ignored: ${replacement}`);
  }
  for (const name of foreignVariables(chosen)) {
    if (r.isSet(name))
      r.warn(`${name} does not apply to CONTAINER_ENV=${chosen.name} and is ignored`);
  }
  for (const [name, types] of Object.entries(STORAGE_OPTIONS)) {
    if (r.isSet(name) && !types.includes(storageType)) {
      r.warn(`${name} does not apply to STORAGE_TYPE=${storageType} and is ignored`);
    }
  }
  if (chosen.notice !== undefined) r.warn(chosen.notice);
}
