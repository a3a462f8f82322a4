// The controllers' access to Jobs and their pods in the store: reads, saves in wire order, events, conditions.

import { apiTime, type FakeClock } from './clock.js';
import { recordJobEvent } from './events.js';
import type { LogBook } from './pod-logs.js';
import { isTerminal, ownedBy } from './pods.js';
import { JOBS, PODS } from './resources.js';
import type { Store } from './store.js';
import type { Job, JobCondition, JobStatusWire, Pod } from './types.js';

export interface ControllerOptions {
  store: Store;
  logs: LogBook;
  clock: FakeClock;
  /** Minor server version: 31 and later add SuccessCriteriaMet / FailureTarget before Complete / Failed. */
  minor: number;
  uidRange?: readonly [number, number];
}

/** JobStatus in the Go struct's field order, zero counters omitted (active/succeeded/failed are omitempty). */
function ordered(s: JobStatusWire): JobStatusWire {
  const out: JobStatusWire = {};
  if (s.conditions?.length) out.conditions = s.conditions;
  if (s.startTime) out.startTime = s.startTime;
  if (s.completionTime) out.completionTime = s.completionTime;
  if (s.active) out.active = s.active;
  if (s.succeeded) out.succeeded = s.succeeded;
  if (s.failed) out.failed = s.failed;
  if (s.terminating !== undefined) out.terminating = s.terminating;
  if (s.uncountedTerminatedPods) out.uncountedTerminatedPods = s.uncountedTerminatedPods;
  if (s.ready !== undefined) out.ready = s.ready;
  return out;
}

export function isFinished(job: Job): boolean {
  return (job.status.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

export class JobObjects {
  readonly o: ControllerOptions;

  constructor(o: ControllerOptions) {
    this.o = o;
  }

  now(): Date {
    return this.o.clock.now();
  }

  job(ns: string, name: string): Job | undefined {
    return this.o.store.get(JOBS, ns, name) as Job | undefined;
  }

  /** The Job's pods, in creation order. */
  pods(job: Job): Pod[] {
    return (this.o.store.list(PODS, job.metadata.namespace) as Pod[]).filter((p) =>
      ownedBy(p, job.metadata.uid ?? ''),
    );
  }

  /** Pods that still count as active: not terminal, not being deleted. */
  active(job: Job): Pod[] {
    return this.pods(job).filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
  }

  saveJob(job: Job, status: JobStatusWire): Job {
    return this.o.store.update(JOBS, { ...job, status: ordered(status) }) as Job;
  }

  savePod(pod: Pod): void {
    this.o.store.update(PODS, pod);
  }

  removePod(pod: Pod): void {
    this.o.store.remove(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
    this.o.logs.dropPod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
  }

  event(job: Job, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordJobEvent(this.o.store, job, type, reason, message, this.now());
  }

  /** The Job's conditions plus the interim one (1.31+) and the terminal one, each added once. */
  conditions(
    job: Job,
    interim: string,
    terminal: string | undefined,
    reason: string,
    message: string,
  ): JobCondition[] {
    const t = apiTime(this.now());
    const have = job.status.conditions ?? [];
    const add = (type: string): JobCondition[] =>
      have.some((c) => c.type === type)
        ? []
        : [{ type, status: 'True', lastProbeTime: t, lastTransitionTime: t, reason, message }];
    const interimSteps = this.o.minor >= 31 ? add(interim) : [];
    return [...have, ...interimSteps, ...(terminal ? add(terminal) : [])];
  }
}
