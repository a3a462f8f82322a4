// DockerBackend (Docker Engine, and Podman through its Docker-compatible API): the Port over one
// container per job, created then started — create answers once the container exists and the
// start goes on in the background. The engine is the source of truth: every answer is derived
// from it (through the event-fed view), except jobs without a container (image still pulling, or
// pull or start refused) — api.md §9.1, architecture.md §5.
import type Docker from 'dockerode';
import type { DockerBackendConfig } from './settings.js';
import {
  BackendUnavailableError,
  ConflictError,
  DirectoryError,
  InvalidSpecError,
} from '../../domain/errors.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
import type {
  Backend,
  BackendDeps,
  Capabilities,
  CreateOptions,
  JobRead,
  LocalImage,
  NodeCapacity,
  ReadOptions,
  StreamOptions,
} from '../backend.js';
import { createDockerClient, engineCall, engineMessage } from '../shared/engine-client.js';
import { checkDockerJobNetwork, checkDockerServiceNetwork } from '../shared/job-network.js';
import { managedByValue } from '../shared/labels.js';
import { servicePortOf } from '../shared/service-settings.js';
import { WatchedJobs } from '../shared/watched-jobs.js';
import { dockerCapabilities, nodeFromInfo, parseInfo } from './capacity.js';
import { Containers } from './containers.js';
import { localImagesOf } from './images.js';
import { DOCKER_FLAVOUR } from './flavour.js';
import type { EngineFlavour } from './flavour.js';
import { freeHostPort, HOST_PORT_ATTEMPTS, isPortTaken } from './host-port.js';
import type { ContainerCreateOpts } from './manifest.js';
import { PendingPulls } from './pending-pulls.js';
import { serviceSettings } from './settings.js';
import { fromContainer, fromUnread, hasStarted } from './status.js';
import type { ContainerView, StatusOptions } from './status.js';
import { ContainerJobs } from './view.js';

/** Probes the engine (ping, /info) and builds the backend. Engine unreachable → BackendUnavailableError.
 *  `flavour`: Docker, or Podman through its Docker-compatible API (src/backends/podman). */
export async function createDockerBackend(
  cfg: DockerBackendConfig,
  deps: BackendDeps,
  flavour: EngineFlavour = DOCKER_FLAVOUR,
): Promise<Backend> {
  const docker = await createDockerClient(cfg.engine);
  await engineCall(deps.timeoutMs, {}, () => docker.ping() as Promise<unknown>);
  const info: unknown = await engineCall(
    deps.timeoutMs,
    {},
    () => docker.info() as Promise<unknown>,
  );
  const gpuReason = flavour.gpuUnavailableReason;
  const capabilities: Capabilities = {
    ...dockerCapabilities(parseInfo(info), { ignoreLimits: cfg.ignoreLimits }),
    ...(gpuReason !== undefined && { gpus: false, gpuUnavailableReason: gpuReason }),
  };
  const network = await checkDockerJobNetwork(docker, deps.timeoutMs, cfg.hardening.network);
  if (network !== undefined && !network.Internal) {
    deps.log.warn(
      { network: network.Name },
      'JOB_NETWORK is not an internal network: jobs can reach the host and whatever it can reach, pman included unless a firewall says otherwise',
    );
  }
  // Service jobs publish a port: their network must exist (none and host were refused at read).
  await checkDockerServiceNetwork(docker, deps.timeoutMs, serviceSettings(cfg).network);
  const backend = new DockerBackend(docker, cfg, capabilities, deps, flavour);
  backend.watch();
  return backend;
}

export class DockerBackend implements Backend {
  readonly name: EngineFlavour['name'];
  readonly capabilities: Capabilities;
  readonly #cfg: DockerBackendConfig;
  /** Podman: JOB_PIDS_LIMIT=0 is sent as -1 (flavour.ts). */
  readonly #explicitNoPidsLimit: boolean;
  readonly #containers: Containers;
  /** Jobs waiting for (or failed in) a background pull, until they get a container or are deleted. */
  readonly #pending: PendingPulls;
  /** Our containers as the engine last reported them. */
  readonly #jobs: WatchedJobs<ContainerView>;
  /** Background starts in flight; `cancelled` once the job is deleted meanwhile. */
  readonly #starting = new Map<string, { cancelled: boolean; task: Promise<void> }>();

