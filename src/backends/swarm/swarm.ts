// SwarmBackend (CONTAINER_ENV=swarm): one replicated service per job, its tasks give the status.
import type Docker from 'dockerode';
import type { Backend, BackendDeps, Capabilities, JobNameRule } from '../backend.js';
import type { SwarmBackendConfig } from '../../config.js';
import { NotFoundError } from '../../errors.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../job.js';
import type { JobInfo, JobSpec, LogLimits } from '../../job.js';
import { collectTail } from '../../logs.js';
import { createDockerClient, engineCall, type ErrorContext } from '../engine/client.js';
import { assertSwarmManager, largestReadyNode } from './capacity.js';
import { toServiceSpec } from './manifest.js';
import type { SwarmServiceSpec } from './manifest.js';
import { openServiceLogs } from './service-logs.js';
import { fromService, parseService, parseTasks } from './status.js';
import type { SwarmService, SwarmTask } from './status.js';

/** swarmkit's rule for service names: "valid as a DNS name component" (api.md §5.3). */
export const SWARM_JOB_NAME: JobNameRule = {
  pattern: /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/,
  maxLength: 63,
  rule: "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
};

const GPU_UNAVAILABLE =
  'this swarm backend has no GPU resource configured (set SWARM_GPU_RESOURCE)';

/** How many service ids go into one task-list filter (keeps the query string short). */
const TASK_FILTER_CHUNK = 50;

const MANAGED_FILTER = `${DOCKER_MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

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
  return new SwarmBackend(docker, cfg, deps, capabilities);
}

export class SwarmBackend implements Backend {
  readonly name = 'swarm';
  readonly cmdStyle = 'plain';
  readonly capabilities: Capabilities;
  private readonly docker: Docker;
  private readonly cfg: SwarmBackendConfig;
  private readonly deps: BackendDeps;

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
    // The engine is the source of truth: answer with what it now reports (usually no task yet).
    return this.get(spec.name);
  }

  async get(name: string): Promise<JobInfo> {
    const service = await this.inspect(name);
    return fromService(service, await this.tasks([service.ID], name));
  }

  async logs(name: string, limits: LogLimits): Promise<string> {
    const service = await this.inspect(name);
    return this.call({ name }, async (signal) =>
      collectTail(await openServiceLogs(this.docker, service.ID, limits.tail, signal), limits),
    );
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
  }

  async list(): Promise<JobInfo[]> {
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
    return services
      .map((s) => fromService(s, byService.get(s.ID) ?? []))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async ping(): Promise<void> {
    await this.call({}, () => this.docker.ping());
  }

  close(): Promise<void> {
    // No watches or background work: every answer comes from the engine when asked.
    return Promise.resolve();
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
