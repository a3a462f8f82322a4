// CONTAINER_ENV=kubernetes and openshift (a profile of it): their own variables, read from the
// shared EnvReader. Pure and light (no @kubernetes/client-node), so loadConfig stays synchronous.
import type { EnvReader } from '../../config/env-reader.js';
import {
  dnsLabelProblem,
  labelKeyProblem,
  parseKeyValues,
  parseNameList,
} from '../../config/syntax.js';
import { readInstanceId } from '../../config/instance.js';
import { parseTolerations } from './tolerations.js';
import type { Toleration } from './tolerations.js';

export type { Toleration } from './tolerations.js';

export type KubernetesKind = 'kubernetes' | 'openshift';

export interface KubernetesBackendConfig<K extends KubernetesKind = KubernetesKind> {
  kind: K;
  /** JOB_NAMESPACE; undefined → the kubeconfig context's namespace, else 'default'. */
  namespace?: string;
  /** KUBECONFIG as given (may be a path-delimiter separated list). */
  kubeconfig?: string;
  /** True when KUBERNETES_SERVICE_HOST is set: load the in-cluster service account first. */
  inCluster: boolean;
  nodeSelector: Readonly<Record<string, string>>;
  tolerations: readonly Toleration[];
  imagePullSecrets: readonly string[];
  ttlSecondsAfterFinished: number;
  activeDeadlineSeconds: number;
  pullFailureSeconds: number;
  admissionFailureSeconds: number;
  gpuResourceName: string;
  requestRatio: number;
  runAsNonRoot: boolean;
  /** INSTANCE_ID: the managed-by label value becomes `pman-<id>` (shared/labels.ts). */
  instanceId?: string;
}

/** Warned about when set for another backend (KUBECONFIG is ambient in many shells: left out). */
export const KUBERNETES_VARIABLES = [
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

export function readKubernetesSettings<K extends KubernetesKind>(
  r: EnvReader,
  kind: K,
): KubernetesBackendConfig<K> {
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
  const instanceId = readInstanceId(r);
  return {
    kind,
    ...(namespace !== undefined && { namespace }),
    ...(instanceId !== undefined && { instanceId }),
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
    // The restricted SCC refuses root, so OpenShift always asks for non-root.
    runAsNonRoot: kind === 'openshift' ? true : (runAsNonRoot ?? false),
  };
}
