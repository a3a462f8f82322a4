// The Engine's service and task calls the swarm backend makes, each bounded by the call timeout
// and answered in domain errors: create, our service by exact name, every service with its tasks.
import type Docker from 'dockerode';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { LogLimits } from '../../domain/job.js';
import type { StreamOptions } from '../backend.js';
import { engineCall } from '../shared/engine-client.js';
import type { ErrorContext } from '../shared/engine-client.js';
import { readLogTail, streamLogBytes } from '../shared/engine-logs.js';
import type { LogSource } from '../shared/engine-logs.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../shared/labels.js';
import type { SwarmServiceSpec } from './manifest.js';
import { parseService, parseTasks } from './status.js';
import type { SwarmService, SwarmTask } from './status.js';

/** A service inspect as the update needs it: its whole spec, kept as sent back, and its version. */
const rawServiceSchema = z.object({
  Version: z.object({ Index: z.number() }),
  Spec: z.record(z.string(), z.unknown()),
});

/** A task's container, where a stop needs it. */
const taskContainersSchema = z.array(
  z.object({
    Status: z
      .object({
        State: z.string().optional(),
        ContainerStatus: z.object({ ContainerID: z.string().optional() }).optional(),
      })
      .optional(),
  }),
);

/** How many service ids go into one task-list filter (keeps the query string short). */
const TASK_FILTER_CHUNK = 50;

/** Our services and their tasks, grouped by service id. */
export interface ServicesAndTasks {
  services: SwarmService[];
  byService: Map<string, SwarmTask[]>;
}

export class Services {
  readonly #docker: Docker;
  readonly #timeoutMs: number;
  readonly #managedBy: string;
  /** The label filter of list calls and the event stream: this instance's services only. */
  readonly managedFilter: string;

  constructor(docker: Docker, timeoutMs: number, managedBy = MANAGED_BY_VALUE) {
    this.#docker = docker;
    this.#timeoutMs = timeoutMs;
    this.#managedBy = managedBy;
    this.managedFilter = `${DOCKER_MANAGED_BY_LABEL}=${managedBy}`;
  }

