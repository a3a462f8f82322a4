// fromJob: the decision list of kubernetes.md §3, table-driven from the wire shapes of §8.6.
import { describe, expect, it } from 'vitest';
import { formatStamp, fromJob, needsEvents } from '../../src/backends/kubernetes/status.js';
import type { EventView, JobView, PodView } from '../../src/backends/kubernetes/status.js';

const T0 = '2026-11-22T14:16:00Z';
const T1 = '2026-11-22T14:16:05Z';
const T2 = '2026-11-22T14:16:57Z';
const limits = { pullFailureSeconds: 300, admissionFailureSeconds: 60 };
const at = (iso: string, plusSeconds = 0) => new Date(new Date(iso).getTime() + plusSeconds * 1000);

function job(
  status: JobView['status'],
  extra: { completions?: number; backoffLimit?: number } = {},
): JobView {
  return {
    metadata: { name: 'chris-jid-42', creationTimestamp: T0 },
    spec: {
      completions: extra.completions ?? 1,
      backoffLimit: extra.backoffLimit ?? 0,
      template: { spec: { containers: [{ image: 'busybox', command: ['sh', '-c', 'true'] }] } },
    },
    status,
  };
}

const activeStatus = {
  active: 1,
  ready: 0,
  terminating: 0,
  startTime: T0,
  uncountedTerminatedPods: {},
};

function pod(status: PodView['status'], name = 'chris-jid-42-bcdfg', created = T0): PodView {
  return { metadata: { name, creationTimestamp: created }, status };
}

const waiting = (reason: string, message?: string): PodView =>
  pod({
    phase: 'Pending',
    containerStatuses: [
      {
        name: 'chris-jid-42',
        state: { waiting: { reason, ...(message !== undefined && { message }) } },
      },
    ],
  });
const running = pod({
  phase: 'Running',
  containerStatuses: [{ name: 'chris-jid-42', state: { running: { startedAt: T1 } } }],
});
const terminated = (exitCode: number, reason: string, phase: string, message?: string): PodView =>
  pod({
    phase,
    containerStatuses: [
      {
        name: 'chris-jid-42',
        state: {
          terminated: {
            exitCode,
            reason,
            finishedAt: T2,
            ...(message !== undefined && { message }),
          },
        },
      },
    ],
  });
const cond = (type: string, reason: string, message = '') => ({
  type,
  status: 'True',
  reason,
  message,
  lastProbeTime: T2,
  lastTransitionTime: T2,
});
const failedCreate = (message: string): EventView => ({
  reason: 'FailedCreate',
  type: 'Warning',
  message,
  count: 3,
  firstTimestamp: T0,
  lastTimestamp: T1,
});

interface Row {
  name: string;
  job: JobView;
  pods?: PodView[];
  events?: EventView[];
  now?: Date;
  status: string;
  message: string | RegExp;
  timestamp?: string;
}

