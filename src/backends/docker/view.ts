// What the docker backend tells the shared event-fed view (WatchedJobs) about its engine: which
// container events change a job, how to read one container or all of ours, and its logs.
import type { JobInfo, LogLimits } from '../../domain/job.js';
import type { EngineEvent } from '../shared/events.js';
import type { EventVerdict, JobSource } from '../shared/watched-jobs.js';
import type { Containers } from './containers.js';
import { fromContainer, hasStarted, isFinal } from './status.js';
import type { ContainerView, StatusOptions } from './status.js';

/** Container events that can change a job's status ("destroy" is handled apart; exec, attach,
 *  resize, health and copy events cannot). Podman also raises "cleanup" once an exited container
 *  is settled, and says "remove" where Docker says "destroy". */
const STATE_EVENTS = new Set([
  'cleanup',
  'create',
  'start',
  'restart',
  'die',
  'oom',
  'pause',
  'unpause',
  'rename',
  'update',
]);

export class ContainerJobs implements JobSource<ContainerView> {
  readonly filters: { type: string[]; label: string[] };
  readonly #containers: Containers;
  readonly #status: StatusOptions;

  /** `status`: how service containers are read (SERVICE_BIND_IP, Podman's exits). */
  constructor(containers: Containers, status: StatusOptions = {}) {
    this.#containers = containers;
    this.#status = status;
    this.filters = { type: ['container'], label: [containers.managedFilter] };
  }

  /** Every container event of ours names its job; every state change raises one. */
  classify(event: EngineEvent): EventVerdict | undefined {
    const name = event.attributes.name;
    if (name === undefined) return undefined;
    if (event.action === 'destroy' || event.action === 'remove') return { name, change: 'gone' };
    return STATE_EVENTS.has(event.action) ? { name, change: 'changed' } : undefined;
  }

  fetch(name: string): Promise<ContainerView> {
    return this.#containers.ours(name);
  }

  /** One list call; only containers whose state differs from the view's are inspected again. */
  async fetchAll(
    known: (name: string) => ContainerView | undefined,
  ): Promise<Map<string, ContainerView>> {
    const entries = new Map<string, ContainerView>();
    const changed: string[] = [];
    for (const { name, state } of await this.#containers.list()) {
      const seen = known(name);
      if (seen !== undefined && seen.State.Status === state) entries.set(name, seen);
      else changed.push(name);
    }
    const { found, unread } = await this.#containers.inspectMany(changed);
    for (const [name, c] of found) entries.set(name, c);
    // A container the engine cannot describe keeps its last known view, if any (none: left out
    // until it answers; list() reports it by itself).
    for (const { name } of unread) {
      const seen = known(name);
      if (seen !== undefined) entries.set(name, seen);
    }
    return entries;
  }

  info(c: ContainerView): JobInfo {
    return fromContainer(c, this.#status);
  }

  /** Every change of a container raises an event, so any settled entry may answer. */
  answerable(): boolean {
    return true;
  }

  isFinal(c: ContainerView): boolean {
    return isFinal(c, this.#status);
  }

  hasLogs(c: ContainerView): boolean {
    return hasStarted(c);
  }

  readLogs(name: string, _c: ContainerView, limits: LogLimits): Promise<string> {
    return this.#containers.readLogTail(name, limits);
  }

  ping(): Promise<void> {
    return this.#containers.ping();
  }
}