  #call<T>(ctx: ErrorContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return engineCall(this.#timeoutMs, ctx, fn);
  }

  async ping(): Promise<void> {
    await this.#call({}, () => this.#docker.ping());
  }

  /** 409 (name taken, by us or anyone) → ConflictError; 400 → InvalidSpecError with the engine's text. */
  /** Creates the service; resolves with its ID. */
  async create(spec: SwarmServiceSpec): Promise<string> {
    const service = await this.#call({ name: spec.Name, specCall: true }, (signal) =>
      this.#docker.createService(withSignal(spec, signal)),
    );
    return service.id;
  }

  /**
   * Our service of that exact name. A service found by id prefix or without our label is not ours
   * to report or remove (a jid must never delete, say, pman's own stack service).
   */
  async inspect(name: string): Promise<SwarmService> {
    const raw: unknown = await this.#call({ name }, (signal) =>
      this.#docker.getService(encodeURIComponent(name)).inspect({ abortSignal: signal }),
    );
    const service = parseService(raw);
    if (
      service.Spec.Name !== name ||
      service.Spec.Labels[DOCKER_MANAGED_BY_LABEL] !== this.#managedBy
    ) {
      throw new NotFoundError(`job "${name}" not found`);
    }
    return service;
  }

  /**
   * Scales the service to 0 replicas (cancel, deadline): Swarm shuts its task down with the
   * task's StopGracePeriod; the service, the ended task and its log stay. Only the mode changes:
   * a change of the task template would replace the task, that is, run the job again.
   */
  async scaleToZero(name: string, serviceId: string): Promise<void> {
    const raw: unknown = await this.#call({ name }, (signal) =>
      this.#docker.getService(serviceId).inspect({ abortSignal: signal }),
    );
    const current = rawServiceSchema.parse(raw);
    const spec = { ...current.Spec, Mode: { Replicated: { Replicas: 0 } } };
    // docker-modem: `_query` is the query string (the version the update applies to), `_body` the
    // body; without them it would send the whole spec as both.
    const options = { _query: { version: current.Version.Index }, _body: spec };
    await this.#call({ name }, (signal) =>
      this.#docker.getService(serviceId).update({ ...options, abortSignal: signal }),
    );
  }

  /**
   * The container of the service's running task when it runs on this engine's node (a one-node
   * swarm, or a task placed on the manager): a stop can then signal it directly, which keeps the
   * task, its container and its log (scaling to 0 removes the task, and its log with it).
   */
  async localContainer(name: string, serviceId: string): Promise<string | undefined> {
    const raw: unknown = await this.#call({ name }, (signal) =>
      this.#docker.listTasks({ filters: { service: [serviceId] }, abortSignal: signal }),
    );
    const running = taskContainersSchema
      .parse(raw)
      .find((t) => t.Status?.State === 'running' && t.Status.ContainerStatus?.ContainerID);
    const id = running?.Status?.ContainerStatus?.ContainerID;
    if (id === undefined) return undefined;
    try {
      await this.#call({ name }, (signal) =>
        this.#docker.getContainer(id).inspect({ abortSignal: signal }),
      );
      return id;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * SIGTERM to the task's container now, then `docker stop -t grace` in the background (the
   * engine sends the SIGKILL). The task ends failed with the signal's exit code; with restart
   * condition none, Swarm starts no other.
   */
  async signalContainer(name: string, containerId: string, graceSeconds: number): Promise<void> {
    const container = this.#docker.getContainer(containerId);
    try {
      await this.#call({ name }, (signal) =>
        container.kill({ signal: 'SIGTERM', abortSignal: signal }),
      );
    } catch (err) {
      // Not running any more (409) or gone: it ended by itself.
      if (err instanceof ConflictError || err instanceof NotFoundError) return;
      throw err;
    }
    engineCall(this.#timeoutMs + graceSeconds * 1000, { name }, (signal) =>
      container.stop({ t: graceSeconds, abortSignal: signal }),
    ).catch(() => undefined);
  }

  /** GET /nodes (the capacity route). */
  async nodes(): Promise<unknown> {
    return this.#call({}, (signal) => this.#docker.listNodes({ abortSignal: signal }));
  }

  /** Removing a service shuts its tasks down and removes their containers. */
  async remove(name: string, serviceId: string): Promise<void> {
    await this.#call({ name }, (signal) =>
      this.#docker.getService(serviceId).remove({ abortSignal: signal }),
    );
  }

  /** Every service of ours and its tasks, in two calls. */
  async readAll(): Promise<ServicesAndTasks> {
    const raw: unknown = await this.#call({}, (signal) =>
      this.#docker.listServices({ filters: { label: [this.managedFilter] }, abortSignal: signal }),
    );
    const services = (Array.isArray(raw) ? raw : []).map((s: unknown) => parseService(s));
    const byService = new Map<string, SwarmTask[]>();
    for (const task of await this.tasks(services.map((s) => s.ID))) {
      const list = byService.get(task.ServiceID) ?? [];
      list.push(task);
      byService.set(task.ServiceID, list);
    }
    return { services, byService };
  }

  /** Tasks of the given services (by id), all states. */
  async tasks(serviceIds: readonly string[], name?: string): Promise<SwarmTask[]> {
    const ctx: ErrorContext = name === undefined ? {} : { name };
    const out: SwarmTask[] = [];
    for (let i = 0; i < serviceIds.length; i += TASK_FILTER_CHUNK) {
      const ids = serviceIds.slice(i, i + TASK_FILTER_CHUNK);
      const raw: unknown = await this.#call(ctx, (signal) =>
        this.#docker.listTasks({ filters: { service: ids }, abortSignal: signal }),
      );
      out.push(...parseTasks(raw));
    }
    return out;
  }

  readLogTail(name: string, serviceId: string, limits: LogLimits): Promise<string> {
    return readLogTail(this.#docker, this.#timeoutMs, name, logSource(serviceId), limits);
  }

  streamLogs(
    name: string,
    serviceId: string,
    tail: number | undefined,
    options: StreamOptions = {},
  ): AsyncIterable<Uint8Array> {
    const { follow = false, signal } = options;
    const source = logSource(serviceId);
    return streamLogBytes(this.#docker, this.#timeoutMs, name, source, tail, follow, signal);
  }
}

/** Swarm jobs run with a TTY: the engine sends the raw stream, lines ending in `\r\n`. */
function logSource(serviceId: string): LogSource {
  return { path: `/services/${encodeURIComponent(serviceId)}/logs?`, framed: false };
}

/**
 * Our ServiceSpec as dockerode's create options. The dockerode typings misdescribe
 * GenericResources and TmpfsOptions, so the exact Engine API shape is cast here, once.
 */
function withSignal(spec: SwarmServiceSpec, signal: AbortSignal): Docker.CreateServiceOptions {
  return { ...spec, abortSignal: signal } as unknown as Docker.CreateServiceOptions;
}
