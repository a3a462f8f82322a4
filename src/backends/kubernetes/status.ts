// fromJob(job, pods, events, now, limits): a Job, its pods and events → JobInfo (pure; kubernetes.md §3).
// Never answers `undefined`: CUBE cancels a run on it (api.md §9.3).
import type { JobInfo, JobStatus } from '../../domain/job.js';

/** A timestamp as client-node deserializes it (Date) or as a watch event carries it (string). */
export type Stamp = Date | string;

/** The fields of a batch/v1 Job we read; V1Job and a watch event's raw object both fit. */
export interface JobView {
  metadata?: { name?: string; creationTimestamp?: Stamp; deletionTimestamp?: Stamp };
  spec?: {
    completions?: number;
    backoffLimit?: number;
    template?: {
      spec?: { containers?: readonly { image?: string; command?: readonly string[] }[] };
    };
  };
  status?: {
    /** Read by nobody on purpose: it counts pending pods too (pman's week-long `started`). */
    active?: number;
    ready?: number;
    terminating?: number;
    succeeded?: number;
    failed?: number;
    startTime?: Stamp;
    completionTime?: Stamp;
    uncountedTerminatedPods?: { succeeded?: readonly string[]; failed?: readonly string[] };
    conditions?: readonly JobConditionView[];
  };
}

export interface JobConditionView {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: Stamp;
}

export interface ContainerStatusView {
  name?: string;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: Stamp };
    terminated?: { exitCode?: number; reason?: string; message?: string; finishedAt?: Stamp };
  };
}

export interface PodView {
  metadata?: { name?: string; creationTimestamp?: Stamp };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: readonly { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: readonly ContainerStatusView[];
  };
}

export interface EventView {
  reason?: string;
  type?: string;
  message?: string;
  count?: number;
  firstTimestamp?: Stamp;
  lastTimestamp?: Stamp;
  eventTime?: Stamp;
  metadata?: { creationTimestamp?: Stamp };
}

export interface StatusLimits {
  /** IMAGE_PULL_FAILURE_SECONDS: how long a pull may fail before the job is finishedWithError. */
  pullFailureSeconds: number;
  /** ADMISSION_FAILURE_SECONDS: how long a Job may have no pod while FailedCreate events exist. */
  admissionFailureSeconds: number;
}

/** Waiting reasons that never resolve by themselves: fail at once. */
const PERMANENT_WAITING = new Set([
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
]);
/** Waiting reasons that may be transient (registry hiccup): fail only after pullFailureSeconds. */
const RETRYING_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'CreateContainerError']);

export function toDate(value: Stamp | undefined | null): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** RFC 3339 with the API's second precision: `2026-11-22T14:16:57Z`, not toISOString's `.000Z`. */
export function formatStamp(value: Stamp | undefined | null, fallback: Date): string {
  const d = toDate(value) ?? fallback;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Pods in creation order (name breaks ties), the order logs and rule 6 use. */
export function sortPods<P extends PodView>(pods: readonly P[]): P[] {
  return [...pods].sort((a, b) => {
    const ta = toDate(a.metadata?.creationTimestamp)?.getTime() ?? 0;
    const tb = toDate(b.metadata?.creationTimestamp)?.getTime() ?? 0;
    return ta - tb || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  });
}

/** Job conditions that end it (FailureTarget and SuccessCriteriaMet come first on ≥ 1.31). */
const TERMINAL_CONDITIONS = new Set(['Complete', 'Failed', 'SuccessCriteriaMet', 'FailureTarget']);

/**
 * Whether fromJob needs the Job's events: only rule 7 reads them (admission refused every pod),
 * so a Job with pods or a terminal condition is decided without that API call.
 */
export function needsEvents(job: JobView, pods: readonly PodView[]): boolean {
  const terminal = (job.status?.conditions ?? []).some(
    (c) => c.status === 'True' && TERMINAL_CONDITIONS.has(c.type ?? ''),
  );
  return pods.length === 0 && !terminal;
}

export function fromJob(
  job: JobView,
  pods: readonly PodView[],
  events: readonly EventView[],
  now: Date,
  limits: StatusLimits,
): JobInfo {
  const container = job.spec?.template?.spec?.containers?.[0];
  const created = toDate(job.metadata?.creationTimestamp) ?? now;
  const base = {
    name: job.metadata?.name ?? '',
    image: container?.image ?? '',
    command: [...(container?.command ?? [])],
  };
  const sorted = sortPods(pods);
  const decided = decide(job, sorted, events, now, limits, created);
  const exitCode = terminalExitCode(decided.status, sorted);
  return {
    ...base,
    status: decided.status,
    message: decided.message,
    timestamp: formatStamp(decided.at, created),
    ...(exitCode !== undefined && { exitCode }),
  };
}

/**
 * The exit code of a terminal Job: the first failing worker's (pods in creation order), else 0 for
 * a success. A failure no container exited for (deadline, eviction, admission) has none.
 */
function terminalExitCode(status: JobStatus, pods: readonly PodView[]): number | undefined {
  if (status === 'finishedSuccessfully') return 0;
  if (status !== 'finishedWithError') return undefined;
  for (const pod of pods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const code = cs.state?.terminated?.exitCode;
      if (code !== undefined && code !== 0) return code;
    }
  }
  return undefined;
}

