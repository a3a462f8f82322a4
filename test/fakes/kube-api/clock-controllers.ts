// What moving the fake clock triggers: the TTL controller and activeDeadlineSeconds.

import { deadline } from './job-sync.js';
import { isFinished, type JobObjects } from './job-objects.js';
import { JOBS } from './resources.js';
import type { Run } from './scenarios.js';
import type { Job } from './types.js';

/** TTL-expired finished Jobs go (with their pods, through `deleteJob`); active Jobs past their deadline fail. */
export function onClockMove(
  k: JobObjects,
  runOf: (job: Job) => Run,
  deleteJob: (job: Job) => void,
): void {
  const now = k.now().getTime();
  for (const job of k.o.store.list(JOBS, undefined) as Job[]) {
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
      deadline(k, job, runOf(job));
    }
  }
}
