// The Job controller and kubelet in one: scenario steps → pod and Job status transitions (kubernetes.md §8.6),
// plus the TTL controller and activeDeadlineSeconds on the fake clock.

import { sccRefusal, sccViolations } from './admission.js';
import { apiTime, type FakeClock } from './clock.js';
import { recordJobEvent } from './events.js';
import type { LogBook } from './pod-logs.js';
import {
  condition,
  containerId,
  containerStatuses,
  HOST_IP,
  imageId,
  isTerminal,
  newPod,
  NODE_NAME,
  ownedBy,
} from './pods.js';
import type { Store } from './store.js';
import type {
  ContainerStatus,
  Job,
  JobCondition,
  JobStatusWire,
  Pod,
  PodCondition,
  Step,
} from './types.js';

export const JOBS = 'batch/jobs';
export const PODS = '/pods';

/** What an unknown image does: start, pull, run, exit 0. */
export const DEFAULT_SCENARIO: readonly Step[] = [
  { pod: 'create' },
  { schedule: true },
  { waiting: 'ContainerCreating' },
  { running: true },
  { exit: 0 },
];

/** Follow-up work the real controller does in a later sync, kept as separate steps so tests can stop between. */
type FollowUp = { kind: 'count' } | { kind: 'kill'; reason: string; message: string };

interface Run {
  uid: string;
  steps: Step[] | undefined;
  next: number;
  queue: FollowUp[];
}

export interface ControllerOptions {
  store: Store;
  logs: LogBook;
  clock: FakeClock;
  /** Minor server version: 31 and later add SuccessCriteriaMet / FailureTarget before Complete / Failed. */
  minor: number;
  uidRange?: readonly [number, number];
}

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

export class JobController {
  readonly #o: ControllerOptions;
  readonly #scenarios = new Map<string, Step[]>();
  readonly #runs = new Map<string, Run>();

  constructor(o: ControllerOptions) {
    this.#o = o;
  }

  scenario(imageOrJob: string, steps: Step[]): void {
    this.#scenarios.set(imageOrJob, structuredClone(steps));
  }

