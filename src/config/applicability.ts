// Start-up warnings: pman variables we do not support (naming the replacement) and options that do
// not apply to the chosen backend or storage. Nothing set is ignored without a word (architecture.md §1).
import type { StorageType } from './config.js';
import type { BackendName } from '../backends/backend.js';
import type { EnvReader } from './env-reader.js';

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

const KUBERNETES_ONLY = [
  'JOB_NAMESPACE',
  'NODE_SELECTOR',
  'IMAGE_PULL_SECRETS',
  'JOB_TTL_SECONDS',
  'JOB_DEADLINE_SECONDS',
  'IMAGE_PULL_FAILURE_SECONDS',
  'ADMISSION_FAILURE_SECONDS',
  'GPU_RESOURCE_NAME',
  'JOB_REQUEST_RATIO',
  'JOB_TOLERATIONS',
  'RUN_AS_NON_ROOT',
] as const;

const DOCKER_ONLY = ['MEMORY_LIMIT_MODE', 'IMAGE_PULL_WAIT_SECONDS', 'IMAGE_PULL_TIMEOUT_SECONDS'];

/** Which backends each option applies to. DOCKER_HOST and KUBECONFIG are left out on purpose:
 *  they are ambient in many shells, and warning about them would be noise. */
const APPLIES_TO: Readonly<Record<string, readonly BackendName[]>> = {
  ...Object.fromEntries(KUBERNETES_ONLY.map((name) => [name, ['kubernetes', 'openshift']])),
  ...Object.fromEntries(DOCKER_ONLY.map((name) => [name, ['docker']])),
  SWARM_GPU_RESOURCE: ['swarm'],
};

const STORAGE_OPTIONS: Readonly<Record<string, readonly StorageType[]>> = {
  STOREBASE: ['host'],
  VOLUME_NAME: ['docker_local_volume', 'kubernetes_pvc'],
  PFCON_SELECTOR: ['docker_local_volume'],
};

export function warnInapplicable(
  r: EnvReader,
  backend: BackendName,
  storageType: StorageType,
): void {
  for (const [name, replacement] of Object.entries(UNSUPPORTED)) {
    if (r.isSet(name)) r.warn(`${name} is not supported and is ignored: ${replacement}`);
  }
  for (const [name, backends] of Object.entries(APPLIES_TO)) {
    if (r.isSet(name) && !backends.includes(backend)) {
      r.warn(`${name} does not apply to CONTAINER_ENV=${backend} and is ignored`);
    }
  }
  for (const [name, types] of Object.entries(STORAGE_OPTIONS)) {
    if (r.isSet(name) && !types.includes(storageType)) {
      r.warn(`${name} does not apply to STORAGE_TYPE=${storageType} and is ignored`);
    }
  }
  if (backend === 'memory') {
    r.warn('CONTAINER_ENV=memory: jobs are only recorded, never run (tests and demos)');
  }
}