const rows: Row[] = [
  {
    name: 'brand-new Job, status {}: notstarted / job created (pman read it as started)',
    job: job({}),
    status: 'notstarted',
    message: 'job created',
    timestamp: T0,
  },
  {
    name: 'pod created, not scheduled yet',
    job: job(activeStatus),
    pods: [pod({ phase: 'Pending' })],
    status: 'notstarted',
    message: 'pending',
  },
  {
    name: 'Unschedulable: notstarted with the scheduler message (no give-up)',
    job: job(activeStatus),
    pods: [
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
          },
        ],
      }),
    ],
    now: at(T0, 7 * 86400),
    status: 'notstarted',
    message: 'Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
  },
  {
    name: 'ContainerCreating: notstarted / the reason',
    job: job(activeStatus),
    pods: [waiting('ContainerCreating')],
    status: 'notstarted',
    message: 'ContainerCreating',
  },
  {
    name: 'ImagePullBackOff before pullFailureSeconds: notstarted with reason and message',
    job: job(activeStatus),
    pods: [waiting('ImagePullBackOff', 'Back-off pulling image "x"')],
    now: at(T0, 299),
    status: 'notstarted',
    message: 'ImagePullBackOff: Back-off pulling image "x"',
  },
  {
    name: 'ImagePullBackOff after pullFailureSeconds: finishedWithError',
    job: job(activeStatus),
    pods: [waiting('ImagePullBackOff', 'Back-off pulling image "x"')],
    now: at(T0, 300),
    status: 'finishedWithError',
    message: 'ImagePullBackOff for more than 300 s: Back-off pulling image "x"',
  },
  {
    name: 'ErrImagePull after pullFailureSeconds: finishedWithError',
    job: job(activeStatus),
    pods: [waiting('ErrImagePull')],
    now: at(T0, 301),
    status: 'finishedWithError',
    message: 'ErrImagePull for more than 300 s',
  },
  {
    name: 'InvalidImageName: finishedWithError at once',
    job: job(activeStatus),
    pods: [waiting('InvalidImageName', 'Failed to apply default image tag "Bad:image"')],
    now: at(T0, 1),
    status: 'finishedWithError',
    message: 'InvalidImageName: Failed to apply default image tag "Bad:image"',
  },
  {
    name: 'CreateContainerConfigError: finishedWithError at once',
    job: job(activeStatus),
    pods: [
      waiting(
        'CreateContainerConfigError',
        'container has runAsNonRoot and image will run as root',
      ),
    ],
    status: 'finishedWithError',
    message: 'CreateContainerConfigError: container has runAsNonRoot and image will run as root',
  },
  {
    name: 'running: started / running with the container start time',
    job: job({ ...activeStatus, ready: 1 }),
    pods: [running],
    status: 'started',
    message: 'running',
    timestamp: T1,
  },
  {
    name: '#225: pod finished, not yet counted (uncountedTerminatedPods) → finishedSuccessfully',
    job: job({
      ready: 0,
      terminating: 0,
      startTime: T0,
      uncountedTerminatedPods: { succeeded: ['8e3c0f6a-uid'] },
    }),
    pods: [terminated(0, 'Completed', 'Succeeded')],
    status: 'finishedSuccessfully',
    message: 'finished',
    timestamp: T2,
  },
  {
    name: '#225: succeeded counted before completionTime → finishedSuccessfully, not undefined',
    job: job({
      succeeded: 1,
      ready: 0,
      terminating: 0,
      startTime: T0,
      uncountedTerminatedPods: {},
    }),
    pods: [terminated(0, 'Completed', 'Succeeded')],
    status: 'finishedSuccessfully',
    message: 'finished',
  },
  {
    name: 'success: Complete condition and completionTime',
    job: job({
      succeeded: 1,
      ready: 0,
      terminating: 0,
      startTime: T0,
      completionTime: T2,
      uncountedTerminatedPods: {},
      conditions: [
        cond('SuccessCriteriaMet', 'CompletionsReached'),
        cond('Complete', 'CompletionsReached'),
      ],
    }),
    pods: [terminated(0, 'Completed', 'Succeeded')],
    status: 'finishedSuccessfully',
    message: 'finished',
    timestamp: T2,
  },
  {
    name: 'server ≥ 1.31 interim SuccessCriteriaMet alone is already success',
    job: job({ ...activeStatus, conditions: [cond('SuccessCriteriaMet', 'CompletionsReached')] }),
    pods: [terminated(0, 'Completed', 'Succeeded')],
    status: 'finishedSuccessfully',
    message: 'finished',
  },
  {
    name: 'failure: exit 1 → the pod story, not the condition text',
    job: job({
      failed: 1,
      ready: 0,
      terminating: 0,
      startTime: T0,
      uncountedTerminatedPods: {},
      conditions: [
        cond(
          'FailureTarget',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
        ),
        cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
      ],
    }),
    pods: [terminated(1, 'Error', 'Failed')],
    status: 'finishedWithError',
    message: 'Error (exit code 1)',
    timestamp: T2,
  },
  {
    name: 'OOMKilled (exit code 137), the reason exists only on the pod',
    job: job({ ...activeStatus, conditions: [cond('FailureTarget', 'BackoffLimitExceeded')] }),
    pods: [terminated(137, 'OOMKilled', 'Failed')],
    status: 'finishedWithError',
    message: 'OOMKilled (exit code 137)',
  },
  {
    name: 'StartError carries the termination message',
    job: job({ ...activeStatus, conditions: [cond('Failed', 'BackoffLimitExceeded')] }),
    pods: [
      terminated(128, 'StartError', 'Failed', 'exec: "foo": executable file not found in $PATH'),
    ],
    status: 'finishedWithError',
    message: 'StartError (exit code 128): exec: "foo": executable file not found in $PATH',
  },
  {
    name: 'failure without pod information → the condition reason and message',
    job: job({
      failed: 1,
      conditions: [
        cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
      ],
    }),
    status: 'finishedWithError',
    message: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
  },
  {
    name: 'pre-1.31: failed counter without conditions → finishedWithError',
    job: job({ failed: 1, ready: 0, terminating: 0, startTime: T0, uncountedTerminatedPods: {} }),
    pods: [terminated(3, 'Error', 'Failed')],
    status: 'finishedWithError',
    message: 'Error (exit code 3)',
  },
  {
    name: 'uncounted failed pod → finishedWithError',
    job: job({ ready: 0, startTime: T0, uncountedTerminatedPods: { failed: ['uid'] } }),
    pods: [terminated(2, 'Error', 'Failed')],
    status: 'finishedWithError',
    message: 'Error (exit code 2)',
  },
  {
    name: 'pod failed while the Job status lags → finishedWithError',
    job: job(activeStatus),
    pods: [terminated(5, 'Error', 'Failed')],
    status: 'finishedWithError',
    message: 'Error (exit code 5)',
  },
  {
    name: 'eviction → Evicted: the pod message',
    job: job({ ...activeStatus, conditions: [cond('FailureTarget', 'PodFailurePolicy')] }),
    pods: [
      pod({
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory.',
      }),
    ],
    status: 'finishedWithError',
    message: 'Evicted: The node was low on resource: memory.',
  },
  {
    name: 'deadline → DeadlineExceeded with the condition message',
    job: job({
      ...activeStatus,
      terminating: 1,
      conditions: [
        cond('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
      ],
    }),
    pods: [running],
    status: 'finishedWithError',
    message: 'DeadlineExceeded: Job was active longer than specified deadline',
    timestamp: T2,
  },
  {
    name: 'FailedCreate before admissionFailureSeconds → notstarted',
    job: job({}),
    events: [failedCreate('Error creating: pods "chris-jid-42-" is forbidden: unable to validate')],
    now: at(T0, 59),
    status: 'notstarted',
    message: 'FailedCreate: Error creating: pods "chris-jid-42-" is forbidden: unable to validate',
  },
  {
    name: 'FailedCreate after admissionFailureSeconds → finishedWithError with the latest message',
    job: job({}),
    events: [
      { ...failedCreate('older'), lastTimestamp: T0 },
      failedCreate('Error creating: pods "chris-jid-42-" is forbidden: quota'),
    ],
    now: at(T0, 60),
    status: 'finishedWithError',
    message: 'FailedCreate: Error creating: pods "chris-jid-42-" is forbidden: quota',
  },
  {
    name: 'several workers: one running, one pending → started',
    job: job({ active: 2, startTime: T0 }, { completions: 2 }),
    pods: [waiting('ContainerCreating'), running],
    status: 'started',
    message: 'running',
  },
  {
    name: 'several workers: one succeeded of two is not success yet',
    job: job({ succeeded: 1, active: 1, startTime: T0 }, { completions: 2 }),
    pods: [terminated(0, 'Completed', 'Succeeded'), running],
    status: 'started',
    message: 'running',
  },
  {
    name: 'several workers: all succeeded (pods ahead of counters) → finishedSuccessfully',
    job: job({ active: 2, startTime: T0 }, { completions: 2 }),
    pods: [
      terminated(0, 'Completed', 'Succeeded'),
      {
        ...terminated(0, 'Completed', 'Succeeded'),
        metadata: { name: 'b', creationTimestamp: T0 },
      },
    ],
    status: 'finishedSuccessfully',
    message: 'finished',
  },
];

