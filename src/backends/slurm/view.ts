// The poll-based view of our Slurm jobs: slurmrestd has no watch, so one GET /jobs per interval
// answers every read in that interval (hundreds of jobs cost one request, not one each), and the
// same list drives watchJobs. Jobs we deleted that Slurm still lists (it keeps finished jobs for
// MinJobAge) are hidden by a tombstone file per Slurm job id, so a restart still hides them.
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { BackendUnavailableError } from '../../domain/errors.js';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobInfo, JobStatus, LogLimits } from '../../domain/job.js';
import type { JobRead } from '../backend.js';
import { Slots } from '../shared/slots.js';
import { SlurmApiError } from './client.js';
import type { SlurmClient } from './client.js';
import { parseComment, runFiles } from './manifest.js';
import { fromSlurmJob, jobsAnswerSchema } from './status.js';
import type { SlurmJob } from './status.js';
import { readLogFile } from './logs.js';

export interface RunMeta {
  image: string;
  command: readonly string[];
}

/** One run of ours as the last list showed it. */
export interface SlurmEntry {
  jobId: number;
  nonce: string;
  job: SlurmJob;
  info: JobInfo;
  files: { log: string; meta: string };
}

interface Snapshot {
  /** When the list was asked for (monotonic ms): what it holds is at least this new. */
  startedAt: number;
  byName: Map<string, SlurmEntry>;
  /** Every job id Slurm listed (anyone's): a tombstone for an id no longer listed can go. */
  ids: Set<number>;
}

interface Emitted {
  status: JobStatus;
  cancelled: boolean;
}

export interface ViewOptions {
  client: SlurmClient;
  managedBy: string;
  logDir: string;
  pollMs: number;
  log: Logger;
}

const EMPTY_META: RunMeta = { image: '', command: [] };

