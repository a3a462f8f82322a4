// The kubelet's side of a scenario step: one pod's scheduling, container states, conditions and output.

import { apiTime } from './clock.js';
import type { LogBook } from './pod-logs.js';
import { condition, containerId, containerStatuses, HOST_IP, imageId, NODE_NAME } from './pods.js';
import type { ContainerStatus, Pod, PodCondition, Step } from './types.js';

type WaitingReason = Extract<Step, { waiting: unknown }>['waiting'];

const WAITING_TEXT: Readonly<Record<string, (image: string) => string | undefined>> = {
  ContainerCreating: () => undefined,
  PodInitializing: () => undefined,
  ErrImagePull: (i) =>
    `failed to pull and unpack image "${i}": failed to resolve reference "${i}": not found`,
  ImagePullBackOff: (i) => `Back-off pulling image "${i}"`,
  InvalidImageName: (i) =>
    `Failed to apply default image tag "${i}": couldn't parse image name "${i}": invalid reference format`,
  CreateContainerConfigError: () => 'container has runAsNonRoot and image will run as root',
  CreateContainerError: () => 'context deadline exceeded',
};

export function unschedulable(pod: Pod, now: Date, message: string): void {
  pod.status.conditions = [condition('PodScheduled', 'False', now, 'Unschedulable', message)];
}

export function schedule(pod: Pod, now: Date): void {
  if (pod.spec.nodeName) return;
  pod.spec.nodeName = NODE_NAME;
  pod.status.conditions = [condition('PodScheduled', 'True', now)];
}

/** The kubelet took the pod: host IP, start time, and the readiness conditions. */
function kubeletStarted(pod: Pod, now: Date, ready: boolean): void {
  const prev = new Map((pod.status.conditions ?? []).map((c) => [c.type, c]));
  const keep = (c: PodCondition): PodCondition => {
    const old = prev.get(c.type);
    return old && old.status === c.status && old.reason === c.reason ? old : c;
  };
  const notReady = ready ? undefined : 'ContainersNotReady';
  const notReadyText = ready
    ? undefined
    : `containers with unready status: [${(pod.spec.containers ?? []).map((c) => c.name).join(' ')}]`;
  pod.status = {
    ...pod.status,
    conditions: [
      keep(condition('PodReadyToStartContainers', ready ? 'True' : 'False', now)),
      keep(condition('Initialized', 'True', now)),
      keep(condition('Ready', ready ? 'True' : 'False', now, notReady, notReadyText)),
      keep(condition('ContainersReady', ready ? 'True' : 'False', now, notReady, notReadyText)),
      keep(condition('PodScheduled', 'True', now)),
    ],
    hostIP: HOST_IP,
    startTime: pod.status.startTime ?? apiTime(now),
  };
}

/** Containers waiting (pulling, or failing to pull / create), with the kubelet's message. */
export function waiting(pod: Pod, now: Date, reason: WaitingReason, message?: string): void {
  schedule(pod, now);
  kubeletStarted(pod, now, false);
  const text = message ?? WAITING_TEXT[reason]?.(pod.spec.containers?.[0]?.image ?? '');
  pod.status.containerStatuses = containerStatuses(pod, (n, image) => ({
    name: n,
    state: { waiting: { reason, ...(text ? { message: text } : {}) } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image,
    imageID: '',
    started: false,
  }));
}

export function running(pod: Pod, now: Date): void {
  schedule(pod, now);
  kubeletStarted(pod, now, true);
  pod.status.phase = 'Running';
  pod.status.podIP =
    '10.244.0.' + String(2 + (Number.parseInt(pod.metadata.uid?.slice(0, 2) ?? '0', 16) % 250));
  pod.status.containerStatuses = containerStatuses(pod, (n, image) => ({
    name: n,
    state: { running: { startedAt: apiTime(now) } },
    lastState: {},
    ready: true,
    restartCount: 0,
    image,
    imageID: imageId(image),
    containerID: containerId(),
    started: true,
  }));
}

export function terminate(
  pod: Pod,
  now: Date,
  exitCode: number,
  reason: string,
  message?: string,
): void {
  const t = apiTime(now);
  schedule(pod, now);
  if (!pod.status.startTime) kubeletStarted(pod, now, false);
  pod.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
  pod.status.containerStatuses = containerStatuses(pod, (n, image, prev?: ContainerStatus) => ({
    name: n,
    state: {
      terminated: {
        exitCode,
        reason,
        ...(message ? { message } : {}),
        // A container that never started (StartError) reports the zero time.
        startedAt:
          prev?.state.running?.startedAt ?? (reason === 'StartError' ? '1970-01-01T00:00:00Z' : t),
        finishedAt: t,
        containerID: prev?.containerID ?? containerId(),
      },
    },
    lastState: {},
    ready: false,
    restartCount: 0,
    image,
    imageID: prev?.imageID || imageId(image),
    containerID: prev?.containerID ?? containerId(),
    started: false,
  }));
  pod.status.conditions = (pod.status.conditions ?? []).map((c) =>
    c.type === 'Ready' || c.type === 'ContainersReady' || c.type === 'PodReadyToStartContainers'
      ? {
          ...condition(
            c.type,
            'False',
            now,
            c.type === 'PodReadyToStartContainers' ? undefined : 'PodCompleted',
          ),
        }
      : c,
  );
}

/** Node pressure: the pod fails as Evicted with a DisruptionTarget condition. */
export function evict(pod: Pod, now: Date, message: string): void {
  terminate(pod, now, 137, 'Error');
  pod.status.reason = 'Evicted';
  pod.status.message = message;
  pod.status.conditions = [
    condition('DisruptionTarget', 'True', now, 'TerminationByKubelet', message),
    ...(pod.status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
  ];
}

/** Output of every container of the pod. */
export function appendLog(logs: LogBook, pod: Pod, text: string, now: Date): void {
  for (const c of pod.spec.containers ?? []) {
    logs.append(pod.metadata.namespace ?? '', pod.metadata.name ?? '', c.name ?? '', text, now);
  }
}