  #now(): Date {
    return this.#o.clock.now();
  }

  #job(ns: string, name: string): Job | undefined {
    return this.#o.store.get(JOBS, ns, name) as Job | undefined;
  }

  #run(job: Job): Run {
    const key = `${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`;
    let run = this.#runs.get(key);
    if (!run || run.uid !== job.metadata.uid) {
      run = { uid: job.metadata.uid ?? '', steps: undefined, next: 0, queue: [] };
      this.#runs.set(key, run);
    }
    // Chosen at the first step, so a scenario registered just after the create still applies.
    if (!run.steps) {
      const image = job.spec.template.spec?.containers?.[0]?.image ?? '';
      run.steps = structuredClone(
        this.#scenarios.get(job.metadata.name ?? '') ??
          this.#scenarios.get(image) ?? [...DEFAULT_SCENARIO],
      );
    }
    return run;
  }

  /** The Job's pods, in creation order. */
  pods(job: Job): Pod[] {
    return (this.#o.store.list(PODS, job.metadata.namespace) as Pod[]).filter((p) =>
      ownedBy(p, job.metadata.uid ?? ''),
    );
  }

  #active(job: Job): Pod[] {
    return this.pods(job).filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
  }

  #saveJob(job: Job, status: JobStatusWire): Job {
    return this.#o.store.update(JOBS, { ...job, status: ordered(status) }) as Job;
  }

  #savePod(pod: Pod): void {
    this.#o.store.update(PODS, pod);
  }

  /** Applies up to `steps` steps; returns how many made progress (a refused pod create makes none). */
  advance(ns: string, name: string, steps = 1): number {
    let progressed = 0;
    for (let i = 0; i < steps; i++) {
      const job = this.#job(ns, name);
      if (!job) break;
      const run = this.#run(job);
      const follow = run.queue.shift();
      if (follow) {
        this.#followUp(job, run, follow);
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

  /** Returns false when the step could not happen yet (admission refused the pod). */
  #apply(job: Job, run: Run, step: Step): boolean {
    const now = this.#now();
    const t = apiTime(now);
    if ('pod' in step) return this.#createPods(job, now);
    if ('refuseAdmission' in step) {
      recordJobEvent(
        this.#o.store,
        job,
        'Warning',
        'FailedCreate',
        `Error creating: ${step.refuseAdmission}`,
        now,
      );
      this.#saveJob(job, job.status);
      return true;
    }
    if ('deadline' in step) {
      this.#deadline(job, run);
      return true;
    }
    const active = this.#active(job);
    for (const pod of active) {
      if ('unschedulable' in step) {
        pod.status.conditions = [
          condition('PodScheduled', 'False', now, 'Unschedulable', step.unschedulable),
        ];
      } else if ('schedule' in step) {
        this.#schedule(pod, now);
      } else if ('waiting' in step) {
        this.#schedule(pod, now);
        this.#kubeletStarted(pod, now, false);
        const message =
          step.message ?? WAITING_TEXT[step.waiting]?.(pod.spec.containers?.[0]?.image ?? '');
        pod.status.containerStatuses = containerStatuses(pod, (n, image) => ({
          name: n,
          state: { waiting: { reason: step.waiting, ...(message ? { message } : {}) } },
          lastState: {},
          ready: false,
          restartCount: 0,
          image,
          imageID: '',
          started: false,
        }));
      } else if ('running' in step) {
        this.#schedule(pod, now);
        this.#kubeletStarted(pod, now, true);
        pod.status.phase = 'Running';
        pod.status.podIP =
          '10.244.0.' +
          String(2 + (Number.parseInt(pod.metadata.uid?.slice(0, 2) ?? '0', 16) % 250));
        pod.status.containerStatuses = containerStatuses(pod, (n, image) => ({
          name: n,
          state: { running: { startedAt: t } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image,
          imageID: imageId(image),
          containerID: containerId(),
          started: true,
        }));
        if (step.log) this.#appendLog(pod, step.log, now);
      } else if ('exit' in step) {
        if (step.log) this.#appendLog(pod, step.log, now);
        this.#terminate(
          pod,
          now,
          step.exit,
          step.reason ?? (step.exit === 0 ? 'Completed' : 'Error'),
          step.message,
        );
      } else if ('log' in step) {
        this.#appendLog(pod, step.log, now);
      } else {
        this.#terminate(pod, now, 137, 'Error');
        pod.status.reason = 'Evicted';
        pod.status.message = step.evict;
        pod.status.conditions = [
          condition('DisruptionTarget', 'True', now, 'TerminationByKubelet', step.evict),
          ...(pod.status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
        ];
      }
      this.#savePod(pod);
    }
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
    this.#saveJob(job, status);
    return true;
  }

  #createPods(job: Job, now: Date): boolean {
    const range = this.#o.uidRange;
    if (range) {
      const violations = sccViolations(job.spec.template.spec ?? {}, range);
      if (violations.length > 0) {
        const text = `Error creating: ${sccRefusal(job.metadata.name ?? '', violations)}`;
        recordJobEvent(this.#o.store, job, 'Warning', 'FailedCreate', text, now);
        return false;
      }
    }
    const want = Math.max(0, (job.spec.parallelism ?? 1) - this.#active(job).length);
    for (let i = 0; i < want; i++) {
      const pod = this.#o.store.create(PODS, newPod(job, now, range)) as Pod;
      recordJobEvent(
        this.#o.store,
        job,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${pod.metadata.name ?? ''}`,
        now,
      );
    }
    this.#saveJob(job, {
      ...job.status,
      active: this.#active(job).length,
      ready: 0,
      terminating: 0,
      startTime: job.status.startTime ?? apiTime(now),
      uncountedTerminatedPods: job.status.uncountedTerminatedPods ?? {},
    });
    return true;
  }

  #schedule(pod: Pod, now: Date): void {
    if (pod.spec.nodeName) return;
    pod.spec.nodeName = NODE_NAME;
    pod.status.conditions = [condition('PodScheduled', 'True', now)];
  }

  /** The kubelet took the pod: host IP, start time, and the readiness conditions. */
  #kubeletStarted(pod: Pod, now: Date, ready: boolean): void {
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

  #terminate(pod: Pod, now: Date, exitCode: number, reason: string, message?: string): void {
    const t = apiTime(now);
    this.#schedule(pod, now);
    if (!pod.status.startTime) this.#kubeletStarted(pod, now, false);
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
            prev?.state.running?.startedAt ??
            (reason === 'StartError' ? '1970-01-01T00:00:00Z' : t),
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

  #appendLog(pod: Pod, text: string, now: Date): void {
    for (const c of pod.spec.containers ?? []) {
      this.#o.logs.append(
        pod.metadata.namespace ?? '',
        pod.metadata.name ?? '',
        c.name ?? '',
        text,
        now,
      );
    }
  }

  #conditions(
    job: Job,
    interim: string,
    terminal: string | undefined,
    reason: string,
    message: string,
  ): JobCondition[] {
    const t = apiTime(this.#now());
    const have = job.status.conditions ?? [];
    const add = (type: string): JobCondition[] =>
      have.some((c) => c.type === type)
        ? []
        : [{ type, status: 'True', lastProbeTime: t, lastTransitionTime: t, reason, message }];
    const interimSteps = this.#o.minor >= 31 ? add(interim) : [];
    return [...have, ...interimSteps, ...(terminal ? add(terminal) : [])];
  }

  /** activeDeadlineSeconds passed: FailureTarget now (1.31+; Failed before), pods killed in the next step. */
  #deadline(job: Job, run: Run): void {
    const reason = 'DeadlineExceeded';
    const message = 'Job was active longer than specified deadline';
    this.#killActive(job, run, reason, message);
    recordJobEvent(this.#o.store, job, 'Warning', reason, message, this.#now());
  }

  #killActive(job: Job, run: Run, reason: string, message: string): void {
    const now = this.#now();
    const active = this.#active(job);
    for (const pod of active) {
      pod.metadata.deletionTimestamp = apiTime(new Date(now.getTime() + 30_000));
      pod.metadata.deletionGracePeriodSeconds = 30;
      this.#savePod(pod);
    }
    const before31 = this.#o.minor < 31;
    this.#saveJob(job, {
      ...job.status,
      conditions: this.#conditions(
        job,
        'FailureTarget',
        before31 ? 'Failed' : undefined,
        reason,
        message,
      ),
      active: 0,
      ready: 0,
      terminating: active.length,
    });
    run.queue.push({ kind: 'kill', reason, message });
  }

  #followUp(job: Job, run: Run, f: FollowUp): void {
    const now = this.#now();
    if (f.kind === 'kill') {
      const doomed = this.pods(job).filter((p) => p.metadata.deletionTimestamp);
      for (const p of doomed) {
        this.#o.store.remove(PODS, p.metadata.namespace, p.metadata.name ?? '');
        this.#o.logs.dropPod(p.metadata.namespace ?? '', p.metadata.name ?? '');
      }
      this.#saveJob(job, {
        ...job.status,
        conditions: this.#conditions(job, 'FailureTarget', 'Failed', f.reason, f.message),
        failed: (job.status.failed ?? 0) + doomed.length,
        terminating: 0,
      });
      return;
    }
    // 'count': the uncounted window closes; counters and (maybe) terminal conditions appear together.
    const un = job.status.uncountedTerminatedPods ?? {};
    const succeeded = (job.status.succeeded ?? 0) + (un.succeeded?.length ?? 0);
    const failed = (job.status.failed ?? 0) + (un.failed?.length ?? 0);
    const counted: Job = {
      ...job,
      status: { ...job.status, succeeded, failed, uncountedTerminatedPods: {} },
    };
    const completions = job.spec.completions ?? 1;
    const backoffLimit = job.spec.backoffLimit ?? 6;
    if (failed > backoffLimit) {
      const message = 'Job has reached the specified backoff limit';
      if (this.#active(job).length > 0) {
        this.#saveJob(counted, counted.status);
        this.#killActive(
          this.#job(job.metadata.namespace ?? '', job.metadata.name ?? '') ?? counted,
          run,
          'BackoffLimitExceeded',
          message,
        );
        return;
      }
      this.#saveJob(counted, {
        ...counted.status,
        conditions: this.#conditions(
          job,
          'FailureTarget',
          'Failed',
          'BackoffLimitExceeded',
          message,
        ),
      });
      recordJobEvent(this.#o.store, job, 'Warning', 'BackoffLimitExceeded', message, now);
      return;
    }
    if (succeeded >= completions) {
      const message = 'Reached expected number of succeeded pods';
      this.#saveJob(counted, {
        ...counted.status,
        conditions: this.#conditions(
          job,
          'SuccessCriteriaMet',
          'Complete',
          'CompletionsReached',
          message,
        ),
        completionTime: apiTime(now),
      });
      recordJobEvent(this.#o.store, job, 'Normal', 'Completed', 'Job completed', now);
      return;
    }
    this.#saveJob(counted, counted.status);
    // Failures within backoffLimit, or completions still missing: the scenario replays for new pods.
    if (this.#active(job).length === 0) run.next = 0;
  }

  /** Clock moved: TTL-expired finished Jobs go (with their pods); active Jobs past their deadline fail. */
  onClockMove(deleteJob: (job: Job) => void): void {
    const now = this.#now().getTime();
    for (const job of this.#o.store.list(JOBS, undefined) as Job[]) {
      if (job.metadata.deletionTimestamp) continue;
      if (isFinished(job)) {
        const ttl = job.spec.ttlSecondsAfterFinished;
        const finishedAt =
          job.status.completionTime ??
          job.status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')
            ?.lastTransitionTime;
        if (ttl !== undefined && finishedAt && now >= Date.parse(finishedAt) + ttl * 1000)
          deleteJob(job);
        continue;
      }
      const ads = job.spec.activeDeadlineSeconds;
      const started = job.status.startTime;
      const failing = (job.status.conditions ?? []).some((c) => c.type === 'FailureTarget');
      if (ads !== undefined && started && !failing && now >= Date.parse(started) + ads * 1000) {
        this.#deadline(job, this.#run(job));
      }
    }
  }

  forget(ns: string, name: string): void {
    this.#runs.delete(`${ns}/${name}`);
  }
}
