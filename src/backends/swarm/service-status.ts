// jobInfoOf(service, tasks): the Swarm view of any job of ours. A batch job is its one task
// (status.ts, api.md §9.2); a service job (issue 15) is the service the swarm keeps restarting: a
// task's end is never the job's end, only a stop (scale to 0) is. Pure.
import type { JobInfo, ServiceView } from '../../domain/job.js';
import { DEFAULT_SERVICE_BIND_IP, endpointFor, servicePortOf } from '../shared/service-settings.js';
import { isSetTime } from '../shared/engine-time.js';
import {
  TASK_STATES,
  fromService,
  isTaskState,
  newestTask,
  requestedImage,
  taskMessage,
} from './status.js';
import type { SwarmService, SwarmTask } from './status.js';

/** Task states of a task that ended by itself: the swarm restarts the service job after each. */
const ENDED_BY_ITSELF: ReadonlySet<string> = new Set(['failed', 'rejected', 'complete']);

/** Task states of a task that may still run (or is about to). */
const LIVE: ReadonlySet<string> = new Set(
  Object.entries(TASK_STATES)
    .filter(([, status]) => status === 'notstarted' || status === 'started')
    .map(([state]) => state),
);

/** The job as reported on every read; `bindIp` is SERVICE_BIND_IP (a service job's endpoint). */
export function jobInfoOf(
  service: SwarmService,
  tasks: readonly SwarmTask[],
  bindIp: string = DEFAULT_SERVICE_BIND_IP,
): JobInfo {
  const port = servicePortOf(service.Spec.Labels);
  if (port === undefined) return fromService(service, tasks);
  return serviceJobInfo(service, tasks, port, bindIp);
}

/** How many replicas the service asks for (absent: the engine's default, 1). */
export function replicasOf(service: SwarmService): number {
  return service.Spec.Mode?.Replicated?.Replicas ?? 1;
}

/**
 * Whether the swarm keeps restarting this job: a service job not scaled to 0. Any read of it is
 * settled: a task's death is not its end, so the view need not wait for a final read.
 */
export function restartedBySwarm(service: SwarmService): boolean {
  return servicePortOf(service.Spec.Labels) !== undefined && replicasOf(service) > 0;
}

function serviceJobInfo(
  service: SwarmService,
  tasks: readonly SwarmTask[],
  port: number,
  bindIp: string,
): JobInfo {
  const container = service.Spec.TaskTemplate.ContainerSpec;
  const restarts = tasks.filter((t) => ENDED_BY_ITSELF.has(t.Status.State)).length;
  const endpoint = endpointOf(service, tasks, port, bindIp);
  const view: ServiceView = { restarts, ...(endpoint !== undefined && { endpoint }) };
  const task = newestTask(tasks);
  const timestamp =
    task !== undefined && isSetTime(task.Status.Timestamp)
      ? task.Status.Timestamp
      : service.CreatedAt;
  const base = {
    name: service.Spec.Name,
    image: requestedImage(container.Image),
    command: container.Command,
    timestamp,
    service: view,
  };
  const live = tasks.some((t) => LIVE.has(t.Status.State));
  if (replicasOf(service) === 0) {
    // Stopped (Port stop, or scaled down from outside): over once no task may run any more.
    if (live) return { ...base, status: 'started', message: 'stopping' };
    const exitCode = task?.Status.ContainerStatus?.ExitCode;
    return {
      ...base,
      status: 'finishedWithError',
      message: 'stopped',
      ...(exitCode !== undefined && { exitCode }),
    };
  }
  if (task === undefined)
    return { ...base, status: 'notstarted', message: 'task not available yet' };
  const state = task.Status.State;
  if (!isTaskState(state) || TASK_STATES[state] === 'undefined') {
    return { ...base, status: 'undefined', message: state === '' ? 'unknown' : state };
  }
  const counted = restarts === 1 ? '1 restart' : `${restarts} restarts`;
  // As on Docker: `running`, however often it was restarted before (info.service counts them).
  if (state === 'running') return { ...base, status: 'started', message: 'running' };
  // Before its first run (pulling, pending) the task's own words say why it waits.
  if (restarts === 0 && LIVE.has(state)) {
    return { ...base, status: 'notstarted', message: taskMessage(task, state) };
  }
  // Ended (or its replacement waits out the restart delay): the swarm runs it again.
  const why = lastEnd(tasks);
  return {
    ...base,
    status: 'started',
    message: why === undefined ? 'restarting' : `restarting after ${why} (${counted})`,
  };
}

/** What ended the newest task that ended by itself: its exit code, else the engine's words. */
function lastEnd(tasks: readonly SwarmTask[]): string | undefined {
  const ended = newestTask(tasks.filter((t) => ENDED_BY_ITSELF.has(t.Status.State)));
  if (ended === undefined) return undefined;
  const exitCode = ended.Status.ContainerStatus?.ExitCode;
  if (ended.Status.State !== 'rejected' && exitCode !== undefined) return `exit code ${exitCode}`;
  return taskMessage(ended, ended.Status.State);
}

/**
 * `http://<SERVICE_BIND_IP>:<port>` once the swarm published the port (it publishes on every node
 * address, so the host part is ours to say): the port pinned in the spec at create (host mode),
 * else the service's Endpoint once the swarm allocated it (ingress), else the running task's
 * PortStatus (a port the swarm picked for that task only).
 */
function endpointOf(
  service: SwarmService,
  tasks: readonly SwarmTask[],
  port: number,
  bindIp: string,
): string | undefined {
  const fixed =
    published(service.Spec.EndpointSpec?.Ports, port) ?? published(service.Endpoint?.Ports, port);
  if (fixed !== undefined) return endpointFor('', fixed, bindIp);
  for (const task of tasks) {
    if (task.Status.State !== 'running') continue;
    const own = published(task.Status.PortStatus?.Ports, port);
    if (own !== undefined) return endpointFor('', own, bindIp);
  }
  return undefined;
}

function published(
  ports: readonly { TargetPort?: number; PublishedPort?: number }[] | null | undefined,
  port: number,
): number | undefined {
  return ports?.find((p) => p.TargetPort === port && (p.PublishedPort ?? 0) > 0)?.PublishedPort;
}
