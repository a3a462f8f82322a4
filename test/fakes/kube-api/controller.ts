// The Job controller and kubelet driven by scenario steps (kubernetes.md §8.6): each step applied
// to the Job's pods (kubelet.ts), the pod creates with admission, and the later syncs (job-sync.ts).

import { sccRefusal, sccViolations } from './admission.js';
import { apiTime } from './clock.js';
import { onClockMove } from './clock-controllers.js';
import { JobObjects, type ControllerOptions } from './job-objects.js';
import { deadline, followUp } from './job-sync.js';
import * as kubelet from './kubelet.js';
import { isTerminal, newPod } from './pods.js';
import { PODS } from './resources.js';
import { Scenarios, type Run } from './scenarios.js';
import type { Job, Pod, Step } from './types.js';

export type { ControllerOptions } from './job-objects.js';

export class JobController {
  readonly #k: JobObjects;
  readonly #scenarios = new Scenarios();

  constructor(o: ControllerOptions) {
    this.#k = new JobObjects(o);
  }

  scenario(imageOrJob: string, steps: Step[]): void {
    this.#scenarios.set(imageOrJob, steps);
  }

  /** Applies up to `steps` steps; returns how many made progress (a refused pod create makes none). */
  advance(ns: string, name: string, steps = 1): number {
    let progressed = 0;
    for (let i = 0; i < steps; i++) {
      const job = this.#k.job(ns, name);
      if (!job) break;
      const run = this.#scenarios.runOf(job);
      const follow = run.queue.shift();
      if (follow) {
        followUp(this.#k, job, run, follow);
        progressed++;
        continue;
      }
      const step = run.steps?.[run.next];
      if (!step) break;
      if (this.#apply(job, run, step)) {
        run.next++;
        progressed++;
      }
    }
    return progressed;
  }

  runToEnd(ns: string, name: string): void {
    // Bounded: a scenario that retries pods after failures still ends at backoffLimit.
    for (let i = 0; i < 10_000; i++) if (this.advance(ns, name, 1) === 0) return;
  }

  /** Clock moved: TTL-expired finished Jobs go (with their pods); active Jobs past their deadline fail. */
  onClockMove(deleteJob: (job: Job) => void): void {
    onClockMove(this.#k, (job) => this.#scenarios.runOf(job), deleteJob);
  }

  forget(ns: string, name: string): void {
    this.#scenarios.forget(ns, name);
  }

  /** Returns false when the step could not happen yet (admission refused the pod). */
  #apply(job: Job, run: Run, step: Step): boolean {
    const k = this.#k;
    const now = k.now();
    if ('pod' in step) return this.#createPods(job, now);
    if ('refuseAdmission' in step) {
      k.event(job, 'Warning', 'FailedCreate', `Error creating: ${step.refuseAdmission}`);
      k.saveJob(job, job.status);
      return true;
    }
    if ('deadline' in step) {
      deadline(k, job, run);
      return true;
    }
    const active = k.active(job);
    for (const pod of active) {
      this.#applyToPod(pod, step, now);
      k.savePod(pod);
    }
    // The controller notices finished pods: uncounted first, counted in a later sync.
    const status = structuredClone(job.status);
    const done = active.filter(isTerminal);
    if (done.length > 0) {
      const uncounted = status.uncountedTerminatedPods ?? {};
      for (const p of done) {
        const which = p.status.phase === 'Succeeded' ? 'succeeded' : 'failed';
        uncounted[which] = [...(uncounted[which] ?? []), p.metadata.uid ?? ''];
      }
      status.uncountedTerminatedPods = uncounted;
      status.active = active.length - done.length;
      run.queue.push({ kind: 'count' });
    }
    status.ready = active.filter((p) => p.status.phase === 'Running').length;
    k.saveJob(job, status);
    return true;
  }

  #applyToPod(pod: Pod, step: Step, now: Date): void {
    const logs = this.#k.o.logs;
    if ('unschedulable' in step) kubelet.unschedulable(pod, now, step.unschedulable);
    else if ('schedule' in step) kubelet.schedule(pod, now);
    else if ('waiting' in step) kubelet.waiting(pod, now, step.waiting, step.message);
    else if ('running' in step) {
      kubelet.running(pod, now);
      if (step.log) kubelet.appendLog(logs, pod, step.log, now);
    } else if ('exit' in step) {
      if (step.log) kubelet.appendLog(logs, pod, step.log, now);
      const reason = step.reason ?? (step.exit === 0 ? 'Completed' : 'Error');
      kubelet.terminate(pod, now, step.exit, reason, step.message);
    } else if ('log' in step) kubelet.appendLog(logs, pod, step.log, now);
    else if ('evict' in step) kubelet.evict(pod, now, step.evict);
  }

  /** The controller creates the missing pods, unless admission (OpenShift SCC) refuses them. */
  #createPods(job: Job, now: Date): boolean {
    const k = this.#k;
    const range = k.o.uidRange;
    if (range) {
      const violations = sccViolations(job.spec.template.spec ?? {}, range);
      if (violations.length > 0) {
        const text = `Error creating: ${sccRefusal(job.metadata.name ?? '', violations)}`;
        k.event(job, 'Warning', 'FailedCreate', text);
        return false;
      }
    }
    const want = Math.max(0, (job.spec.parallelism ?? 1) - k.active(job).length);
    for (let i = 0; i < want; i++) {
      const pod = k.o.store.create(PODS, newPod(job, now, range)) as Pod;
      k.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name ?? ''}`);
    }
    k.saveJob(job, {
      ...job.status,
      active: k.active(job).length,
      ready: 0,
      terminating: 0,
      startTime: job.status.startTime ?? apiTime(now),
      uncountedTerminatedPods: job.status.uncountedTerminatedPods ?? {},
    });
    return true;
  }
}
