// The kubernetes backend and its openshift profile as the registry sees them (two CONTAINER_ENV
// names, one implementation). The implementation, and @kubernetes/client-node with it, is loaded
// only by open().
import type { BackendModule } from '../module.js';
import { KUBERNETES_JOB_NAME } from './job-name.js';
import { KUBERNETES_VARIABLES, readKubernetesSettings } from './settings.js';
import type { KubernetesBackendConfig, KubernetesKind } from './settings.js';

function kubernetesFamily<K extends KubernetesKind>(
  kind: K,
  profile: Pick<BackendModule<K, KubernetesBackendConfig<K>>, 'storage' | 'shared'>,
): BackendModule<K, KubernetesBackendConfig<K>> {
  return {
    name: kind,
    aliases: [],
    jobName: KUBERNETES_JOB_NAME,
    ownVariables: KUBERNETES_VARIABLES,
    ...profile,
    readSettings: (r) => readKubernetesSettings(r, kind),
    async open(settings, deps) {
      const { createKubernetesBackend } = await import('./kubernetes.js');
      return createKubernetesBackend(settings, deps);
    },
  };
}

export const kubernetesModule = kubernetesFamily('kubernetes', {
  storage: { types: ['kubernetes_pvc', 'host'] },
  shared: { kubernetesLabels: true },
});

/** OpenShift's restricted SCC: no fixed UID, no hostPath, and HOME must be writable. */
export const openshiftModule = kubernetesFamily('openshift', {
  storage: { types: ['kubernetes_pvc'] },
  shared: {
    kubernetesLabels: true,
    containerUserRefused: 'the platform assigns each pod a UID',
    homeWorkaroundAlwaysOn: true,
  },
});
