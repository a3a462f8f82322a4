// toJob(spec, opts): JobSpec → batch/v1 Job (pure; kubernetes.md §2).
import type { Toleration } from './tolerations.js';
import { UnsupportedError } from '../../domain/errors.js';
import { KUBE_MANAGED_BY_LABEL } from './labels.js';
import type { LimitModes } from '../shared/limit-modes.js';
import { DEADLINE_BACKSTOP_SECONDS } from './settings.js';
import type { JobSpec, Mount } from '../../domain/job.js';
import type {
  V1Container,
  V1Job,
  V1PodSpec,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from './client.js';

/** The settings toJob needs (kubernetes.md §1), taken from KubernetesBackendConfig at start-up. */
export interface ManifestOptions {
  profile: 'kubernetes' | 'openshift';
  namespace: string;
  nodeSelector: Readonly<Record<string, string>>;
  tolerations: readonly Toleration[];
  /** JOB_REQUEST_RATIO, 0 < r ≤ 1; 1 = no requests (Kubernetes defaults them to the limits). */
  requestRatio: number;
  imagePullSecrets: readonly string[];
  ttlSecondsAfterFinished: number;
  activeDeadlineSeconds: number;
  /** GPU_RESOURCE_NAME, e.g. nvidia.com/gpu. */
  gpuResourceName: string;
  runAsNonRoot: boolean;
  /** This instance's managed-by value (managedByValue(INSTANCE_ID)); `pman` when unset. */
  managedBy: string;
  /** MEMORY_LIMIT_MODE / IGNORE_LIMITS (issue 13); unset: hard limits. */
  limits?: LimitModes;
  /** CANCEL_GRACE_SECONDS as the pod's terminationGracePeriodSeconds; unset: Kubernetes' 30. */
  stopGraceSeconds?: number;
}

/** The volume name of the shared storage: a fixed DNS-1123 label, whatever VOLUME_NAME is. */
const STORAGE_VOLUME = 'storebase';
const SHM_VOLUME = 'dshm';

export function toJob(spec: JobSpec, opts: ManifestOptions): V1Job {
  const labels = { ...spec.labels, [KUBE_MANAGED_BY_LABEL]: opts.managedBy };
  const storage = storageVolumes(spec.mounts, opts.profile);
  const volumes: V1Volume[] = storage.volumes;
  const volumeMounts: V1VolumeMount[] = storage.mounts;
  if (spec.shmMiB !== undefined) {
    volumes.push({
      name: SHM_VOLUME,
      emptyDir: { medium: 'Memory', sizeLimit: `${spec.shmMiB}Mi` },
    });
    volumeMounts.push({ name: SHM_VOLUME, mountPath: '/dev/shm' });
  }
  const container: V1Container = {
    name: spec.name,
    image: spec.image,
    command: [...spec.command],
    env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    resources: resources(spec, opts),
    securityContext: containerSecurity(spec, opts),
    ...(volumeMounts.length > 0 && { volumeMounts }),
  };
  const podSpec: V1PodSpec = {
    restartPolicy: 'Never',
    ...(opts.stopGraceSeconds !== undefined && {
      terminationGracePeriodSeconds: opts.stopGraceSeconds,
    }),
    // Jobs never talk to the API, and plugins must not see service env vars.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    containers: [container],
    ...(volumes.length > 0 && { volumes }),
    ...(Object.keys(opts.nodeSelector).length > 0 && { nodeSelector: { ...opts.nodeSelector } }),
    ...(opts.tolerations.length > 0 && { tolerations: opts.tolerations.map((t) => ({ ...t })) }),
    ...(opts.imagePullSecrets.length > 0 && {
      imagePullSecrets: opts.imagePullSecrets.map((name) => ({ name })),
    }),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.name, namespace: opts.namespace, labels },
    spec: {
      parallelism: spec.resources.workers,
      completions: spec.resources.workers,
      // One failed pod fails the Job: a plugin run is not retried behind CUBE's back.
      backoffLimit: 0,
      ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished,
      activeDeadlineSeconds:
        spec.timeoutSeconds === undefined
          ? opts.activeDeadlineSeconds
          : spec.timeoutSeconds + DEADLINE_BACKSTOP_SECONDS,
      template: { metadata: { labels: { ...labels } }, spec: podSpec },
    },
  };
}

