// What the swarm backend tells the shared event-fed view (WatchedJobs) about its engine: which
// service and task-container events change a job, how to read one service (with its tasks) or all
// of ours, and its logs.
import type { JobInfo, LogLimits } from '../../domain/job.js';
import type { EngineEvent } from '../shared/events.js';
import type { EventVerdict, JobSource } from '../shared/watched-jobs.js';
import type { Services } from './services.js';
import { jobInfoOf, restartedBySwarm } from './service-status.js';
import type { SwarmService, SwarmTask } from './status.js';
import { answerableFromView, isFinal, newestTask } from './status.js';

/** What the view keeps per service: its id (for logs) and the job as last read. */
export interface SwarmEntry {
  serviceId: string;
  info: JobInfo;
  /** A service job the swarm keeps restarting (issue 15): a task's death is not its end. */
  restarting: boolean;
  /** Such a job with no task running now (a crash, then its replacement starting). */
  between: boolean;
}

/** The view's entry of one service read with its tasks; `bindIp` is SERVICE_BIND_IP. */
export function entryOf(
  service: SwarmService,
  tasks: readonly SwarmTask[],
  bindIp: string,
): SwarmEntry {
  const restarting = restartedBySwarm(service);
  return {
    serviceId: service.ID,
    info: jobInfoOf(service, tasks, bindIp),
    restarting,
    between: restarting && newestTask(tasks)?.Status.State !== 'running',
  };
}

/**
 * Whether the view may answer for the job. Not while a service job is between two tasks: the
 * replacement's container start is seen before the manager lists its task running, and nothing
 * follows, so the view would say `restarting` until its next resync.
 */
export function answerableEntry(entry: SwarmEntry): boolean {
  return answerableFromView(entry.info) && !entry.between;
}

/** The container label swarm puts on a task's container: which service it belongs to. */
const SERVICE_NAME_LABEL = 'com.docker.swarm.service.name';

export class ServiceJobs implements JobSource<SwarmEntry> {
  // Service events carry only the service name, and task containers carry swarm's labels, not
  // ours: both are filtered by the names the view holds instead.
  readonly filters = { type: ['service', 'container'] };
  readonly #services: Services;
  readonly #bindIp: string;

  constructor(services: Services, bindIp: string) {
    this.#services = services;
    this.#bindIp = bindIp;
  }

  /**
   * Only services the view already holds (a new one of ours is added by create or a resync). A
   * task's status moves with its container's start and death; a service update (a forced
   * re-deploy) replaces its task. Other events (create, attach, exec, …) change nothing.
   */
  classify(event: EngineEvent, held: (name: string) => boolean): EventVerdict | undefined {
    const service = event.type === 'service';
    const name = service ? event.attributes.name : event.attributes[SERVICE_NAME_LABEL];
    if (name === undefined || !held(name)) return undefined;
    if (service) {
      if (event.action === 'remove') return { name, change: 'gone' };
      return event.action === 'update' ? { name, change: 'changed' } : undefined;
    }
    if (event.action === 'start') return { name, change: 'changed' };
    // The manager may list a dead container's task as running for a moment.
    return event.action === 'die' || event.action === 'oom'
      ? { name, change: 'ending' }
      : undefined;
  }

  async fetch(name: string): Promise<SwarmEntry> {
    const service = await this.#services.inspect(name);
    const tasks = await this.#services.tasks([service.ID], name);
    return entryOf(service, tasks, this.#bindIp);
  }

  async fetchAll(): Promise<Map<string, SwarmEntry>> {
    const { services, byService } = await this.#services.readAll();
    const entries = new Map<string, SwarmEntry>();
    for (const s of services) {
      entries.set(s.Spec.Name, entryOf(s, byService.get(s.ID) ?? [], this.#bindIp));
    }
    return entries;
  }

  info(entry: SwarmEntry): JobInfo {
    return entry.info;
  }

  answerable(entry: SwarmEntry): boolean {
    return answerableEntry(entry);
  }

  /**
   * A batch job settles on a final read only (the manager may list a dead container's task as
   * running for a moment). A service job the swarm restarts settles on any read: its task's death
   * is never its end, and waiting for a "final" read would keep it out of the view for good.
   */
  isFinal(entry: SwarmEntry): boolean {
    return isFinal(entry.info) || entry.restarting;
  }

  /** A task that ran has logs; one that never started has an empty log, read all the same. */
  hasLogs(): boolean {
    return true;
  }

  readLogs(name: string, entry: SwarmEntry, limits: LogLimits): Promise<string> {
    return this.#services.readLogTail(name, entry.serviceId, limits);
  }

  ping(): Promise<void> {
    return this.#services.ping();
  }
}
