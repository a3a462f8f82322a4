// Pods as the Job controller and kubelet shape them: names, labels, ownerReferences, container statuses, conditions.

import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { admit, SCC_ANNOTATION } from './admission.js';
import { apiTime } from './clock.js';
import type { ContainerStatus, Job, Pod, PodCondition, PodSpec, PodTemplate } from './types.js';

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export const NODE_NAME = 'fake-node-1';
export const HOST_IP = '10.0.0.10';

/** `<job>-<5 characters>` from the apiserver's generateName alphabet. */
export function podName(job: string): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return `${job}-${s}`;
}

export function containerId(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
}

export function imageId(image: string): string {
  const repo = image.includes('@')
    ? image.slice(0, image.indexOf('@'))
    : image.replace(/:[^/:]+$/, '');
  return `${repo}@sha256:${randomBytes(32).toString('hex')}`;
}

/** Guaranteed when every container's requests equal its cpu and memory limits; BestEffort with none. */
export function qosClass(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs = spec.containers ?? [];
  const any = cs.some(
    (c) =>
      Object.keys(c.resources?.limits ?? {}).length +
        Object.keys(c.resources?.requests ?? {}).length >
      0,
  );
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? {};
    return ['cpu', 'memory'].every((k) => l[k] !== undefined && (r[k] ?? l[k]) === l[k]);
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function condition(
  type: string,
  status: 'True' | 'False',
  now: Date,
  reason?: string,
  message?: string,
): PodCondition {
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: apiTime(now),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/** A new Pending pod for `job`, as the Job controller creates it (admission applied when `uidRange` is given). */
export function newPod(job: Job, now: Date, uidRange?: readonly [number, number]): Pod {
  const name = job.metadata.name ?? '';
  const owner = { apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid ?? '' };
  return controlledPod(owner, job.metadata.namespace, job.spec.template, {}, now, uidRange);
}

/** What a controller's pod is made from: its owner, and the template it copies. */
interface PodOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/**
 * A new Pending pod of `owner` from `template`, named `<owner>-<random>`, as the API server stores
 * it: the pod defaults, the DefaultTolerationSeconds tolerations every pod gets, and admission
 * (OpenShift's restricted-v2) when `uidRange` is given. The Job and Deployment controllers' pods.
 */
export function controlledPod(
  owner: PodOwner,
  namespace: string | undefined,
  template: PodTemplate,
  extraLabels: Readonly<Record<string, string>>,
  now: Date,
  uidRange?: readonly [number, number],
): Pod {
  let spec: PodSpec = structuredClone(template.spec ?? {});
  if (uidRange) spec = admit(spec, uidRange);
  const annotations = { ...template.metadata?.annotations, ...(uidRange ? SCC_ANNOTATION : {}) };
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: podName(owner.name),
      generateName: `${owner.name}-`,
      namespace,
      uid: randomUUID(),
      creationTimestamp: apiTime(now),
      labels: { ...template.metadata?.labels, ...extraLabels },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      ...spec,
      serviceAccountName: spec.serviceAccountName ?? 'default',
      serviceAccount: spec.serviceAccountName ?? 'default',
      enableServiceLinks: spec.enableServiceLinks ?? true,
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      tolerations: [
        ...((spec.tolerations as unknown[] | undefined) ?? []),
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
    status: { phase: 'Pending', qosClass: qosClass(spec) },
  };
}

/** One container status per container; `state` holds exactly one of waiting/running/terminated. */
export function containerStatuses(
  pod: Pod,
  make: (name: string, image: string, prev?: ContainerStatus) => ContainerStatus,
): ContainerStatus[] {
  return (pod.spec.containers ?? []).map((c) => {
    const prev = pod.status.containerStatuses?.find((s) => s.name === c.name);
    return make(c.name ?? '', c.image ?? '', prev);
  });
}

export function isTerminal(pod: Pod): boolean {
  return pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
}

export function ownedBy(pod: Pod, jobUid: string): boolean {
  return (pod.metadata.ownerReferences ?? []).some((r) => r.uid === jobUid);
}
