// CONTAINER_ENV=kubernetes and openshift (a profile of it): their own variables, read from the
// shared EnvReader. Pure and light (no @kubernetes/client-node), so loadConfig stays synchronous.
import { isIP } from 'node:net';
import type { EnvReader } from '../../config/env-reader.js';
import {
  dnsLabelProblem,
  labelKeyProblem,
  parseKeyValues,
  parseNameList,
} from '../../config/syntax.js';
import { readInstanceId } from '../../config/instance.js';
import { parseTolerations } from './tolerations.js';
import { readLimitModes } from '../shared/limit-modes.js';
import type { LimitModes } from '../shared/limit-modes.js';
import { DEFAULT_CANCEL_GRACE_SECONDS } from '../../config/control.js';
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
  /** JOB_DEADLINE_SECONDS (default 7 days here): the Job's activeDeadlineSeconds, a backstop
   *  behind the service's own deadline (src/service/deadlines.ts), which every backend has. */
  activeDeadlineSeconds: number;
  pullFailureSeconds: number;
  admissionFailureSeconds: number;
  gpuResourceName: string;
  requestRatio: number;
  runAsNonRoot: boolean;
  /** INSTANCE_ID: the managed-by label value becomes `pman-<id>` (shared/labels.ts). */
  instanceId?: string;
  /** MEMORY_LIMIT_MODE and IGNORE_LIMITS (issue 13); absent: hard limits. */
  limits?: LimitModes;
  /** CANCEL_GRACE_SECONDS as each pod's terminationGracePeriodSeconds (a cancel ends the Job
   *  through its deadline, and the Job controller deletes the pod with the pod's grace). */
  stopGraceSeconds?: number;
  /** SERVICE_START_TIMEOUT_SECONDS (issue 15) as a service Deployment's progressDeadlineSeconds;
   *  absent: the shared default. */
  serviceStartTimeoutSeconds?: number;
  /** SERVICE_NODE_ADDRESS (issue 15): the host a NodePort service's endpoint names; absent: the
   *  InternalIP of a node (listing nodes needs the ClusterRole of kubernetes/). */
  serviceNodeAddress?: string;
}

/** Warned about when set for another backend (KUBECONFIG is ambient in many shells: left out). */
export const KUBERNETES_VARIABLES = [
  'JOB_NAMESPACE',
  'NODE_SELECTOR',
  'IMAGE_PULL_SECRETS',
  'JOB_TTL_SECONDS',
  'IMAGE_PULL_FAILURE_SECONDS',
  'ADMISSION_FAILURE_SECONDS',
  'GPU_RESOURCE_NAME',
  'JOB_REQUEST_RATIO',
  'JOB_TOLERATIONS',
  'RUN_AS_NON_ROOT',
  'SERVICE_NODE_ADDRESS',
] as const;

/**
 * How long after a run's deadline (timeout_seconds, JOB_DEADLINE_SECONDS) the Job's own
 * activeDeadlineSeconds fires: the service stops the run first (with its message and grace); the
 * Job's deadline only catches a run the service could not stop (it was down). Kubernetes counts
 * from the Job's start, the service from the container's, so the margin also covers a pull.
 */
export const DEADLINE_BACKSTOP_SECONDS = 300;

/** The Job's activeDeadlineSeconds when JOB_DEADLINE_SECONDS is unset: 7 days, as before. */
const DEFAULT_ACTIVE_DEADLINE_SECONDS = 604_800;

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
  const serviceNodeAddress = nodeAddressSetting(r);
  const serviceStartTimeout = startTimeout(r.string('SERVICE_START_TIMEOUT_SECONDS'));
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
    activeDeadlineSeconds: activeDeadline(r.optionalInt('JOB_DEADLINE_SECONDS', { min: 1 })),
    pullFailureSeconds: r.int('IMAGE_PULL_FAILURE_SECONDS', 300, { min: 0 }),
    admissionFailureSeconds: r.int('ADMISSION_FAILURE_SECONDS', 60, { min: 0 }),
    gpuResourceName,
    requestRatio: r.fraction('JOB_REQUEST_RATIO', 1),
    // The restricted SCC refuses root, so OpenShift always asks for non-root.
    runAsNonRoot: kind === 'openshift' ? true : (runAsNonRoot ?? false),
    limits: readLimitModes(r),
    stopGraceSeconds: r.int('CANCEL_GRACE_SECONDS', DEFAULT_CANCEL_GRACE_SECONDS, { min: 0 }),
    ...(serviceStartTimeout !== undefined && { serviceStartTimeoutSeconds: serviceStartTimeout }),
    ...(serviceNodeAddress !== undefined && { serviceNodeAddress }),
  };
}

function activeDeadline(jobDeadlineSeconds: number | undefined): number {
  return jobDeadlineSeconds === undefined
    ? DEFAULT_ACTIVE_DEADLINE_SECONDS
    : jobDeadlineSeconds + DEADLINE_BACKSTOP_SECONDS;
}

/**
 * SERVICE_START_TIMEOUT_SECONDS as the Deployments' progressDeadlineSeconds, when it is set and
 * valid. src/config/service.ts reads and checks it for the job service (a bad value stops start-up
 * there, once); this copy only follows it.
 */
function startTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  const seconds = Number(raw.trim());
  return seconds >= 1 && seconds <= 86_400 ? seconds : undefined;
}

/** A DNS name (RFC 1123), as a node's address may be one. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

/**
 * SERVICE_NODE_ADDRESS: the host NodePort endpoints name, `http://<it>:<nodePort>`; an IP literal
 * or a host name, nothing else (a scheme or a port would make every endpoint a broken URL).
 */
function nodeAddressSetting(r: EnvReader): string | undefined {
  const value = r.string('SERVICE_NODE_ADDRESS')?.trim();
  if (value === undefined || value === '') return undefined;
  if (isIP(value) !== 0 || HOST_NAME.test(value)) return value;
  r.problem(
    'SERVICE_NODE_ADDRESS',
    `"${value}" is neither an IP address nor a host name; give the address NodePort services are reached at, e.g. 192.0.2.10 or node1.example.org (no scheme, no port)`,
  );
  return undefined;
}