interface Decision {
  status: JobStatus;
  message: string;
  at: Stamp | undefined;
}

function decide(
  job: JobView,
  pods: readonly PodView[],
  events: readonly EventView[],
  now: Date,
  limits: StatusLimits,
  created: Date,
): Decision {
  const status = job.status ?? {};
  const completions = job.spec?.completions ?? 1;
  const backoffLimit = job.spec?.backoffLimit ?? 6;
  const conditions = status.conditions ?? [];
  const isTrue = (...types: string[]) =>
    conditions.find((c) => c.status === 'True' && types.includes(c.type ?? ''));

  // 1. Terminal failure condition (FailureTarget comes first on ≥ 1.31, Failed once pods are gone).
  const failed = isTrue('Failed', 'FailureTarget');
  if (failed !== undefined) {
    const at = isTrue('Failed')?.lastTransitionTime ?? failed.lastTransitionTime;
    if (failed.reason === 'DeadlineExceeded') {
      return finishedWithError(
        `DeadlineExceeded: ${failed.message ?? 'Job was active longer than specified deadline'}`,
        at,
      );
    }
    return finishedWithError(failedPodStory(pods) ?? conditionText(failed), at);
  }
  // 2. Terminal success condition.
  const complete = isTrue('Complete', 'SuccessCriteriaMet');
  if (complete !== undefined) {
    return finishedOk(status.completionTime ?? complete.lastTransitionTime ?? lastFinish(pods));
  }
  // 3. Counters, including pods the controller has seen finish but not yet counted (pman #225).
  const uncounted = status.uncountedTerminatedPods ?? {};
  const succeeded = (status.succeeded ?? 0) + (uncounted.succeeded?.length ?? 0);
  const failedCount = (status.failed ?? 0) + (uncounted.failed?.length ?? 0);
  if (succeeded >= completions) return finishedOk(status.completionTime ?? lastFinish(pods));
  if (failedCount > backoffLimit) {
    return finishedWithError(
      failedPodStory(pods) ?? 'BackoffLimitExceeded: Job has reached the specified backoff limit',
      lastFinish(pods),
    );
  }
  // 4. Pods, when the Job status lags behind them.
  const story = failedPodStory(pods);
  if (story !== undefined) return finishedWithError(story, lastFinish(pods));
  if (pods.filter((p) => p.status?.phase === 'Succeeded').length >= completions) {
    return finishedOk(lastFinish(pods));
  }
  // 5. Running: a container really runs (status.active also counts pending pods).
  for (const pod of pods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      if (cs.state?.running !== undefined) {
        return {
          status: 'started',
          message: 'running',
          at: cs.state.running.startedAt ?? status.startTime,
        };
      }
    }
  }
  // 6. Pending pods: the first one decides.
  const pending = pods.find((p) => p.status?.phase === 'Pending' || p.status?.phase === undefined);
  if (pending !== undefined) return pendingPod(pending, now, limits, status.startTime);
  if (pods.length > 0) return { status: 'started', message: 'running', at: status.startTime };
  // 7. No pods: admission may have refused them (OpenShift SCC, ResourceQuota, PodSecurity).
  const refusal = latestFailedCreate(events);
  if (refusal !== undefined) {
    const message = `FailedCreate: ${refusal.message ?? ''}`.trimEnd();
    const ageSeconds = (now.getTime() - created.getTime()) / 1000;
    return ageSeconds < limits.admissionFailureSeconds
      ? { status: 'notstarted', message, at: created }
      : finishedWithError(message, eventTime(refusal));
  }
  return { status: 'notstarted', message: 'job created', at: created };
}

