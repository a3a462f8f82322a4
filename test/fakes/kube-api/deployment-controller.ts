// The Deployment controller and the kubelet for a Deployment's pods (issue 15). Pods are created as
// the ReplicaSet controller would (name `<deploy>-<hash>-<5>`, `pod-template-hash` label, owner a
// ReplicaSet `<deploy>-<hash>`); the ReplicaSet object itself is not served. The status follows
// the real sequence: NewReplicaSetCreated → ReplicaSetUpdated → NewReplicaSetAvailable, Available
// by MinimumReplicasAvailable/Unavailable, and ProgressDeadlineExceeded on request (a test step
// stands in for the progress deadline passing).

import { createHash, randomUUID } from 'node:crypto';
import { sccRefusal, sccViolations } from './admission.js';
import { apiTime, type FakeClock } from './clock.js';
import { DEPLOYMENTS, type Deployment, type DeploymentCondition } from './deployments.js';
import * as kubelet from './kubelet.js';
import type { LogBook } from './pod-logs.js';
import { containerStatuses, controlledPod } from './pods.js';
import { PODS } from './resources.js';
import type { Store } from './store.js';
import type { Pod } from './types.js';

/** What a test makes a Deployment's pods do; each applies to every current pod, then the controller syncs. */
export type ServiceStep =
  | { schedule: true }
  | { unschedulable: string }
  | {
      waiting:
        | 'ContainerCreating'
        | 'ErrImagePull'
        | 'ImagePullBackOff'
        | 'InvalidImageName'
        | 'CreateContainerConfigError';
      message?: string;
    }
  /** The server runs; `ready` (default true) is what its readiness probe says. */
  | { running: true; ready?: boolean; log?: string }
  | { log: string }
  /** The container exited and the kubelet backs off before restarting it (CrashLoopBackOff). */
  | { crash: number; log?: string }
  /** The progress deadline passed without the Deployment becoming available. */
  | { progressDeadline: true };

export interface DeploymentControllerOptions {
  store: Store;
  logs: LogBook;
  clock: FakeClock;
  later: (fn: () => void) => void;
  uidRange?: readonly [number, number];
}

const HASH_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The pod-template-hash: 10 characters from the template, as the controller derives it. */
function templateHash(d: Deployment): string {
  const digest = createHash('sha256').update(JSON.stringify(d.spec.template)).digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += HASH_ALPHABET[(digest[i] ?? 0) % HASH_ALPHABET.length];
  return s;
}

export class DeploymentController {
  readonly #o: DeploymentControllerOptions;
  /** ReplicaSet uid per Deployment uid. */
  readonly #replicaSets = new Map<string, string>();

  constructor(o: DeploymentControllerOptions) {
    this.#o = o;
  }

  /** The Deployment's live pods (not being deleted), creation order. */
  pods(ns: string, name: string): Pod[] {
    const d = this.#o.store.get(DEPLOYMENTS, ns, name) as Deployment | undefined;
    const rs = d ? this.#replicaSets.get(d.metadata.uid ?? '') : undefined;
    return (this.#o.store.list(PODS, ns) as Pod[]).filter((p) =>
      (p.metadata.ownerReferences ?? []).some((r) => r.uid === rs),
    );
  }

  /** Applies one step to every live pod, then syncs the status. Throws for an unknown Deployment. */
  step(ns: string, name: string, step: ServiceStep): void {
    const d = this.#o.store.get(DEPLOYMENTS, ns, name) as Deployment | undefined;
    if (!d) throw new Error(`fake kube-api: no Deployment ${ns}/${name}`);
    const now = this.#o.clock.now();
    if ('progressDeadline' in step) {
      this.#save(d, { deadlineExceeded: true });
      return;
    }
    for (const pod of this.pods(ns, name).filter((p) => !p.metadata.deletionTimestamp)) {
      this.#applyToPod(pod, step, now);
      this.#o.store.update(PODS, pod);
    }
    this.sync(ns, name);
  }