/** One volume per distinct storage source, and a subPath mount per Mount. */
function storageVolumes(
  mounts: readonly Mount[],
  profile: ManifestOptions['profile'],
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [];
  const names = new Map<string, string>();
  const out: V1VolumeMount[] = [];
  for (const mount of mounts) {
    const key = `${mount.kind}:${mount.source}`;
    let name = names.get(key);
    if (name === undefined) {
      name = names.size === 0 ? STORAGE_VOLUME : `${STORAGE_VOLUME}-${names.size}`;
      names.set(key, name);
      volumes.push(storageVolume(name, mount, profile));
    }
    out.push({
      name,
      mountPath: mount.containerPath,
      subPath: mount.subPath,
      ...(mount.readOnly && { readOnly: true }),
    });
  }
  return { volumes, mounts: out };
}

function storageVolume(name: string, mount: Mount, profile: ManifestOptions['profile']): V1Volume {
  if (mount.kind === 'volume') return { name, persistentVolumeClaim: { claimName: mount.source } };
  // restricted-v2 forbids hostPath; config and capabilities refuse it earlier, this is the backstop.
  if (profile === 'openshift') {
    throw new UnsupportedError('this openshift backend cannot mount storage of kind "host"');
  }
  return { name, hostPath: { path: mount.source, type: 'Directory' } };
}

/**
 * Requests and limits by MEMORY_LIMIT_MODE / IGNORE_LIMITS. hard (default): CPU and memory limits
 * (requests = limits × JOB_REQUEST_RATIO when below 1); soft: the CPU limit and a memory request
 * without a memory limit (the pod is never OOM-killed for its declared memory, as under pman's
 * Docker reservation); IGNORE_LIMITS: requests only, no limits (as pman's Swarm). GPUs are always
 * a limit: an extended resource's request defaults to (and must equal) its limit.
 */
export function resources(spec: JobSpec, opts: ManifestOptions): V1Container['resources'] {
  const { cpuMillicores, memoryMiB, gpus } = spec.resources;
  const gpuLimit: Record<string, string> = gpus > 0 ? { [opts.gpuResourceName]: String(gpus) } : {};
  const modes = opts.limits;
  if (modes?.ignoreLimits === true || modes?.memoryLimitMode === 'soft') {
    const requests = { cpu: `${cpuMillicores}m`, memory: `${memoryMiB}Mi` };
    const limits = modes.ignoreLimits ? gpuLimit : { cpu: `${cpuMillicores}m`, ...gpuLimit };
    return Object.keys(limits).length > 0 ? { limits, requests } : { requests };
  }
  const limits: Record<string, string> = {
    cpu: `${cpuMillicores}m`,
    memory: `${memoryMiB}Mi`,
    ...gpuLimit,
  };
  if (opts.requestRatio >= 1) return { limits };
  const requests = {
    cpu: `${Math.ceil(cpuMillicores * opts.requestRatio)}m`,
    memory: `${Math.ceil(memoryMiB * opts.requestRatio)}Mi`,
  };
  return { limits, requests };
}

function containerSecurity(spec: JobSpec, opts: ManifestOptions): V1SecurityContext {
  const ctx: V1SecurityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  };
  // OpenShift assigns each pod a UID from the namespace range; a fixed one is refused at admission.
  if (opts.profile === 'kubernetes') {
    if (spec.user?.uid !== undefined) ctx.runAsUser = spec.user.uid;
    if (spec.user?.gid !== undefined) ctx.runAsGroup = spec.user.gid;
  }
  if (opts.runAsNonRoot || opts.profile === 'openshift') ctx.runAsNonRoot = true;
  return ctx;
}