function finishedOk(at: Stamp | undefined): Decision {
  return { status: 'finishedSuccessfully', message: 'finished', at };
}

function finishedWithError(message: string, at: Stamp | undefined): Decision {
  return { status: 'finishedWithError', message, at };
}

function conditionText(c: JobConditionView): string {
  const reason = c.reason ?? 'Failed';
  return c.message === undefined || c.message === '' ? reason : `${reason}: ${c.message}`;
}

/** The first failed pod's explanation: a terminated container's reason and exit code, or eviction. */
function failedPodStory(pods: readonly PodView[]): string | undefined {
  for (const pod of pods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const t = cs.state?.terminated;
      if (t !== undefined && (t.exitCode ?? 0) !== 0) {
        const head = `${t.reason ?? 'Error'} (exit code ${t.exitCode ?? '?'})`;
        return t.message === undefined || t.message === '' ? head : `${head}: ${t.message.trim()}`;
      }
    }
    if (pod.status?.phase === 'Failed') {
      const reason = pod.status.reason ?? 'Failed';
      const message = pod.status.message;
      return message === undefined || message === '' ? reason : `${reason}: ${message}`;
    }
  }
  return undefined;
}

/** The latest container finish among the pods, for a terminal answer without a Job timestamp. */
function lastFinish(pods: readonly PodView[]): Date | undefined {
  let latest: Date | undefined;
  for (const pod of pods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const d = toDate(cs.state?.terminated?.finishedAt);
      if (d !== undefined && (latest === undefined || d > latest)) latest = d;
    }
  }
  return latest;
}

function pendingPod(
  pod: PodView,
  now: Date,
  limits: StatusLimits,
  started: Stamp | undefined,
): Decision {
  const waiting = (pod.status?.containerStatuses ?? []).find(
    (cs) => cs.state?.waiting !== undefined,
  )?.state?.waiting;
  const created = pod.metadata?.creationTimestamp ?? started;
  if (waiting?.reason !== undefined && waiting.reason !== '') {
    const reason = waiting.reason;
    const detail =
      waiting.message === undefined || waiting.message === '' ? '' : `: ${waiting.message}`;
    if (PERMANENT_WAITING.has(reason)) return finishedWithError(`${reason}${detail}`, now);
    if (RETRYING_WAITING.has(reason)) {
      const since = toDate(created) ?? now;
      const seconds = (now.getTime() - since.getTime()) / 1000;
      if (seconds < limits.pullFailureSeconds) {
        return { status: 'notstarted', message: `${reason}${detail}`, at: created };
      }
      return finishedWithError(
        `${reason} for more than ${limits.pullFailureSeconds} s${detail}`,
        now,
      );
    }
    return { status: 'notstarted', message: reason, at: created };
  }
  const unscheduled = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False',
  );
  if (unscheduled !== undefined) {
    const reason = unscheduled.reason ?? 'Unschedulable';
    const message = unscheduled.message ?? '';
    return {
      status: 'notstarted',
      message: message === '' ? reason : `${reason}: ${message}`,
      at: created,
    };
  }
  return { status: 'notstarted', message: 'pending', at: created };
}

function eventTime(e: EventView): Stamp | undefined {
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
}

function latestFailedCreate(events: readonly EventView[]): EventView | undefined {
  let latest: EventView | undefined;
  for (const e of events) {
    if (e.reason !== 'FailedCreate') continue;
    const t = toDate(eventTime(e))?.getTime() ?? 0;
    const lt = latest === undefined ? -1 : (toDate(eventTime(latest))?.getTime() ?? 0);
    if (t >= lt) latest = e;
  }
  return latest;
}
