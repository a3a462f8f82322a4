// SlurmBackend (CONTAINER_ENV=slurm): the Port over slurmrestd. A job is one batch job named after
// the jid whose script runs the image with the node's container runtime (script.ts); status comes
// from the poll-based view (view.ts), logs from the job's output file in SLURM_LOG_DIR.
import { randomBytes } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { ConfigError } from '../../config/errors.js';
import {
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
} from '../../domain/errors.js';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobInfo, JobSpec, LogLimits } from '../../domain/job.js';
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
import { managedByValue } from '../shared/labels.js';
import { nodeCapacities, slurmCapabilities } from './capacity.js';
import { ESLURM_INVALID_JOB_ID, SlurmApiError, SlurmClient } from './client.js';
import { lastLines, readFrom, readLogBytes, readLogFile } from './logs.js';
import { runFiles, toSubmitBody } from './manifest.js';
import type { SlurmBackendConfig } from './settings.js';
import {
  fromSlurmJob,
  nodesAnswerSchema,
  partitionsAnswerSchema,
  submitAnswerSchema,
} from './status.js';
import { SlurmView } from './view.js';
import type { SlurmEntry } from './view.js';

/** A followed log is re-read this often until the job ends. */
const FOLLOW_MS = 1000;

export async function createSlurmBackend(
  cfg: SlurmBackendConfig,
  deps: BackendDeps,
): Promise<Backend> {
  const client = new SlurmClient(cfg, deps.timeoutMs);
  await firstPing(client, cfg.user);
  const nodes = nodesAnswerSchema.parse(await client.call('GET', client.path('nodes'))).nodes;
  if (cfg.partition !== undefined) await checkPartition(client, cfg.partition);
  await mkdir(cfg.logDir, { recursive: true });
  const backend = new SlurmBackend(client, cfg, deps, slurmCapabilities(nodes, cfg.runtime));
  await backend.start();
  return backend;
}

/**
 * slurmrestd 22.05 answers a token slurmctld rejects (or a controller it cannot reach) with HTTP 500
 * "slurmctld config is unable to load": retried like an unreachable daemon, then a start-up error
 * that names the settings to check.
 */
async function firstPing(client: SlurmClient, user: string): Promise<void> {
  try {
    await client.call('GET', client.path('ping'));
  } catch (err) {
    if (!(err instanceof SlurmApiError)) throw err;
    throw new BackendUnavailableError(
      `slurmrestd cannot answer a ping for SLURM_USER=${user} (${err.message}): check SLURM_JWT / SLURM_JWT_FILE (a token for that user) and that slurmctld is up`,
      { cause: err },
    );
  }
}

/** A partition Slurm does not know is a start-up error, not a 400 on every job (a list: each). */
async function checkPartition(client: SlurmClient, partition: string): Promise<void> {
  const raw = await client.call('GET', client.path('partitions'));
  const known = new Set(partitionsAnswerSchema.parse(raw).partitions.map((p) => p.name));
  const missing = partition.split(',').filter((p) => !known.has(p.trim()));
  if (missing.length > 0) {
    throw new ConfigError([
      `SLURM_PARTITION: Slurm has no partition ${missing.map((p) => `"${p}"`).join(', ')} (it has ${[...known].join(', ') || 'none'})`,
    ]);
  }
}

function unlinkQuietly(file: string): Promise<void> {
  return unlink(file).catch(() => undefined);
}

export class SlurmBackend implements Backend {
  readonly name = 'slurm';
  readonly capabilities: Capabilities;
  readonly #client: SlurmClient;
  readonly #cfg: SlurmBackendConfig;
  readonly #log: BackendDeps['log'];
  readonly #view: SlurmView;
  readonly #managedBy: string;

