// The backend-specific part of the configuration: CONTAINER_ENV, each backend's own options, and
// STORAGE_TYPE with its allowed pairs (api.md §7.2, architecture.md §8).
import type {
  BackendConfig,
  EngineConnection,
  KubernetesBackendConfig,
  StorageConfig,
  StorageType,
} from './config.js';
import type { BackendName } from '../backends/backend.js';
import type { EnvReader } from './env-reader.js';
import {
  dnsLabelProblem,
  dnsSubdomainProblem,
  labelKeyProblem,
  parseKeyValues,
  parseNameList,
  parseTolerations,
} from './syntax.js';

export const CONTAINER_ENVS = [
  'docker',
  'podman',
  'swarm',
  'kubernetes',
  'openshift',
  'memory',
] as const;
export type ContainerEnv = (typeof CONTAINER_ENVS)[number];

const STORAGE_TYPES = ['host', 'docker_local_volume', 'kubernetes_pvc'] as const;

/** Allowed storage types per backend, the default first (api.md §14.1, §7.2). */
export const STORAGE_BY_BACKEND = {
  docker: ['docker_local_volume', 'host'],
  swarm: ['host', 'docker_local_volume'],
  kubernetes: ['kubernetes_pvc', 'host'],
  openshift: ['kubernetes_pvc'],
  memory: ['host', 'kubernetes_pvc'],
} as const satisfies Record<BackendName, readonly [StorageType, ...StorageType[]]>;

/** Where pfcon keeps storeBase; the memory backend only records mounts, so any path will do. */
const MEMORY_STOREBASE = '/var/local/storeBase';
const MEMORY_CLAIM = 'storebase';
const DEFAULT_PFCON_SELECTOR = 'org.chrisproject.role=pfcon';

export function readContainerEnv(r: EnvReader): { name: BackendName; alias: ContainerEnv } {
  const value = r.raw('CONTAINER_ENV');
  if (value !== undefined && !(CONTAINER_ENVS as readonly string[]).includes(value)) {
    const hint = value === 'cromwell' ? ' (there is no cromwell backend)' : '';
    r.problem('CONTAINER_ENV', `"${value}" is not one of ${CONTAINER_ENVS.join(', ')}${hint}`);
    return { name: 'docker', alias: 'docker' };
  }
  const alias = r.oneOf('CONTAINER_ENV', CONTAINER_ENVS, 'docker');
  return { name: alias === 'podman' ? 'docker' : alias, alias };
}

function readEngine(r: EnvReader): EngineConnection {
  const host = r.string('DOCKER_HOST');
  if (host !== undefined && !/^(unix|tcp|http|https):\/\/./.test(host)) {
    r.problem(
      'DOCKER_HOST',
      `"${host}" is not a unix://, tcp://, http:// or https:// address (ssh:// is not supported)`,
    );
  }
  const certPath = r.string('DOCKER_CERT_PATH');
  return {
    ...(host !== undefined && { host }),
    tlsVerify: r.bool('DOCKER_TLS_VERIFY', false),
    ...(certPath !== undefined && { certPath }),
  };
}

function readKubernetes(r: EnvReader, kind: 'kubernetes' | 'openshift'): KubernetesBackendConfig {
  const namespace = r.parsed('JOB_NAMESPACE', (v) => {
    const problem = dnsLabelProblem(v);
    return problem === undefined ? { ok: true, value: v } : { ok: false, error: problem };
  });
  const kubeconfig = r.string('KUBECONFIG');
  const gpuResourceName = r.string('GPU_RESOURCE_NAME') ?? 'nvidia.com/gpu';
  const gpuProblem = labelKeyProblem(gpuResourceName);
  if (gpuProblem !== undefined) r.problem('GPU_RESOURCE_NAME', gpuProblem);
  const runAsNonRoot = r.optionalBool('RUN_AS_NON_ROOT');
  if (kind === 'openshift' && runAsNonRoot === false) {
    r.problem(
      'RUN_AS_NON_ROOT',
      'must not be "no" with CONTAINER_ENV=openshift (its restricted SCC requires non-root); unset it',
    );
  }
  return {
    kind,
    ...(namespace !== undefined && { namespace }),
    ...(kubeconfig !== undefined && { kubeconfig }),
    inCluster: r.isSet('KUBERNETES_SERVICE_HOST'),
    nodeSelector: r.parsed('NODE_SELECTOR', (v) => parseKeyValues(v, { kubernetes: true })) ?? {},
    tolerations: r.parsed('JOB_TOLERATIONS', parseTolerations) ?? [],
    imagePullSecrets: r.parsed('IMAGE_PULL_SECRETS', parseNameList) ?? [],
    ttlSecondsAfterFinished: r.int('JOB_TTL_SECONDS', 86_400, { min: 0 }),
    activeDeadlineSeconds: r.int('JOB_DEADLINE_SECONDS', 604_800, { min: 1 }),
    pullFailureSeconds: r.int('IMAGE_PULL_FAILURE_SECONDS', 300, { min: 0 }),
    admissionFailureSeconds: r.int('ADMISSION_FAILURE_SECONDS', 60, { min: 0 }),
    gpuResourceName,
    requestRatio: r.fraction('JOB_REQUEST_RATIO', 1),
    runAsNonRoot: kind === 'openshift' ? true : (runAsNonRoot ?? false),
  };
}