  readonly #log: BackendDeps['log'];
  readonly #docker: Docker;
  /** How service containers are read: SERVICE_BIND_IP, and on Podman which exits are final. */
  readonly #status: StatusOptions;
  /** Podman: a kill does not keep a service from restarting (flavour.ts). */
  readonly #killRestartsServices: boolean;
  /** Jobs whose container this backend is removing (watchJobs stays silent about them). */
  readonly #deleting = new Set<string>();
  /** Podman: service containers this backend stopped (their exit is final at once). */
  readonly #stoppedServices = new Set<string>();

  constructor(
    docker: Docker,
    cfg: DockerBackendConfig,
    capabilities: Capabilities,
    deps: BackendDeps,
    flavour: EngineFlavour = DOCKER_FLAVOUR,
  ) {
    this.name = flavour.name;
    this.#explicitNoPidsLimit = flavour.explicitNoPidsLimit;
    // main.ts names the backend on the logger it hands over (one `backend` key per line).
    const log = deps.log;
    this.#log = log;
    this.#docker = docker;
    this.#cfg = cfg;
    this.capabilities = capabilities;
    this.#killRestartsServices = flavour.killRestartsServices === true;
    const now = deps.now ?? (() => new Date());
    this.#status = {
      bindIp: serviceSettings(cfg).bindIp,
      ...(this.#killRestartsServices && {
        exitSettled: (c: ContainerView) =>
          this.#stoppedServices.has(c.Name.replace(/^\/+/, '')) || stayedDown(c, now()),
      }),
    };
    this.#containers = new Containers(
      docker,
      deps.timeoutMs,
      log,
      managedByValue(cfg.instanceId),
      flavour.maxLogTail,
    );
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
    this.#jobs = new WatchedJobs(new ContainerJobs(this.#containers, this.#status), {
      docker,
      log,
    });
  }

  /**
   * The name is free when no container has it (ours or foreign) and no pull holds it; checked
   * before any pull, so a duplicate never waits for (or triggers) a download. A create racing
   * this one past the check meets the engine's 409, also a ConflictError.
   *
   * Answers once the container is created (notstarted / created): the start goes on in the
   * background, and a start the engine refuses removes the container, ends the job
   * finishedWithError with the engine's text and calls `options.onFailed` (issue 11).
   */
  async create(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo> {
    const name = spec.name;
    if (
      this.#pending.has(name) ||
      this.#starting.has(name) ||
      (await this.#containers.inspect(name)) !== undefined
    ) {
      throw new ConflictError(`job "${name}" already exists`);
    }
    if (!(await this.#containers.imagePresent(spec.image))) {
      const pending = await this.#pending.pullOrPend(spec, options);
      if (pending !== undefined) return pending;
    }
    const opts = await this.#optsFor(spec);
    const created = await this.#containers.create(
      spec,
      opts,
      options.recheckMounts,
      options.onCreated,
    );
    this.#startInBackground(spec, options);
    return fromContainer(created, this.#status);
  }

  /** A container created but never started (the server died in between) is started now. */
  async resume(name: string): Promise<void> {
    if (this.#pending.has(name) || this.#starting.has(name)) return;
    const container = await this.#containers.ours(name);
    if (container.State.Status !== 'created' || hasStarted(container)) return;
    await this.#containers.start(name);
  }

  /** Every status change the event-fed view stores, terminal ones with their log (Port). A job
   *  this backend is deleting is not reported: a forced removal shows the container `dead` for a
   *  moment, which is no end of the job's own (the job service records the removal). */
  watchJobs(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#jobs.watchJobs(limits, (snapshot) => {
      if (!this.#deleting.has(snapshot.info.name)) listener(snapshot);
    });
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const pending = this.#pending.info(name);
    if (pending !== undefined) return { info: pending, logs: '' };
    return this.#jobs.read(name, options);
  }

  async *streamLogs(
    name: string,
    tail?: number,
    options: StreamOptions = {},
  ): AsyncIterable<Uint8Array> {
    if (this.#pending.has(name)) return;
    const container = await this.#containers.ours(name);
    if (!hasStarted(container) || (tail === 0 && options.follow !== true)) return;
    yield* this.#containers.streamLogs(name, tail, options);
  }

  async delete(name: string): Promise<void> {
    const starting = this.#starting.get(name);
    if (starting !== undefined) starting.cancelled = true;
    if (await this.#pending.delete(name)) return;
    await this.#containers.ours(name);
    this.#deleting.add(name);
    try {
      await this.#containers.remove(name);
    } finally {
      this.#deleting.delete(name);
      // Gone, or still there after a failed remove: either way reported afresh from here on.
      this.#jobs.forget(name);
    }
    this.#stoppedServices.delete(name);
  }

  /**
   * Cancel and deadlines (Port): SIGTERM, SIGKILL after the grace (docker stop); the container and
   * its log stay until DELETE. A job still pulling its image has no container: its pull is dropped.
   * A service job stays stopped: Docker takes the kill as a manual stop, which its restart policy
   * respects; on Podman only the engine's stop does, awaited (flavour.ts).
   */
  async stop(name: string, graceSeconds: number): Promise<void> {
    if (await this.#pending.delete(name)) return;
    // A start under way would start it after the stop found nothing running.
    await this.#starting.get(name)?.task;
    const container = await this.#containers.ours(name);
    if (servicePortOf(container.Config.Labels) === undefined) {
      await this.#containers.stop(name, graceSeconds);
      return;
    }
    // The exit is read again, final, once the engine's stop is done: Docker raises no event when
    // it stops a service between two of its restarts (the kill only ends its restart loop), and
    // the event-fed view would say `restarting` until its next resync.
    const reread = (): Promise<void> =>
      this.#jobs.load(name).then(
        () => undefined,
        () => undefined,
      );
    if (!this.#killRestartsServices) {
      await this.#containers.stop(name, graceSeconds, reread);
      return;
    }
    // Marked final only once the stop has landed: between two of Podman's restarts the container
    // shows `stopped`/`exited`, and a mark made earlier had the run's end recorded while the loop
    // below was still stopping a server Podman had just started again.
    await this.#stopPodmanService(name, graceSeconds);
    this.#stoppedServices.add(name);
    await reread();
  }

  /**
   * Podman: a stop that finds the service between a crash and its restart is a 304 that marks
   * nothing, and Podman starts it again a moment later (seen on the real service: the job ended,
   * its container ran on) — and under load even a 204 was followed by a restart. So whatever the
   * stop answered, it counts only once the container then stays down for
   * PODMAN_RESTART_SETTLE_MS; each restart seen meanwhile gets the stop again. After
   * PODMAN_STOP_ROUNDS it gives up with an engine error: the run goes on (cancel answers 5xx, a
   * start timeout is tried again).
   */
  async #stopPodmanService(name: string, graceSeconds: number): Promise<void> {
    let seen = (await this.#containers.inspectOurs(name))?.RestartCount;
    for (let round = 1; round <= PODMAN_STOP_ROUNDS; round++) {
      await this.#containers.stopForGood(name, graceSeconds);
      const quietUntil = Date.now() + PODMAN_RESTART_SETTLE_MS;
      for (;;) {
        const c = await this.#containers.inspectOurs(name);
        if (c === undefined) return;
        if (c.State.Running || c.RestartCount !== seen) {
          seen = c.RestartCount;
          break;
        }
        if (Date.now() > quietUntil) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new BackendUnavailableError(
      `podman kept restarting service job "${name}" through ${PODMAN_STOP_ROUNDS} stops`,
    );
  }

  /** The engine's host: one node, as GET /info describes it. */
  async capacity(): Promise<NodeCapacity[]> {
    const info: unknown = await this.#containers.call(
      {},
      () => this.#docker.info() as Promise<unknown>,
    );
    return [nodeFromInfo(parseInfo(info))];
  }

  /** The engine's tagged images, one entry per tag (the image catalogue, issue 15). */
  async images(): Promise<LocalImage[]> {
    const raw: unknown = await this.#containers.call({}, (signal) =>
      this.#docker.listImages({ abortSignal: signal }),
    );
    return localImagesOf(raw);
  }

  async list(): Promise<JobInfo[]> {
    const names = (await this.#containers.list())
      .map((s) => s.name)
      .filter((n) => !this.#pending.has(n));
    const { found, unread } = await this.#containers.inspectMany(names);
    return [
      ...[...found.values()].map((c) => fromContainer(c, this.#status)),
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
    // Each start is one engine call, bounded by the call timeout.
    await Promise.allSettled([...this.#starting.values()].map((s) => s.task));
  }

  /** Starts the event-fed job view (called once by the factory; a backend without it asks the
   *  engine for every answer). */
  watch(): void {
    this.#jobs.start();
  }

  get #createOpts(): ContainerCreateOpts {
    return {
      ignoreLimits: this.#cfg.ignoreLimits,
      memoryLimitMode: this.#cfg.memoryLimitMode,
      hardening: this.#cfg.hardening,
      managedBy: managedByValue(this.#cfg.instanceId),
      explicitNoPidsLimit: this.#explicitNoPidsLimit,
      service: serviceSettings(this.#cfg),
    };
  }

  /** The create options of this job: a service's own host port, picked now (host-port.ts). */
  async #optsFor(spec: JobSpec): Promise<ContainerCreateOpts> {
    const opts = this.#createOpts;
    if (spec.service === undefined) return opts;
    return { ...opts, hostPort: await freeHostPort(serviceSettings(this.#cfg).bindIp) };
  }

  /** A job whose image arrived in the background; a service whose host port was taken meanwhile
   *  tries another. */
  async #createAndStart(spec: JobSpec, options: CreateOptions): Promise<JobInfo> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#containers.createAndStart(
          spec,
          await this.#optsFor(spec),
          options.recheckMounts,
          options.onCreated,
          this.#status,
        );
      } catch (err) {
        if (!this.#retryPort(spec, err, attempt)) throw err;
      }
    }
  }

  /** Whether a refused start of a service is retried on another host port (the refused
   *  container was removed by the start). */
  #retryPort(spec: JobSpec, err: unknown, attempt: number): boolean {
    if (spec.service === undefined || attempt >= HOST_PORT_ATTEMPTS || !isPortTaken(err)) {
      return false;
    }
    this.#log.info({ job: spec.name, err }, 'the host port of a service was taken; trying another');
    return true;
  }

  /** Starts a created container; a service whose host port was taken since it was picked is
   *  created again on another (unless it was deleted meanwhile). */
  async #start(spec: JobSpec, options: CreateOptions, cancelled: () => boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#containers.start(spec.name, options.recheckMounts);
        return;
      } catch (err) {
        if (cancelled() || !this.#retryPort(spec, err, attempt)) throw err;
        await this.#containers.create(spec, await this.#optsFor(spec), options.recheckMounts);
      }
    }
  }

  /**
   * Starts the created container (re-checking the mounts right before). A refusal removes it,
   * leaves the job finishedWithError with the reason until DELETE, and tells `onFailed`; a job
   * deleted meanwhile is left alone.
   */
  #startInBackground(spec: JobSpec, options: CreateOptions): void {
    const name = spec.name;
    const entry = { cancelled: false, task: Promise.resolve() };
    entry.task = (async () => {
      try {
        await this.#start(spec, options, () => entry.cancelled);
      } catch (err) {
        if (entry.cancelled) return;
        this.#log.warn({ err, job: name }, 'the engine refused to start a job');
        this.#pending.failed(spec, failureText(err), options);
      } finally {
        if (this.#starting.get(name) === entry) this.#starting.delete(name);
      }
    })();
    this.#starting.set(name, entry);
  }
}

/** Podman restarts a crashed service within a second; one still down this long after its exit
 *  was stopped from outside (or Podman gave up): final. */
const PODMAN_RESTART_SETTLE_MS = 5_000;
/** Stops sent to a Podman service that keeps coming back between them (stopPodmanService). */
const PODMAN_STOP_ROUNDS = 200;

function stayedDown(c: ContainerView, now: Date): boolean {
  const finished = Date.parse(c.State.FinishedAt);
  return Number.isNaN(finished) || now.getTime() - finished > PODMAN_RESTART_SETTLE_MS;
}

/** What a refused start is reported as: the engine's own text (or which directory failed the
 *  re-check), as the 400 of a create used to carry it. */
function failureText(err: unknown): string {
  if (err instanceof InvalidSpecError || err instanceof DirectoryError) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  return `container could not be started: ${text}`;
}
