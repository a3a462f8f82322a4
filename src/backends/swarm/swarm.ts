// SwarmBackend (CONTAINER_ENV=swarm): one replicated service per job, its tasks give the status.
import type Docker from 'dockerode';
import type {
  Backend,
  BackendDeps,
  Capabilities,
  JobNameRule,
  JobRead,
  ReadOptions,
} from '../backend.js';
import type { SwarmBackendConfig } from '../../config/config.js';
import { NotFoundError } from '../../domain/errors.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../shared/labels.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import { collectTail } from '../../domain/logs.js';
import { createDockerClient, engineCall, type ErrorContext } from '../shared/engine-client.js';
import { Refresher, watchEvents } from '../shared/events.js';
import type { EngineEvent, EventWatch } from '../shared/events.js';
import { LogsCache } from '../shared/log-cache.js';
import { JobView } from '../shared/job-cache.js';
import type { Ticket } from '../shared/job-cache.js';
import { assertSwarmManager, largestReadyNode } from './capacity.js';
import { toServiceSpec } from './manifest.js';
import type { SwarmServiceSpec } from './manifest.js';
import { openServiceLogs } from './service-logs.js';
import { fromService, parseService, parseTasks } from './status.js';
import type { SwarmService, SwarmTask } from './status.js';

/** swarmkit's rule for service names: "valid as a DNS name component" (api.md §5.3). */
export const SWARM_JOB_NAME: JobNameRule = {
  // Linear: no nested quantifiers (the old (?:[-_]*[A-Za-z0-9]+)* backtracked exponentially).
  pattern: /^[A-Za-z0-9](?:[-_A-Za-z0-9]*[A-Za-z0-9])?$/,
  maxLength: 63,
  rule: "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
};

const GPU_UNAVAILABLE =
  'this swarm backend has no GPU resource configured (set SWARM_GPU_RESOURCE)';

/** How many service ids go into one task-list filter (keeps the query string short). */
const TASK_FILTER_CHUNK = 50;