describe('fromJob', () => {
  for (const row of rows) {
    it(row.name, () => {
      const info = fromJob(
        row.job,
        row.pods ?? [],
        row.events ?? [],
        row.now ?? at(T0, 10),
        limits,
      );
      expect(info.status).toBe(row.status);
      if (typeof row.message === 'string') expect(info.message).toBe(row.message);
      else expect(info.message).toMatch(row.message);
      if (row.timestamp !== undefined) expect(info.timestamp).toBe(row.timestamp);
      expect(info.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(info).toMatchObject({
        name: 'chris-jid-42',
        image: 'busybox',
        command: ['sh', '-c', 'true'],
      });
    });
  }

  it('never answers undefined, whatever the mix of fixtures', () => {
    for (const row of rows) {
      for (const pods of [[], row.pods ?? []]) {
        expect(fromJob(row.job, pods, row.events ?? [], at(T0, 1000), limits).status).not.toBe(
          'undefined',
        );
      }
    }
  });

  it('accepts client-node Date objects as well as wire strings', () => {
    const j = job({ succeeded: 1, completionTime: new Date(T2), conditions: [] });
    expect(fromJob(j, [], [], new Date(T2), limits).timestamp).toBe(T2);
  });
});

describe('needsEvents', () => {
  const cond = (type: string, status = 'True') => ({ type, status, lastTransitionTime: T2 });

  it('only a Job without pods and without a terminal condition needs its events (rule 7)', () => {
    expect(needsEvents(job({}), [])).toBe(true);
    expect(needsEvents(job(activeStatus), [running])).toBe(false);
    for (const type of ['Complete', 'Failed', 'SuccessCriteriaMet', 'FailureTarget']) {
      expect(needsEvents(job({ conditions: [cond(type)] }), [])).toBe(false);
    }
    expect(needsEvents(job({ conditions: [cond('Failed', 'False')] }), [])).toBe(true);
    expect(needsEvents(job({ conditions: [cond('Suspended')] }), [])).toBe(true);
  });
});

describe('formatStamp', () => {
  it('writes second precision without milliseconds', () => {
    expect(formatStamp(new Date('2026-11-22T14:16:57.000Z'), new Date())).toBe(
      '2026-11-22T14:16:57Z',
    );
    expect(formatStamp('2026-11-22T14:16:57Z', new Date())).toBe('2026-11-22T14:16:57Z');
  });
});

describe('fromJob: exitCode (issue 11)', () => {
  const now = at(T2, 1);
  const second = (exitCode: number): PodView => ({
    ...terminated(exitCode, 'Error', 'Failed'),
    metadata: { name: 'chris-jid-42-later', creationTimestamp: T1 },
  });

  it('a success is 0', () => {
    const done = job({ succeeded: 1, completionTime: T2, conditions: [cond('Complete', 'x')] });
    expect(fromJob(done, [terminated(0, 'Completed', 'Succeeded')], [], now, limits).exitCode).toBe(
      0,
    );
    // Pods already cleaned up: still a success.
    expect(fromJob(done, [], [], now, limits).exitCode).toBe(0);
  });

  it("a failure is the first failing worker's code, in pod creation order", () => {
    const failed = job({ failed: 2, conditions: [cond('Failed', 'BackoffLimitExceeded')] });
    // terminated() pods were created at T0, the other one at T1: the T0 one fails first.
    const info = fromJob(failed, [second(7), terminated(3, 'Error', 'Failed')], [], now, limits);
    expect(info).toMatchObject({ status: 'finishedWithError', exitCode: 3 });
    expect(fromJob(failed, [second(7)], [], now, limits).exitCode).toBe(7);
  });

  it('a failure no container exited for (deadline) and a running job have none', () => {
    const deadline = job({ failed: 0, conditions: [cond('Failed', 'DeadlineExceeded', 'late')] });
    expect(fromJob(deadline, [], [], now, limits)).not.toHaveProperty('exitCode');
    expect(fromJob(job(activeStatus), [running], [], now, limits)).not.toHaveProperty('exitCode');
  });
});
