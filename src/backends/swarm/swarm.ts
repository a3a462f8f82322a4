// SwarmBackend (CONTAINER_ENV=swarm): the Port over one replicated service per job; its tasks give
// the status (api.md §9.2), answered through the shared event-fed view.
import type Docker from 'dockerode';
import type {
  Backend,
  BackendDeps,
  Capabilities,
  CreateOptions,
  JobRead,
  NodeCapacity,
  ReadOptions,
  StreamOptions,
} from '../backend.js';
import { ensureSwarmJobNetwork } from '../shared/job-network.js';
import { managedByValue } from '../shared/labels.js';
import { swarmHardeningSupport } from './hardening.js';
import type { SwarmBackendConfig } from './settings.js';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import { boundLogText } from '../../domain/logs.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import { createDockerClient, engineCall } from '../shared/engine-client.js';
import { WatchedJobs } from '../shared/watched-jobs.js';
import {
  assertSwarmManager,
  largestReadyNode,
  nodeCapacities,
  swarmCapabilities,
} from './capacity.js';
import { toServiceSpec } from './manifest.js';
import type { ServicePublishing } from './manifest.js';
import { Services } from './services.js';
import { parseService } from './status.js';
import { jobInfoOf, restartedBySwarm } from './service-status.js';
import { checkServiceNetwork } from './service-network.js';
import { freeHostPort } from './free-port.js';
import { DEFAULT_SWARM_SERVICE_SETTINGS } from './settings.js';
import type { SwarmServiceSettings } from './settings.js';
import { ServiceJobs, entryOf } from './view.js';
import type { SwarmEntry } from './view.js';

/** After a task's container dies the manager may still list the task as running for a moment. */
const SETTLE = { tries: 25, retryMs: 200 };

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
  const largest = largestReadyNode(nodes);
  // IGNORE_LIMITS sets no CPU or memory limit, so none is checked either (as on Docker).
  const capabilities = swarmCapabilities(
    cfg.limits?.ignoreLimits === true ? { maxCpuMillicores: null, maxMemoryMiB: null } : largest,
    cfg.gpuResource,
  );
  const version: unknown = await call(() => docker.version());
  const support = swarmHardeningSupport(cfg.hardening, version);
  if (support.warning !== undefined) deps.log.warn(support.warning);
  await ensureSwarmJobNetwork(docker, deps.timeoutMs, cfg.hardening.network);
  await checkServiceNetwork(docker, deps.timeoutMs, cfg.service ?? DEFAULT_SWARM_SERVICE_SETTINGS);
  const backend = new SwarmBackend(docker, cfg, deps, capabilities, support.noNewPrivileges);
  backend.watch();
  return backend;
}

/** What a stop keeps of a job's log when no watch said its archive bounds (1 MiB; all lines). */
const KEPT_LOG_LIMITS: LogLimits = { tail: Number.MAX_SAFE_INTEGER, maxBytes: 1 << 20 };

export class SwarmBackend implements Backend {
  readonly name = 'swarm';
  readonly capabilities: Capabilities;
  readonly #cfg: SwarmBackendConfig;
  /** Whether this engine honours Privileges.NoNewPrivileges in a ServiceSpec (and it is wanted). */
  readonly #noNewPrivileges: boolean;
  readonly #log: BackendDeps['log'];
  readonly #services: Services;
  /** Our services as the engine last reported them. */
  readonly #jobs: WatchedJobs<SwarmEntry>;
  /** The log of each job scaled to 0 by a stop, read before (scaling down removes the task). */
  readonly #keptLogs = new Map<string, string>();
  /** SERVICE_PUBLISH_MODE, SERVICE_BIND_IP, SERVICE_NETWORK (service jobs, issue 15). */
  readonly #serviceSettings: SwarmServiceSettings;
  #watchLimits: LogLimits | undefined;