export class SlurmView {
  readonly #o: ViewOptions;
  readonly #tombDir: string;
  #snapshot: Snapshot | undefined;
  #inflight: { startedAt: number; promise: Promise<Snapshot> } | undefined;
  /** Runs submitted and not yet in a list that started after their submit. */
  readonly #created = new Map<string, { entry: SlurmEntry; at: number }>();
  /** Deleted Slurm job ids → when (0: found at start-up). */
  readonly #tombstones = new Map<number, number>();
  readonly #meta = new Map<string, RunMeta>();
  readonly #emitted = new Map<string, Emitted>();
  readonly #snapshotSlots = new Slots(4);
  #watch: { limits: LogLimits; listener: (s: JobRead) => void } | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: ViewOptions) {
    this.#o = o;
    this.#tombDir = path.join(o.logDir, '.pman-deleted');
  }

  async loadTombstones(): Promise<void> {
    let names: string[] = [];
    try {
      names = await readdir(this.#tombDir);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
    for (const n of names) if (/^\d+$/.test(n)) this.#tombstones.set(Number(n), 0);
  }

  /**
   * A list no older than `maxAgeMs` (0: one asked for after this call), shared by everyone asking
   * meanwhile: a burst of creates (each wants a fresh list) waits for one list, not one each.
   */
  async snapshot(maxAgeMs = this.#o.pollMs): Promise<Snapshot> {
    const asked = performance.now();
    for (;;) {
      const s = this.#snapshot;
      if (s !== undefined && asked - s.startedAt <= maxAgeMs) return s;
      const running = this.#inflight;
      if (running !== undefined && asked - running.startedAt <= maxAgeMs) return running.promise;
      if (running !== undefined) {
        // Too old for this caller: wait for it, then join (or start) the next one.
        await running.promise.catch(() => undefined);
        continue;
      }
      const startedAt = performance.now();
      const promise = this.#fetch(startedAt);
      const inflight = { startedAt, promise };
      this.#inflight = inflight;
      try {
        return await promise;
      } finally {
        if (this.#inflight === inflight) this.#inflight = undefined;
      }
    }
  }

  async #fetch(startedAt: number): Promise<Snapshot> {
    let raw: unknown;
    try {
      raw = await this.#o.client.call('GET', this.#o.client.path('jobs'));
    } catch (err) {
      // slurmrestd answers a controller it cannot reach (or a token it no longer takes) with an
      // errors list: a 503 for the reads waiting on this list, not an unexplained 500.
      if (!(err instanceof SlurmApiError)) throw err;
      throw new BackendUnavailableError(`slurmrestd could not list the jobs: ${err.message}`, {
        cause: err,
      });
    }
    const { jobs } = jobsAnswerSchema.parse(raw);
    const byName = new Map<string, SlurmEntry>();
    const ids = new Set<number>();
    for (const job of jobs) {
      ids.add(job.job_id);
      const mark = parseComment(job.comment, this.#o.managedBy);
      if (mark === undefined || this.#tombstones.has(job.job_id)) continue;
      const held = byName.get(job.name);
      // Two runs of one name (one deleted by hand outside pman): the newest decides.
      if (held !== undefined && held.jobId > job.job_id) continue;
      const files = runFiles(this.#o.logDir, job.name, mark.nonce);
      const meta = await this.#metaOf(mark.nonce, files.meta);
      byName.set(job.name, {
        jobId: job.job_id,
        nonce: mark.nonce,
        job,
        info: fromSlurmJob(job, meta),
        files,
      });
    }
    // A delete that landed while this list was read: its run stays hidden.
    for (const [name, entry] of byName) if (this.#tombstones.has(entry.jobId)) byName.delete(name);
    for (const [name, c] of this.#created) if (c.at < startedAt) this.#created.delete(name);
    for (const [id, at] of this.#tombstones) {
      if (!ids.has(id) && at < startedAt) void this.#dropTombstone(id);
    }
    const snapshot = { startedAt, byName, ids };
    if (this.#snapshot === undefined || this.#snapshot.startedAt <= startedAt)
      this.#snapshot = snapshot;
    this.#notice(snapshot);
    return snapshot;
  }

  async #metaOf(nonce: string, file: string): Promise<RunMeta> {
    const known = this.#meta.get(nonce);
    if (known !== undefined) return known;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<RunMeta>;
      const meta = {
        image: typeof parsed.image === 'string' ? parsed.image : '',
        command: Array.isArray(parsed.command)
          ? parsed.command.filter((c) => typeof c === 'string')
          : [],
      };
      this.#meta.set(nonce, meta);
      return meta;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT')
        this.#o.log.warn({ err, file }, 'run metadata unreadable');
      return EMPTY_META;
    }
  }

  rememberMeta(nonce: string, meta: RunMeta): void {
    this.#meta.set(nonce, meta);
  }

  /** A run create() submitted: answered until a later list holds it. */
  keep(entry: SlurmEntry): void {
    this.#created.set(entry.info.name, { entry, at: performance.now() });
  }

  /** Our run of that name, from a list no older than the poll interval. */
  async find(name: string, maxAgeMs?: number): Promise<SlurmEntry | undefined> {
    const s = await this.snapshot(maxAgeMs);
    const listed = s.byName.get(name);
    if (listed !== undefined) return listed;
    const created = this.#created.get(name);
    return created !== undefined &&
      created.at >= s.startedAt &&
      !this.#tombstones.has(created.entry.jobId)
      ? created.entry
      : undefined;
  }

  async all(): Promise<SlurmEntry[]> {
    const s = await this.snapshot();
    const out = new Map(s.byName);
    for (const [name, c] of this.#created)
      if (!out.has(name) && c.at >= s.startedAt) out.set(name, c.entry);
    return [...out.values()];
  }

  /** Hides a deleted run for good (on disk: a restart keeps hiding it while Slurm lists it). */
  async bury(entry: SlurmEntry): Promise<void> {
    // In memory first: a list being read right now must not bring the run back.
    this.#tombstones.set(entry.jobId, performance.now());
    const name = entry.info.name;
    if (this.#created.get(name)?.entry.jobId === entry.jobId) this.#created.delete(name);
    if (this.#snapshot?.byName.get(name)?.jobId === entry.jobId) this.#snapshot.byName.delete(name);
    const emitted = this.#emitted.get(name);
    if (emitted !== undefined) emitted.cancelled = true;
    this.#emitted.delete(name);
    this.#meta.delete(entry.nonce);
    await mkdir(this.#tombDir, { recursive: true });
    await writeFile(path.join(this.#tombDir, String(entry.jobId)), '');
  }

  async #dropTombstone(id: number): Promise<void> {
    this.#tombstones.delete(id);
    try {
      await unlink(path.join(this.#tombDir, String(id)));
    } catch {
      // Already gone: nothing to undo.
    }
  }

  /** Every status change seen by a list, terminal ones once with their log (Port watchJobs). */
  watchJobs(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#watch = { limits, listener };
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        this.snapshot(0).catch((err: unknown) =>
          this.#o.log.warn({ err }, 'slurm job list failed'),
        );
      }, this.#o.pollMs);
      this.#timer.unref();
    }
    if (this.#snapshot !== undefined) this.#notice(this.#snapshot);
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watch = undefined;
  }

  #notice(s: Snapshot): void {
    const watch = this.#watch;
    if (watch === undefined) return;
    for (const [name, entry] of s.byName) {
      const last = this.#emitted.get(name);
      const status = entry.info.status;
      if (last !== undefined && (last.status === status || TERMINAL_STATUSES.has(last.status)))
        continue;
      const emitted: Emitted = { status, cancelled: false };
      this.#emitted.set(name, emitted);
      if (!TERMINAL_STATUSES.has(status)) {
        this.#hand({ info: entry.info, logs: '' });
        continue;
      }
      void this.#terminal(entry, emitted, watch);
    }
    for (const name of this.#emitted.keys()) {
      if (!s.byName.has(name) && !this.#created.has(name)) this.#emitted.delete(name);
    }
  }

  async #terminal(
    entry: SlurmEntry,
    emitted: Emitted,
    watch: { limits: LogLimits; listener: (s: JobRead) => void },
  ): Promise<void> {
    let logs = '';
    let partial = false;
    try {
      logs = await this.#snapshotSlots.run(() => readLogFile(entry.files.log, watch.limits));
    } catch (err) {
      partial = true;
      this.#o.log.warn(
        { err, job: entry.info.name },
        'the log of a finished job could not be read',
      );
    }
    if (!emitted.cancelled) this.#hand({ info: entry.info, logs, ...(partial && { partial }) });
  }

  #hand(snapshot: JobRead): void {
    try {
      this.#watch?.listener(snapshot);
    } catch (err) {
      this.#o.log.warn({ err, job: snapshot.info.name }, 'job watcher failed');
    }
  }
}