export function readBackend(
  r: EnvReader,
  env: { name: BackendName; alias: ContainerEnv },
): BackendConfig {
  const ignoreLimits = r.optionalBool('IGNORE_LIMITS');
  if (ignoreLimits === true && env.name !== 'docker') {
    r.problem(
      'IGNORE_LIMITS',
      `"yes" is only supported with CONTAINER_ENV=docker or podman, not ${env.name}`,
    );
  }
  switch (env.name) {
    case 'docker':
      return {
        kind: 'docker',
        alias: env.alias === 'podman' ? 'podman' : 'docker',
        engine: readEngine(r),
        ignoreLimits: ignoreLimits ?? false,
        memoryLimitMode: r.oneOf('MEMORY_LIMIT_MODE', ['hard', 'soft'] as const, 'hard'),
        imagePullWaitSeconds: r.int('IMAGE_PULL_WAIT_SECONDS', 15, { min: 0 }),
        imagePullTimeoutSeconds: r.int('IMAGE_PULL_TIMEOUT_SECONDS', 600, { min: 1 }),
      };
    case 'swarm': {
      const gpuResource = r.string('SWARM_GPU_RESOURCE');
      return {
        kind: 'swarm',
        engine: readEngine(r),
        ...(gpuResource !== undefined && { gpuResource }),
      };
    }
    case 'kubernetes':
    case 'openshift':
      return readKubernetes(r, env.name);
    case 'memory':
      return { kind: 'memory' };
  }
}

function absolutePath(r: EnvReader, name: string): string | undefined {
  const value = r.string(name);
  if (value !== undefined && !value.startsWith('/')) {
    r.problem(name, `"${value}" is not an absolute path`);
  }
  return value;
}

function claimName(r: EnvReader): string | undefined {
  return r.parsed('VOLUME_NAME', (v) => {
    const problem = dnsSubdomainProblem(v);
    return problem === undefined ? { ok: true, value: v } : { ok: false, error: problem };
  });
}

export function readStorage(
  r: EnvReader,
  backend: BackendName,
): { storageType: StorageType; storage: StorageConfig } {
  const allowed: readonly StorageType[] = STORAGE_BY_BACKEND[backend];
  const fallback = allowed[0] ?? 'host';
  let storageType = r.oneOf('STORAGE_TYPE', STORAGE_TYPES, fallback);
  if (!allowed.includes(storageType)) {
    r.problem(
      'STORAGE_TYPE',
      `"${storageType}" is not allowed with CONTAINER_ENV=${backend}; use ${allowed.join(' or ')}`,
    );
    storageType = fallback;
  }
  switch (storageType) {
    case 'host': {
      const storeBase = absolutePath(r, 'STOREBASE');
      if (storeBase === undefined && backend !== 'memory') {
        r.problem(
          'STOREBASE',
          'required with STORAGE_TYPE=host (the absolute host path of storeBase)',
        );
      }
      return { storageType, storage: { type: 'host', storeBase: storeBase ?? MEMORY_STOREBASE } };
    }
    case 'docker_local_volume': {
      const volumeName = r.string('VOLUME_NAME');
      const pfconSelector = r.string('PFCON_SELECTOR') ?? DEFAULT_PFCON_SELECTOR;
      return {
        storageType,
        storage: {
          type: 'docker_local_volume',
          pfconSelector,
          ...(volumeName !== undefined && { volumeName }),
        },
      };
    }
    case 'kubernetes_pvc': {
      const claim = claimName(r);
      if (claim === undefined && !r.isSet('VOLUME_NAME') && backend !== 'memory') {
        r.problem(
          'VOLUME_NAME',
          'required with STORAGE_TYPE=kubernetes_pvc (the name of the storeBase PVC)',
        );
      }
      return { storageType, storage: { type: 'kubernetes_pvc', claimName: claim ?? MEMORY_CLAIM } };
    }
  }
}
