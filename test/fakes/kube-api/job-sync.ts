// The Job controller's later syncs (kubernetes.md §8.6): counting finished pods into the status and
// the terminal conditions, and killing active pods at the deadline or past backoffLimit.

import { apiTime } from './clock.js';
import type { JobObjects } from './job-objects.js';
import type { FollowUp, Run } from './scenarios.js';
import type { Job } from './types.js';

/** activeDeadlineSeconds passed: FailureTarget now (1.31+; Failed before), pods killed in the next step. */
export function deadline(k: JobObjects, job: Job, run: Run): void {
  const reason = 'DeadlineExceeded';
  const message = 'Job was active longer than specified deadline';
  killActive(k, job, run, reason, message);
  k.event(job, 'Warning', reason, message);
}

function killActive(k: JobObjects, job: Job, run: Run, reason: string, message: string): void {
  const now = k.now();
  const active = k.active(job);
  for (const pod of active) {
    pod.metadata.deletionTimestamp = apiTime(new Date(now.getTime() + 30_000));
    pod.metadata.deletionGracePeriodSeconds = 30;
    k.savePod(pod);
  }
  const before31 = k.o.minor < 31;
  k.saveJob(job, {
    ...job.status,
    conditions: k.conditions(
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

export function followUp(k: JobObjects, job: Job, run: Run, f: FollowUp): void {
  if (f.kind === 'kill') killed(k, job, f);
  else count(k, job, run);
}

/** The killed pods are gone: counted as failed, and the terminal Failed condition appears. */
function killed(k: JobObjects, job: Job, f: Extract<FollowUp, { kind: 'kill' }>): void {
  const doomed = k.pods(job).filter((p) => p.metadata.deletionTimestamp);
  for (const p of doomed) k.removePod(p);
  k.saveJob(job, {
    ...job.status,
    conditions: k.conditions(job, 'FailureTarget', 'Failed', f.reason, f.message),
    failed: (job.status.failed ?? 0) + doomed.length,
    terminating: 0,
  });
}

/** The uncounted window closes; counters and (maybe) terminal conditions appear together. */
function count(k: JobObjects, job: Job, run: Run): void {
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
    if (k.active(job).length > 0) {
      k.saveJob(counted, counted.status);
      const current = k.job(job.metadata.namespace ?? '', job.metadata.name ?? '') ?? counted;
      killActive(k, current, run, 'BackoffLimitExceeded', message);
      return;
    }
    k.saveJob(counted, {
      ...counted.status,
      conditions: k.conditions(job, 'FailureTarget', 'Failed', 'BackoffLimitExceeded', message),
    });
    k.event(job, 'Warning', 'BackoffLimitExceeded', message);
    return;
  }
  if (succeeded >= completions) {
    const message = 'Reached expected number of succeeded pods';
    k.saveJob(counted, {
      ...counted.status,
      conditions: k.conditions(
        job,
        'SuccessCriteriaMet',
        'Complete',
        'CompletionsReached',
        message,
      ),
      completionTime: apiTime(k.now()),
    });
    k.event(job, 'Normal', 'Completed', 'Job completed');
    return;
  }
  k.saveJob(counted, counted.status);
  // Failures within backoffLimit, or completions still missing: the scenario replays for new pods.
  if (k.active(job).length === 0) run.next = 0;
}