  constructor(client: SlurmClient, cfg: SlurmBackendConfig, deps: BackendDeps, caps: Capabilities) {
    this.#client = client;
    this.#cfg = cfg;
    this.#log = deps.log; // main.ts names the backend on it
    this.capabilities = caps;
    this.#managedBy = managedByValue(cfg.instanceId);
    this.#view = new SlurmView({
      client,
      managedBy: this.#managedBy,
      logDir: cfg.logDir,
      pollMs: cfg.pollSeconds * 1000,
      log: this.#log,
    });
  }

  start(): Promise<void> {
    return this.#view.loadTombstones();
  }

  async create(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo> {
    const nonce = randomBytes(6).toString('hex');
    const body = toSubmitBody(spec, this.#cfg, {
      managedBy: this.#managedBy,
      nonce,
      labels: spec.labels,
    });
    // A job of that name that is ours and not deleted (a fresh list: the duplicate check).
    if ((await this.#view.find(spec.name, 0)) !== undefined) {
      throw new ConflictError(`a Slurm job named "${spec.name}" exists`);
    }
    const files = runFiles(this.#cfg.logDir, spec.name, nonce);
    const meta = { image: spec.image, command: spec.command };
    await writeFile(files.meta, JSON.stringify(meta));
    this.#view.rememberMeta(nonce, meta);
    await options.recheckMounts?.();
    let jobId: number | undefined;
    try {
      const raw = await this.#client.call('POST', this.#client.path('job/submit'), body);
      jobId = submitAnswerSchema.parse(raw).job_id;
    } catch (err) {
      await unlinkQuietly(files.meta);
      if (err instanceof SlurmApiError) {
        // 22.05 may answer errors with a job id (a job it queued anyway): cancel it.
        const queued = submitAnswerSchema.safeParse(err.body);
        if (queued.success && queued.data.job_id !== undefined)
          await this.#cancel(queued.data.job_id);
        throw new InvalidSpecError(`Slurm refused the job: ${err.message}`, { cause: err });
      }
      throw err;
    }
    if (jobId === undefined) {
      await unlinkQuietly(files.meta);
      throw new BackendUnavailableError('slurmrestd answered the submit without a job id');
    }
    options.onCreated?.();
    const now = Math.floor(Date.now() / 1000);
    const job = {
      job_id: jobId,
      name: spec.name,
      comment: '',
      job_state: 'PENDING',
      state_reason: 'None',
      state_description: '',
      exit_code: undefined,
      submit_time: now,
      start_time: 0,
      end_time: 0,
    };
    const entry: SlurmEntry = { jobId, nonce, job, info: fromSlurmJob(job, meta), files };
    this.#view.keep(entry);
    this.#log.debug({ jid: spec.name, jobId }, 'slurm job submitted');
    return entry.info;
  }

  async #entry(name: string): Promise<SlurmEntry> {
    const entry = await this.#view.find(name);
    if (entry === undefined) throw new NotFoundError(`no Slurm job named "${name}"`);
    return entry;
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const entry = await this.#entry(name);
    const limits = options.logs;
    if (limits === undefined || entry.info.status === 'notstarted')
      return { info: entry.info, logs: '' };
    return { info: entry.info, logs: await readLogFile(entry.files.log, limits) };
  }

  watchJobs(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#view.watchJobs(limits, listener);
  }

  async *streamLogs(
    name: string,
    tail?: number,
    options: StreamOptions = {},
  ): AsyncIterable<Uint8Array> {
    let entry = await this.#entry(name);
    // One read gives both the first chunk and where following starts: a second read for the
    // offset would skip what the job printed in between.
    const whole = await readLogBytes(entry.files.log);
    const first = lastLines(whole, tail);
    if (first.length > 0) yield first;
    if (options.follow !== true) return;
    let offset = whole.length;
    while (options.signal?.aborted !== true && !TERMINAL_STATUSES.has(entry.info.status)) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS).unref());
      const more = await readFrom(entry.files.log, offset);
      if (more.length > 0) {
        offset += more.length;
        yield more;
      }
      const now = await this.#view.find(name);
      if (now === undefined) return;
      entry = now;
    }
    const rest = await readFrom(entry.files.log, offset);
    if (rest.length > 0) yield rest;
  }

  /** Cancels (Slurm: SIGTERM, SIGKILL after KillWait; the script's trap removes the container). */
  async #cancel(jobId: number): Promise<void> {
    try {
      await this.#client.call('DELETE', this.#client.path(`job/${jobId}`));
    } catch (err) {
      // Already ended or purged: nothing left to stop.
      if (err instanceof SlurmApiError && err.has(ESLURM_INVALID_JOB_ID)) return;
      if (err instanceof SlurmApiError && /complet|finished/i.test(err.message)) return;
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    const entry = await this.#entry(name);
    if (!TERMINAL_STATUSES.has(entry.info.status)) await this.#cancel(entry.jobId);
    await this.#view.bury(entry);
    await Promise.all([unlinkQuietly(entry.files.log), unlinkQuietly(entry.files.meta)]);
  }

  /**
   * A cancel that keeps the job listed (no tombstone) and its log (Port stop). Slurm sends
   * SIGTERM and SIGKILL after its own KillWait: slurmrestd 0.0.38 cannot signal the batch shell
   * with anything but the cancel, so `graceSeconds` is Slurm's KillWait, not ours.
   */
  async stop(name: string, graceSeconds: number): Promise<void> {
    const entry = await this.#entry(name);
    if (TERMINAL_STATUSES.has(entry.info.status)) return;
    this.#log.debug({ jid: name, graceSeconds }, 'slurm stop: cancel (grace = KillWait)');
    await this.#cancel(entry.jobId);
  }

  async capacity(): Promise<NodeCapacity[]> {
    const raw = await this.#client.call('GET', this.#client.path('nodes'));
    return nodeCapacities(nodesAnswerSchema.parse(raw).nodes);
  }

  async list(): Promise<JobInfo[]> {
    return (await this.#view.all())
      .map((e) => e.info)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async ping(): Promise<void> {
    await this.#client.call('GET', this.#client.path('ping'));
  }

  close(): Promise<void> {
    this.#view.close();
    return Promise.resolve();
  }
}
