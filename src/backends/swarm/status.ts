// fromService(service, tasks): the Swarm view of a job as a JobInfo; the task-state table (pure; api.md §9.2).
import { z } from 'zod';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobInfo, JobStatus } from '../../domain/job.js';
import { isSetTime } from '../shared/engine-time.js';

/**
 * Every task state of the Engine API
 * (https://docs.docker.com/engine/api/v1.41/#operation/TaskList, `Task.Status.State`).
 */
export type TaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned';

/** api.md §9.2. A new upstream state added to TaskState is a compile error until mapped here. */
export const TASK_STATES = {
  new: 'notstarted',
  allocated: 'notstarted',
  pending: 'notstarted',
  assigned: 'notstarted',
  accepted: 'notstarted',
  preparing: 'notstarted',
  ready: 'notstarted',
  starting: 'notstarted',
  running: 'started',
  complete: 'finishedSuccessfully',
  failed: 'finishedWithError',
  shutdown: 'finishedWithError',
  // pman reported `undefined` / `preparing` forever here (missing image, missing bind source).
  rejected: 'finishedWithError',
  remove: 'undefined',
  orphaned: 'undefined',
} as const satisfies Record<TaskState, JobStatus>;

const containerSpecSchema = z.object({
  Image: z.string().default(''),
  Command: z.array(z.string()).default([]),
});

/** One published port, in a service's Endpoint or a task's PortStatus (service jobs, issue 15). */
const portSchema = z.object({
  TargetPort: z.number().optional(),
  PublishedPort: z.number().optional(),
  PublishMode: z.string().optional(),
});
const portsSchema = z.array(portSchema).nullable().optional();

/** The parts of a service inspect we read. */
const serviceSchema = z.object({
  ID: z.string(),
  CreatedAt: z.string().default(''),
  Spec: z.object({
    Name: z.string(),
    Labels: z.record(z.string(), z.string()).default({}),
    TaskTemplate: z
      .object({ ContainerSpec: containerSpecSchema.default({ Image: '', Command: [] }) })
      .default({ ContainerSpec: { Image: '', Command: [] } }),
    /** A port pinned at create (host mode) is here from the start; Endpoint only once allocated. */
    EndpointSpec: z.object({ Ports: portsSchema }).optional(),
    /** Absent replicas count as 1 (the engine's default); a stop scales a service job to 0. */
    Mode: z
      .object({ Replicated: z.object({ Replicas: z.number().optional() }).optional() })
      .optional(),
  }),
  /** The ports the swarm published (ingress mode: here, once the service exists). */
  Endpoint: z.object({ Ports: portsSchema }).optional(),
});

/** The parts of a task we read. */
const taskSchema = z.object({
  ID: z.string().default(''),
  ServiceID: z.string().default(''),
  CreatedAt: z.string().default(''),
  Status: z
    .object({
      Timestamp: z.string().default(''),
      State: z.string().default(''),
      Message: z.string().default(''),
      Err: z.string().default(''),
      ContainerStatus: z.object({ ExitCode: z.number().optional() }).optional(),
      /** Host mode: the node port the task's container got (Docker lists it once per family). */
      PortStatus: z.object({ Ports: portsSchema }).optional(),
    })
    .default({ Timestamp: '', State: '', Message: '', Err: '' }),
});

export type SwarmService = z.infer<typeof serviceSchema>;
export type SwarmTask = z.infer<typeof taskSchema>;

/** Narrows a service inspect answer (unknown from the client library). Throws on a foreign shape. */
export function parseService(raw: unknown): SwarmService {
  return serviceSchema.parse(raw);
}

/** Narrows a task list answer; entries of a foreign shape are an engine fault and throw. */
export function parseTasks(raw: unknown): SwarmTask[] {
  return z.array(taskSchema).parse(raw);
}

/** Swarm pins a tag to its digest (`repo:tag@sha256:…`); the job's image is reported as requested. */
export function requestedImage(image: string): string {
  const at = image.indexOf('@');
  if (at < 0) return image;
  const name = image.slice(0, at);
  const lastComponent = name.slice(name.lastIndexOf('/') + 1);
  // Only a tagged reference got its digest from swarm; a digest-only reference is what was asked.
  return lastComponent.includes(':') ? name : image;
}

/** RFC 3339 timestamps with 0-9 fraction digits, made comparable as strings. */
function sortableTime(ts: string): string {
  const m = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(\D.*)?$/.exec(ts);
  if (m === null) return ts;
  return `${m[1] ?? ''}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}${m[3] ?? ''}`;
}

/** The task that decides the job: the newest by creation time (with restart `none` there is one). */
export function newestTask(tasks: readonly SwarmTask[]): SwarmTask | undefined {
  let newest: SwarmTask | undefined;
  for (const task of tasks) {
    if (newest === undefined || sortableTime(task.CreatedAt) > sortableTime(newest.CreatedAt)) {
      newest = task;
    }
  }
  return newest;
}

export function isTaskState(state: string): state is TaskState {
  return Object.hasOwn(TASK_STATES, state);
}

const OOM_EXIT_CODE = 137;

export function taskMessage(task: SwarmTask, state: string): string {
  const { Err, Message, ContainerStatus } = task.Status;
  const exitCode = ContainerStatus?.ExitCode;
  if (state === 'shutdown' && exitCode === OOM_EXIT_CODE) {
    return 'shutdown by docker swarm (out of memory)';
  }
  const base = Err !== '' ? Err : Message !== '' ? Message : state;
  if (state === 'failed' && exitCode === OOM_EXIT_CODE) return `${base} (killed: out of memory?)`;
  return base;
}

/**
 * The job as Swarm sees it: the newest task decides (api.md §9.2). `message` is the task's
 * `Status.Err` when non-empty, else `Status.Message`. Before any task exists the service's
 * creation time stands in for the timestamp. An unknown future state is reported as
 * `undefined` with the state's text, never guessed.
 */
export function fromService(service: SwarmService, tasks: readonly SwarmTask[]): JobInfo {
  const container = service.Spec.TaskTemplate.ContainerSpec;
  const base = {
    name: service.Spec.Name,
    image: requestedImage(container.Image),
    command: container.Command,
  };
  const task = newestTask(tasks);
  if (task === undefined) {
    return {
      ...base,
      status: 'notstarted',
      message: 'task not available yet',
      timestamp: service.CreatedAt,
    };
  }
  const state = task.Status.State;
  const timestamp = isSetTime(task.Status.Timestamp) ? task.Status.Timestamp : service.CreatedAt;
  if (!isTaskState(state)) {
    return { ...base, status: 'undefined', message: state === '' ? 'unknown' : state, timestamp };
  }
  const status = TASK_STATES[state];
  // A rejected task never had a container, so it has no exit code to report.
  const exitCode = task.Status.ContainerStatus?.ExitCode;
  const final = TERMINAL_STATUSES.has(status) && exitCode !== undefined;
  return {
    ...base,
    status,
    message: taskMessage(task, state),
    timestamp,
    ...(final && { exitCode }),
  };
}

/** Whether the job's status is final: a dead container's task settles the job only then. */
export function isFinal(info: JobInfo): boolean {
  return TERMINAL_STATUSES.has(info.status);
}

/**
 * Whether a status read earlier may still answer: pending → rejected and similar task transitions
 * raise no event, so notstarted and undefined are always read from the engine.
 */
export function answerableFromView(info: JobInfo): boolean {
  return info.status !== 'notstarted' && info.status !== 'undefined';
}
