// DockerBackend (Docker Engine, and Podman through its Docker-compatible API): the Port over one
// container per job, created then started. The engine is the source of truth: every answer is
// derived from it (through the event-fed view), except jobs whose image is still being pulled
// (they have no container yet) — api.md §9.1, architecture.md §5.
import type Docker from 'dockerode';
import type { DockerBackendConfig } from './settings.js';
import { ConflictError } from '../../domain/errors.js';
import type { JobInfo, JobSpec } from '../../domain/job.js';
import type {
  Backend,
  BackendDeps,
  Capabilities,
  CreateOptions,
  JobRead,
  ReadOptions,
} from '../backend.js';
import { createDockerClient, engineCall, engineMessage } from '../shared/engine-client.js';
import { checkDockerJobNetwork } from '../shared/job-network.js';
import { managedByValue } from '../shared/labels.js';
import { WatchedJobs } from '../shared/watched-jobs.js';
import { dockerCapabilities, parseInfo } from './capacity.js';
import { Containers } from './containers.js';
import { PendingPulls } from './pending-pulls.js';
import { fromContainer, fromUnread, hasStarted } from './status.js';
import type { ContainerView } from './status.js';
import { ContainerJobs } from './view.js';

/** Probes the engine (ping, /info) and builds the backend. Engine unreachable → BackendUnavailableError. */
export async function createDockerBackend(
  cfg: DockerBackendConfig,
  deps: BackendDeps,
): Promise<Backend> {
  const docker = await createDockerClient(cfg.engine);
  await engineCall(deps.timeoutMs, {}, () => docker.ping() as Promise<unknown>);
  const info: unknown = await engineCall(
    deps.timeoutMs,
    {},
    () => docker.info() as Promise<unknown>,
  );
  const capabilities = dockerCapabilities(parseInfo(info), { ignoreLimits: cfg.ignoreLimits });
  const network = await checkDockerJobNetwork(docker, deps.timeoutMs, cfg.hardening.network);
  if (network !== undefined && !network.Internal) {
    deps.log.warn(
      { network: network.Name },
      'JOB_NETWORK is not an internal network: jobs can reach the host and whatever it can reach, pman included unless a firewall says otherwise',
    );
  }
  const backend = new DockerBackend(docker, cfg, capabilities, deps);
  backend.watch();
  return backend;
}

export class DockerBackend implements Backend {
  readonly name = 'docker' as const;
  readonly capabilities: Capabilities;
  readonly #cfg: DockerBackendConfig;
  readonly #containers: Containers;
  /** Jobs waiting for (or failed in) a background pull, until they get a container or are deleted. */
  readonly #pending: PendingPulls;
  /** Our containers as the engine last reported them. */
  readonly #jobs: WatchedJobs<ContainerView>;

  constructor(
    docker: Docker,
    cfg: DockerBackendConfig,
    capabilities: Capabilities,
    deps: BackendDeps,
  ) {
    const log = deps.log.child({ backend: 'docker' });
    this.#cfg = cfg;
    this.capabilities = capabilities;
    this.#containers = new Containers(docker, deps.timeoutMs, log, managedByValue(cfg.instanceId));
    this.#pending = new PendingPulls({
      docker,
      containers: this.#containers,
      start: (spec, options) => this.#createAndStart(spec, options),
      waitMs: cfg.imagePullWaitSeconds * 1000,
      pullTimeoutMs: cfg.imagePullTimeoutSeconds * 1000,
      maxPulls: cfg.maxConcurrentPulls,
      log,
      now: deps.now ?? (() => new Date()),
    });
    this.#jobs = new WatchedJobs(new ContainerJobs(this.#containers), { docker, log });
  }

  /**
   * The name is free when no container has it (ours or foreign) and no pull holds it; checked
   * before any pull, so a duplicate never waits for (or triggers) a download. A create racing
   * this one past the check meets the engine's 409, also a ConflictError.
   */
  async create(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo> {
    const name = spec.name;
    if (this.#pending.has(name) || (await this.#containers.inspect(name)) !== undefined) {
      throw new ConflictError(`job "${name}" already exists`);
    }
    if (!(await this.#containers.imagePresent(spec.image))) {
      const pending = await this.#pending.pullOrPend(spec, options);
      if (pending !== undefined) return pending;
    }
    return this.#createAndStart(spec, options);
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const pending = this.#pending.info(name);
    if (pending !== undefined) return { info: pending, logs: '' };
    return this.#jobs.read(name, options);
  }

  async *streamLogs(name: string, tail?: number): AsyncIterable<Uint8Array> {
    if (this.#pending.has(name)) return;
    const container = await this.#containers.ours(name);
    if (!hasStarted(container) || tail === 0) return;
    yield* this.#containers.streamLogs(name, tail);
  }

  async delete(name: string): Promise<void> {
    if (await this.#pending.delete(name)) return;
    await this.#containers.ours(name);
    await this.#containers.remove(name);
    this.#jobs.forget(name);
  }

  async list(): Promise<JobInfo[]> {
    const names = (await this.#containers.list())
      .map((s) => s.name)
      .filter((n) => !this.#pending.has(n));
    const { found, unread } = await this.#containers.inspectMany(names);
    return [
      ...[...found.values()].map(fromContainer),
      ...unread.map((u) => fromUnread(u.name, engineMessage(u.error))),
      ...this.#pending.list(),
    ];
  }

  ping(): Promise<void> {
    return this.#containers.ping();
  }

  async close(): Promise<void> {
    this.#jobs.close();
    await this.#pending.close();
  }

  /** Starts the event-fed job view (called once by the factory; a backend without it asks the
   *  engine for every answer). */
  watch(): void {
    this.#jobs.start();
  }

  #createAndStart(spec: JobSpec, options: CreateOptions): Promise<JobInfo> {
    return this.#containers.createAndStart(
      spec,
      {
        ignoreLimits: this.#cfg.ignoreLimits,
        memoryLimitMode: this.#cfg.memoryLimitMode,
        hardening: this.#cfg.hardening,
        managedBy: managedByValue(this.#cfg.instanceId),
      },
      options.recheckMounts,
    );
  }
}