const MANAGED_FILTER = `${DOCKER_MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** Full re-read of services and tasks; also catches task transitions that raise no event. */
const RESYNC_MS = 30_000;
/** Log tails of running jobs are reused this long (CUBE polls every few seconds). */
const LOGS_TTL_MS = 1_000;
/** The container label swarm puts on a task's container: which service it belongs to. */
const SERVICE_NAME_LABEL = 'com.docker.swarm.service.name';
/** After a task's container dies the manager may still list the task as running for a moment. */
const SETTLE_RETRY_MS = 200;
const SETTLE_TRIES = 25;

/** What the job view keeps per service: its id (for logs) and the job as last read. */
interface SwarmEntry {
  serviceId: string;
  info: JobInfo;
}

/** Connects, checks that the engine is an active swarm manager, and reads the node capacity. */
export async function createSwarmBackend(
  cfg: SwarmBackendConfig,
  deps: BackendDeps,
): Promise<Backend> {
  const docker = await createDockerClient(cfg.engine);
  const call = <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    engineCall(deps.timeoutMs, {}, fn);
  await call(() => docker.ping());
  const info: unknown = await call(() => docker.info());
  assertSwarmManager(info);
  const nodes: unknown = await call((signal) => docker.listNodes({ abortSignal: signal }));
  const capacity = largestReadyNode(nodes);
  const capabilities: Capabilities = {
    maxWorkers: 1,
    gpus: cfg.gpuResource !== undefined,
    ...(cfg.gpuResource === undefined && { gpuUnavailableReason: GPU_UNAVAILABLE }),
    maxCpuMillicores: capacity.maxCpuMillicores,
    maxMemoryMiB: capacity.maxMemoryMiB,
    runAsUser: true,
    mountKinds: ['host'],
    jobName: SWARM_JOB_NAME,
  };
  const backend = new SwarmBackend(docker, cfg, deps, capabilities);
  backend.watch();
  return backend;
}

export class SwarmBackend implements Backend {
  readonly name = 'swarm';
  readonly capabilities: Capabilities;
  private readonly docker: Docker;
  private readonly cfg: SwarmBackendConfig;
  private readonly deps: BackendDeps;
  /** Our services as the engine last reported them; answers status GETs while fresh. */
  private readonly view = new JobView<SwarmEntry>({ maxAgeMs: 2 * RESYNC_MS });
  private readonly logsCache = new LogsCache(LOGS_TTL_MS);
  private readonly refresher = new Refresher();
  /** Services whose container died: only a terminal read may settle them in the view. */
  private readonly settling = new Set<string>();
  private watcher: EventWatch | undefined;

  constructor(docker: Docker, cfg: SwarmBackendConfig, deps: BackendDeps, caps: Capabilities) {
    this.docker = docker;
    this.cfg = cfg;
    this.deps = deps;
    this.capabilities = caps;
  }

  private call<T>(ctx: ErrorContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return engineCall(this.deps.timeoutMs, ctx, fn);
  }

  async create(spec: JobSpec): Promise<JobInfo> {
    const body = toServiceSpec(spec, {
      ...(this.cfg.gpuResource !== undefined && { gpuResource: this.cfg.gpuResource }),
    });
    // 409 (name taken, by us or anyone) → ConflictError; 400 → InvalidSpecError with the engine's text.
    await this.call({ name: spec.name, specCall: true }, (signal) =>
      this.docker.createService(withSignal(body, signal)),
    );
    this.deps.log.debug({ jid: spec.name }, 'swarm service created');
    // The engine is the source of truth for the service (name, image, command, creation time).
    // Its task is not scheduled yet this early, so the task list is not read: the answer is
    // notstarted either way, and the view follows the task through its events.
    const ticket = this.view.ticket();
    const service = await this.inspect(spec.name);
    const entry = { serviceId: service.ID, info: fromService(service, []) };
    this.remember(spec.name, entry, ticket);
    return entry.info;
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const info = await this.get(name);
    const logs =
      options.logs === undefined || info.status === 'notstarted'
        ? ''
        : await this.logs(name, options.logs);
    return { info, logs };
  }

  async get(name: string): Promise<JobInfo> {
    return (this.fromView(name) ?? (await this.readEntry(name))).info;
  }

  async logs(name: string, limits: LogLimits): Promise<string> {
    const cached = this.fromView(name);
    const serviceId = cached?.serviceId ?? (await this.inspect(name)).ID;
    const read = (): Promise<string> =>
      this.call({ name }, async (signal) =>
        collectTail(await openServiceLogs(this.docker, serviceId, limits.tail, signal), limits),
      );
    // Only a running job's tail is reused: a terminal one is read once, complete, and pinned.
    if (cached?.info.status !== 'started') return read();
    return this.logsCache.get(name, `${limits.tail}:${limits.maxBytes}`, read);
  }

  async *streamLogs(name: string, tail?: number): AsyncIterable<Uint8Array> {
    const service = await this.inspect(name);
    // Only opening the stream is bounded by the call timeout; the reader paces the body, so the
    // stream gets its own signal that the timeout aborts only while the request is being opened.
    const opening = new AbortController();
    const stream = await this.call({ name }, async (signal) => {
      const onTimeout = (): void => opening.abort(signal.reason);
      signal.addEventListener('abort', onTimeout, { once: true });
      try {
        return await openServiceLogs(this.docker, service.ID, tail, opening.signal);
      } finally {
        signal.removeEventListener('abort', onTimeout);
      }
    });
    try {
      for await (const chunk of stream as AsyncIterable<unknown>) {
        if (chunk instanceof Uint8Array) yield chunk;
        else if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
      }
    } finally {
      stream.destroy();
    }
  }

  async delete(name: string): Promise<void> {
    const service = await this.inspect(name);
    // Removing the service shuts its tasks down and removes their containers.
    await this.call({ name }, (signal) =>
      this.docker.getService(service.ID).remove({ abortSignal: signal }),
    );
    this.forget(name);
  }

  async list(): Promise<JobInfo[]> {
    const { services, byService } = await this.readAll();
    return services
      .map((s) => fromService(s, byService.get(s.ID) ?? []))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async ping(): Promise<void> {
    await this.call({}, () => this.docker.ping());
  }

  close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    this.view.markDown();
    return Promise.resolve();
  }

  /** Starts the event-fed job view (called once by the factory; a backend without it asks the
   *  engine for every answer). */
  watch(): void {
    if (this.watcher !== undefined) return;
    this.watcher = watchEvents({
      docker: this.docker,
      // Service events carry only the service name, and task containers carry swarm's labels,
      // not ours: both are filtered here by the names the view holds.
      filters: { type: ['service', 'container'] },
      onEvent: (event) => this.onEvent(event),
      resync: () => this.resync(),
      onDown: () => this.view.markDown(),
      log: this.deps.log.child({ backend: 'swarm', component: 'view' }),
      resyncMs: RESYNC_MS,
      heartbeat: () => this.ping(),
    });
  }

  /** The view's entry when it may answer (fresh, settled, and past the task states that can
   *  change without an event); undefined means "ask the engine". */
  private fromView(name: string): SwarmEntry | undefined {
    const entry = this.view.lookup(name);
    if (entry === undefined) return undefined;
    // Pending → rejected and similar transitions raise no event: those states are read directly.
    return entry.info.status === 'notstarted' || entry.info.status === 'undefined'
      ? undefined
      : entry;
  }

  /** One service and its tasks from the engine, stored in the view unless overtaken meanwhile. */
  private async readEntry(name: string): Promise<SwarmEntry> {
    const ticket = this.view.ticket();
    const service = await this.inspect(name);
    const entry = {
      serviceId: service.ID,
      info: fromService(service, await this.tasks([service.ID], name)),
    };
    this.remember(name, entry, ticket);
    return entry;
  }

  private remember(name: string, entry: SwarmEntry, ticket: Ticket): void {
    const terminal =
      entry.info.status === 'finishedSuccessfully' || entry.info.status === 'finishedWithError';
    if (this.settling.has(name)) {
      if (!terminal) return;
      this.settling.delete(name);
    }
    this.view.store(name, entry, ticket);
  }

  private forget(name: string): void {
    this.view.remove(name);
    this.settling.delete(name);
    this.logsCache.forget(name);
  }

  private onEvent(event: EngineEvent): void {
    const name =
      event.type === 'service' ? event.attributes.name : event.attributes[SERVICE_NAME_LABEL];
    // Only services the view already holds: a new one of ours is added by create() or a resync.
    if (name === undefined || !this.view.has(name)) return;
    if (event.type === 'service' && event.action === 'remove') {
      this.forget(name);
      return;
    }
    // A task's status moves with its container's start and death; a service update (e.g. a
    // forced re-deploy) replaces its task. Other events (create, attach, exec, …) change nothing.
    const relevant =
      event.type === 'service'
        ? event.action === 'update'
        : event.action === 'start' || event.action === 'die' || event.action === 'oom';
    if (!relevant) return;
    this.view.invalidate(name);
    this.logsCache.forget(name);
    const died = event.type === 'container' && event.action !== 'start';
    if (died) this.settling.add(name);
    this.refresher.run(name, () => this.refresh(name, died ? SETTLE_TRIES : 1));
  }

  /** Re-reads one job after its event; a dead container's task may need a moment to turn final. */
  private async refresh(name: string, tries: number): Promise<void> {
    try {
      await this.readEntry(name);
    } catch (err) {
      if (err instanceof NotFoundError) this.forget(name);
      return;
    }
    if (this.settling.has(name) && tries > 1) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_RETRY_MS).unref());
      if (this.settling.has(name)) await this.refresh(name, tries - 1);
    }
  }

  /** Every service of ours and its tasks in two calls; the view is live again afterwards. */
  private async resync(): Promise<void> {
    const ticket = this.view.ticket();
    const { services, byService } = await this.readAll();
    const entries = new Map<string, SwarmEntry>();
    for (const s of services) {
      const entry = { serviceId: s.ID, info: fromService(s, byService.get(s.ID) ?? []) };
      const terminal =
        entry.info.status === 'finishedSuccessfully' || entry.info.status === 'finishedWithError';
      // A service still settling keeps waiting for its final read (a direct GET meanwhile).
      if (this.settling.has(s.Spec.Name) && !terminal) continue;
      this.settling.delete(s.Spec.Name);
      entries.set(s.Spec.Name, entry);
    }
    this.view.replaceAll(entries, ticket);
  }

  /**
   * Our service of that exact name. A name outside the swarm rule cannot be a job (and must not
   * reach a URL path); a service found by id prefix or without our label is not ours to report
   * or remove (a jid must never delete, say, pman's own stack service).
   */
  private async inspect(name: string): Promise<SwarmService> {
    const notFound = () => new NotFoundError(`job "${name}" not found`);
    if (name.length > SWARM_JOB_NAME.maxLength || !SWARM_JOB_NAME.pattern.test(name)) {
      throw notFound();
    }
    const raw: unknown = await this.call({ name }, (signal) =>
      this.docker.getService(name).inspect({ abortSignal: signal }),
    );
    const service = parseService(raw);
    if (
      service.Spec.Name !== name ||
      service.Spec.Labels[DOCKER_MANAGED_BY_LABEL] !== MANAGED_BY_VALUE
    ) {
      throw notFound();
    }
    return service;
  }

  /** Our services and their tasks, grouped by service id. */
  private async readAll(): Promise<{
    services: SwarmService[];
    byService: Map<string, SwarmTask[]>;
  }> {
    const raw: unknown = await this.call({}, (signal) =>
      this.docker.listServices({ filters: { label: [MANAGED_FILTER] }, abortSignal: signal }),
    );
    const services = (Array.isArray(raw) ? raw : []).map((s: unknown) => parseService(s));
    const tasks = await this.tasks(services.map((s) => s.ID));
    const byService = new Map<string, SwarmTask[]>();
    for (const task of tasks) {
      const list = byService.get(task.ServiceID) ?? [];
      list.push(task);
      byService.set(task.ServiceID, list);
    }
    return { services, byService };
  }

  /** Tasks of the given services (by id), all states. */
  private async tasks(serviceIds: readonly string[], name?: string): Promise<SwarmTask[]> {
    const ctx: ErrorContext = name === undefined ? {} : { name };
    const out: SwarmTask[] = [];
    for (let i = 0; i < serviceIds.length; i += TASK_FILTER_CHUNK) {
      const ids = serviceIds.slice(i, i + TASK_FILTER_CHUNK);
      const raw: unknown = await this.call(ctx, (signal) =>
        this.docker.listTasks({ filters: { service: ids }, abortSignal: signal }),
      );
      out.push(...parseTasks(raw));
    }
    return out;
  }
}

/**
 * Our ServiceSpec as dockerode's create options. The dockerode typings misdescribe
 * GenericResources and TmpfsOptions, so the exact Engine API shape is cast here, once.
 */
function withSignal(spec: SwarmServiceSpec, signal: AbortSignal): Docker.CreateServiceOptions {
  return { ...spec, abortSignal: signal } as unknown as Docker.CreateServiceOptions;
}