  #applyToPod(pod: Pod, step: ServiceStep, now: Date): void {
    if ('unschedulable' in step) kubelet.unschedulable(pod, now, step.unschedulable);
    else if ('schedule' in step) kubelet.schedule(pod, now);
    else if ('waiting' in step) kubelet.waiting(pod, now, step.waiting, step.message);
    else if ('running' in step) {
      kubelet.running(pod, now);
      if (step.ready === false) notReady(pod, now);
      if (step.log) kubelet.appendLog(this.#o.logs, pod, step.log, now);
    } else if ('crash' in step) {
      if (step.log) kubelet.appendLog(this.#o.logs, pod, step.log, now);
      crashLoop(pod, now, step.crash);
    } else if ('log' in step) kubelet.appendLog(this.#o.logs, pod, step.log, now);
  }

  /** The controller's sync: pods up or down to spec.replicas, then the status. */
  sync(ns: string, name: string): void {
    const d = this.#o.store.get(DEPLOYMENTS, ns, name) as Deployment | undefined;
    if (!d) return;
    const now = this.#o.clock.now();
    const want = d.spec.replicas ?? 1;
    const live = this.pods(ns, name).filter((p) => !p.metadata.deletionTimestamp);
    let failure: string | undefined;
    if (live.length < want) {
      const range = this.#o.uidRange;
      const violations = range ? sccViolations(d.spec.template.spec ?? {}, range) : [];
      if (violations.length > 0) {
        failure = sccRefusal(this.#rsName(d), violations);
      } else {
        for (let i = live.length; i < want; i++) this.#o.store.create(PODS, this.#newPod(d, now));
      }
    }
    for (const pod of live.slice(want)) {
      this.#o.store.update(PODS, {
        ...pod,
        metadata: {
          ...pod.metadata,
          deletionTimestamp: apiTime(new Date(now.getTime() + 30_000)),
          deletionGracePeriodSeconds: 30,
        },
      });
      this.#o.later(() => this.removePod(pod));
    }
    this.#save(d, failure === undefined ? {} : { failure });
  }

  removePod(pod: Pod): void {
    this.#o.store.remove(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
    this.#o.logs.dropPod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
  }

  /** The Deployment is gone (Background/Foreground): its pods follow, shortly after. */
  deleted(d: Deployment, orphan: boolean): void {
    const rs = this.#replicaSets.get(d.metadata.uid ?? '');
    const pods = (this.#o.store.list(PODS, d.metadata.namespace) as Pod[]).filter((p) =>
      (p.metadata.ownerReferences ?? []).some((r) => r.uid === rs),
    );
    this.#replicaSets.delete(d.metadata.uid ?? '');
    if (orphan) return;
    this.#o.later(() => {
      for (const pod of pods) this.removePod(pod);
    });
  }

  #rsName(d: Deployment): string {
    return `${d.metadata.name ?? ''}-${templateHash(d)}`;
  }

  #newPod(d: Deployment, now: Date): Pod {
    const rsName = this.#rsName(d);
    const uid = d.metadata.uid ?? '';
    let rsUid = this.#replicaSets.get(uid);
    if (rsUid === undefined) {
      rsUid = randomUUID();
      this.#replicaSets.set(uid, rsUid);
    }
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid };
    const hash = { 'pod-template-hash': templateHash(d) };
    return controlledPod(owner, d.metadata.namespace, d.spec.template, hash, now, this.#o.uidRange);
  }

  /** The status from the live pods, in the Go struct's field order (zero counters omitted). */
  #save(d: Deployment, opts: { deadlineExceeded?: boolean; failure?: string }): void {
    const now = apiTime(this.#o.clock.now());
    const ns = d.metadata.namespace ?? '';
    const live = this.pods(ns, d.metadata.name ?? '').filter((p) => !p.metadata.deletionTimestamp);
    const want = d.spec.replicas ?? 1;
    const ready = live.filter((p) =>
      (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    // maxUnavailable 25% of replicas, rounded down.
    const minAvailable = want - Math.floor(want * 0.25);
    const rs = this.#rsName(d);
    const before = d.status.conditions ?? [];
    const cond = (
      type: string,
      status: 'True' | 'False',
      reason: string,
      message: string,
    ): DeploymentCondition => {
      const old = before.find((c) => c.type === type);
      const same = old?.status === status;
      return {
        type,
        status,
        lastUpdateTime: same && old.reason === reason ? old.lastUpdateTime : now,
        lastTransitionTime: same ? old.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const available =
      ready >= minAvailable
        ? cond(
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
          )
        : cond(
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
          );
    const oldProgress = before.find((c) => c.type === 'Progressing');
    const complete = ready >= want && live.length === want;
    const progressing = complete
      ? cond(
          'Progressing',
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${rs}" has successfully progressed.`,
        )
      : opts.deadlineExceeded === true || oldProgress?.reason === 'ProgressDeadlineExceeded'
        ? cond(
            'Progressing',
            'False',
            'ProgressDeadlineExceeded',
            `ReplicaSet "${rs}" has timed out progressing.`,
          )
        : oldProgress === undefined
          ? cond('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rs}"`)
          : cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rs}" is progressing.`);
    const conditions = [available, progressing];
    if (opts.failure !== undefined)
      conditions.push(cond('ReplicaFailure', 'True', 'FailedCreate', opts.failure));
    const status: Deployment['status'] = { observedGeneration: d.metadata.generation ?? 1 };
    if (live.length) status.replicas = live.length;
    if (live.length) status.updatedReplicas = live.length;
    if (ready) status.readyReplicas = ready;
    if (ready) status.availableReplicas = ready;
    if (want - ready > 0) status.unavailableReplicas = want - ready;
    status.conditions = conditions;
    if (JSON.stringify(status) === JSON.stringify(d.status)) return;
    this.#o.store.update(DEPLOYMENTS, { ...d, status });
  }
}

/** Running, but the readiness probe fails: Ready False, the container not ready. */
function notReady(pod: Pod, now: Date): void {
  const reason = 'ContainersNotReady';
  const text = `containers with unready status: [${(pod.spec.containers ?? []).map((c) => c.name).join(' ')}]`;
  pod.status.conditions = (pod.status.conditions ?? []).map((c) =>
    c.type === 'Ready' || c.type === 'ContainersReady'
      ? {
          type: c.type,
          status: 'False',
          lastProbeTime: null,
          lastTransitionTime: apiTime(now),
          reason,
          message: text,
        }
      : c,
  );
  for (const cs of pod.status.containerStatuses ?? []) cs.ready = false;
}

/** The container exited; with restartPolicy Always the kubelet backs off, then restarts it. */
function crashLoop(pod: Pod, now: Date, exitCode: number): void {
  const t = apiTime(now);
  kubelet.schedule(pod, now);
  pod.status.phase = 'Running';
  pod.status.containerStatuses = containerStatuses(pod, (n, image, prev) => ({
    name: n,
    state: {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off 10s restarting failed container=${n} pod=${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`,
      },
    },
    lastState: {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt: prev?.state.running?.startedAt ?? t,
        finishedAt: t,
        containerID: prev?.containerID ?? 'containerd://0',
      },
    },
    ready: false,
    restartCount: (prev?.restartCount ?? 0) + 1,
    image,
    imageID: prev?.imageID ?? '',
    started: false,
  }));
  notReady(pod, now);
}