  constructor(
    docker: Docker,
    cfg: SwarmBackendConfig,
    deps: BackendDeps,
    caps: Capabilities,
    noNewPrivileges = false,
  ) {
    this.#cfg = cfg;
    this.#noNewPrivileges = noNewPrivileges;
    this.#log = deps.log; // main.ts names the backend on it
    this.capabilities = caps;
    this.#serviceSettings = cfg.service ?? DEFAULT_SWARM_SERVICE_SETTINGS;
    this.#services = new Services(docker, deps.timeoutMs, managedByValue(cfg.instanceId));
    this.#jobs = new WatchedJobs(new ServiceJobs(this.#services, this.#serviceSettings.bindIp), {
      docker,
      log: this.#log,
      settle: SETTLE,
    });
  }

  /** The name is free unless the engine says 409 (a service of that name, ours or anyone's). */
  async create(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo> {
    const body = toServiceSpec(spec, {
      ...(this.#cfg.gpuResource !== undefined && { gpuResource: this.#cfg.gpuResource }),
      hardening: this.#cfg.hardening,
      noNewPrivileges: this.#noNewPrivileges,
      managedBy: managedByValue(this.#cfg.instanceId),
      ...(this.#cfg.limits !== undefined && { limits: this.#cfg.limits }),
      ...(this.#cfg.stopGraceSeconds !== undefined && {
        stopGraceSeconds: this.#cfg.stopGraceSeconds,
      }),
      service: await this.#publishing(spec),
    });
    // Right before the service exists (issue 10, mount race): a refusal leaves nothing behind.
    // Swarm offers no hook before its task's container starts, so a task pending for long is
    // covered by the resolved bind source the service passes, not by this check.
    await options.recheckMounts?.();
    const ticket = this.#jobs.ticket();
    const serviceId = await this.#services.create(body);
    options.onCreated?.();
    this.#log.debug({ jid: spec.name }, 'swarm service created');
    // The answer is built from what was sent, not from an inspect: one engine call less per
    // create, competing with the other creates in the manager's store (the bench's c=50 burst).
    // The task is not scheduled this early, so it reads notstarted either way; the view takes
    // the engine's own times from the task's events.
    const service = parseService({
      ID: serviceId,
      CreatedAt: new Date().toISOString(),
      Spec: body,
    });
    const entry = entryOf(service, [], this.#serviceSettings.bindIp);
    this.#jobs.keep(spec.name, entry, ticket);
    return entry.info;
  }

  /** How a service job is published; host mode pins a port picked now (the swarm would pick a
   *  new one per task). A batch job needs none. */
  async #publishing(spec: JobSpec): Promise<ServicePublishing> {
    const { publishMode, network } = this.#serviceSettings;
    if (spec.service === undefined || publishMode !== 'host') return { publishMode, network };
    return { publishMode, network, publishedPort: await freeHostPort() };
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    return this.#withKept(name, await this.#jobs.read(name, options), options.logs);
  }

  /** Every status change the event-fed view stores, terminal ones with their log (Port). */
  watchJobs(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#watchLimits = limits;
    this.#jobs.watchJobs(limits, (snapshot) => {
      const name = snapshot.info.name;
      if (!TERMINAL_STATUSES.has(snapshot.info.status)) return listener(snapshot);
      listener(this.#withKept(name, snapshot, limits));
    });
  }

  /** Following, the service log never ends by itself: the caller ends it from the task state. */
  async *streamLogs(
    name: string,
    tail?: number,
    options: StreamOptions = {},
  ): AsyncIterable<Uint8Array> {
    const service = await this.#services.inspect(name);
    yield* this.#services.streamLogs(name, service.ID, tail, options);
  }

  async delete(name: string): Promise<void> {
    this.#keptLogs.delete(name);
    const service = await this.#services.inspect(name);
    await this.#services.remove(name, service.ID);
    this.#jobs.forget(name);
  }

  /**
   * Cancel and deadlines (Port). A service job (issue 15) is always scaled to 0: its signalled
   * container would only be restarted by the swarm. When a batch task's container runs on this
   * engine's node, it is signalled directly (SIGTERM, `docker stop -t grace`): the task ends failed, and the service,
   * the task and its log stay until DELETE. Otherwise the service is scaled to 0 replicas, so
   * Swarm stops the task with its StopGracePeriod (CANCEL_GRACE_SECONDS at create); scaling down
   * removes the task and its log, so the log is read first and kept. A job that ended is left.
   */
  async stop(name: string, graceSeconds: number): Promise<void> {
    const service = await this.#services.inspect(name);
    const { info } = await this.#jobs.read(name);
    if (TERMINAL_STATUSES.has(info.status)) return;
    const local = restartedBySwarm(service)
      ? undefined
      : await this.#services.localContainer(name, service.ID);
    if (local !== undefined) {
      await this.#services.signalContainer(name, local, graceSeconds);
      return;
    }
    const limits = this.#watchLimits ?? KEPT_LOG_LIMITS;
    const kept = await this.#services.readLogTail(name, service.ID, limits).catch(() => undefined);
    if (kept !== undefined) this.#keptLogs.set(name, kept);
    await this.#services.scaleToZero(name, service.ID);
  }

  /** What a job scaled to 0 printed before its task went, when the engine has no log now. */
  #withKept(name: string, read: JobRead, limits: LogLimits | undefined): JobRead {
    const kept = this.#keptLogs.get(name);
    if (kept === undefined || read.logs !== '' || limits === undefined) return read;
    return { ...read, logs: boundLogText(kept, limits), partial: false };
  }

  /** The swarm's ready nodes with what each offers (GPUs: SWARM_GPU_RESOURCE's generic resource). */
  async capacity(): Promise<NodeCapacity[]> {
    return nodeCapacities(await this.#services.nodes(), this.#cfg.gpuResource);
  }

  async list(): Promise<JobInfo[]> {
    const { services, byService } = await this.#services.readAll();
    return services
      .map((s) => jobInfoOf(s, byService.get(s.ID) ?? [], this.#serviceSettings.bindIp))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  ping(): Promise<void> {
    return this.#services.ping();
  }

  close(): Promise<void> {
    this.#jobs.close();
    return Promise.resolve();
  }

  /** Starts the event-fed job view (called once by the factory; a backend without it asks the
   *  engine for every answer). */
  watch(): void {
    this.#jobs.start();
  }
}
