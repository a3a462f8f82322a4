// WatchedJobs: the event-fed view of one engine backend's jobs (Docker containers, Swarm services),
// the one structure both share. The engine's event stream invalidates a job and one re-read
// refreshes it; full resyncs keep the rest honest. Status GETs are answered from the view while it
// is live and fresh, and a running job's log tail is reused briefly; everything else asks the
// engine (the view can make an answer older by one event's round trip, never wrong). It also
// reports every status change it stores to the watchJobs listener, terminal ones with their log.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { NotFoundError } from '../../domain/errors.js';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobInfo, JobStatus, LogLimits } from '../../domain/job.js';
import type { JobRead, ReadOptions } from '../backend.js';
import { Refresher, watchEvents } from './events.js';
import type { EngineEvent, EventWatch } from './events.js';
import { JobCache } from './job-cache.js';
import type { Ticket } from './job-cache.js';
import { LogCache } from './log-cache.js';
import { Slots } from './slots.js';

/** Full re-read of our jobs (only changed ones are read again); also after reconnects. */
export const RESYNC_MS = 30_000;
/** Log tails of running jobs are reused this long (CUBE polls every few seconds). */
export const LOGS_TTL_MS = 1_000;

/**
 * Terminal snapshots whose log is read at once (a start-up sees every finished job at once). Each
 * may hold a log up to LOG_ARCHIVE_MAX_BYTES a few times over while it is archived, so few.
 */
const SNAPSHOT_READS = 4;

/** What an event means for the job it names. */
export interface EventVerdict {
  name: string;
  /**
   * gone: the job no longer exists. changed: re-read it. ending: re-read it, and only a final read
   * may settle it (Swarm lists a dead container's task as running for a moment).
   */
  change: 'gone' | 'changed' | 'ending';
}

/** What one backend tells the shared view about its engine; T is what the view keeps per job. */
export interface JobSource<T> {
  /** Engine-side filters of GET /events. */
  readonly filters: Record<string, string[]>;
  /** The job an event is about and what it means; undefined: the event changes nothing.
   *  `held` says whether the view holds a name (events about others may be ignored). */
  classify(event: EngineEvent, held: (name: string) => boolean): EventVerdict | undefined;
  /** One job of ours from the engine, in one look. NotFoundError when it is not ours. */
  fetch(name: string): Promise<T>;
  /** Every job of ours; `known` is the view's settled entry, so unchanged jobs need no re-read. */
  fetchAll(known: (name: string) => T | undefined): Promise<Map<string, T>>;
  /** The job as the Port reports it (the backend's status.ts decides). */
  info(entry: T): JobInfo;
  /** Whether the entry may be answered from the view (status.ts: no silent transitions ahead). */
  answerable(entry: T): boolean;
  /** Whether the entry is final (an ending job settles only on one). */
  isFinal(entry: T): boolean;
  /** Whether the job has logs to read (it ran). */
  hasLogs(entry: T): boolean;
  readLogs(name: string, entry: T, limits: LogLimits): Promise<string>;
  /** A cheap engine call: the heartbeat of the event stream. */
  ping(): Promise<void>;
}

export interface WatchedJobsOptions {
  docker: Docker;
  log: Logger;
  /** Reads after an "ending" event until a final one lands, and the pause between them. */
  settle?: { tries: number; retryMs: number };
}

/** What the watcher was last told about one job; cancelled once the backend deleted it itself. */
interface Emitted {
  status: JobStatus;
  cancelled: boolean;
}

interface JobsWatch {
  limits: LogLimits;
  listener: (snapshot: JobRead) => void;
}

export class WatchedJobs<T> {
  readonly #source: JobSource<T>;
  readonly #options: WatchedJobsOptions;
  readonly #cache = new JobCache<T>({ maxAgeMs: 2 * RESYNC_MS });
  readonly #logs = new LogCache(LOGS_TTL_MS);
  readonly #refresher = new Refresher();
  /** Jobs announced as ending: only a final read may settle them in the view. */
  readonly #ending = new Set<string>();
  #watcher: EventWatch | undefined;
  #jobsWatch: JobsWatch | undefined;
  /** Per job, the status last handed to the watcher (terminal ones are handed over once). */
  readonly #emitted = new Map<string, Emitted>();
  readonly #snapshotSlots = new Slots(SNAPSHOT_READS);

  constructor(source: JobSource<T>, options: WatchedJobsOptions) {
    this.#source = source;
    this.#options = options;
  }

  /** Starts the event stream (once); without it every answer comes from the engine. */
  start(): void {
    if (this.#watcher !== undefined) return;
    this.#watcher = watchEvents({
      docker: this.#options.docker,
      filters: this.#source.filters,
      onEvent: (event) => this.#onEvent(event),
      resync: () => this.#resync(),
      onDown: () => this.#cache.markDown(),
      log: this.#options.log.child({ component: 'view' }),
      resyncMs: RESYNC_MS,
      heartbeat: () => this.#source.ping(),
    });
  }

  /**
   * Reports every status change stored in the view (events, resyncs, reads; the first sight of
   * each job too) to `listener`: a terminal one once, with its log read within `limits` at once.
   */
  watchJobs(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#jobsWatch = { limits, listener };
    for (const name of this.#cache.names()) this.#notice(name);
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#cache.markDown();
  }

  /**
   * Status and (when asked and the job ran) the log tail from one look: the view's entry when it
   * may answer, else one read of the engine. Only a running job's tail is reused: a terminal one
   * is read once, complete, and pinned by the job service.
   */
  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const cached = this.#lookup(name);
    const entry = cached ?? (await this.load(name));
    const info = this.#source.info(entry);
    const limits = options.logs;
    if (
      limits === undefined ||
      limits.tail <= 0 ||
      limits.maxBytes <= 0 ||
      info.status === 'notstarted' ||
      !this.#source.hasLogs(entry)
    ) {
      return { info, logs: '' };
    }
    const readLogs = (): Promise<string> => this.#source.readLogs(name, entry, limits);
    const logs =
      cached !== undefined && info.status === 'started'
        ? await this.#logs.get(name, `${limits.tail}:${limits.maxBytes}`, readLogs)
        : await readLogs();
    return { info, logs };
  }

  /** One job from the engine, kept in the view unless an event overtook the read. */
  async load(name: string): Promise<T> {
    const ticket = this.#cache.ticket();
    const entry = await this.#source.fetch(name);
    if (this.#admit(name, entry)) this.#store(name, entry, ticket);
    return entry;
  }

  /** A job read elsewhere (create's answer), kept unless an event overtook it since `ticket`. */
  keep(name: string, entry: T, ticket = this.#cache.ticket()): void {
    if (this.#admit(name, entry)) this.#store(name, entry, ticket);
  }

  /** Taken before an engine read whose result is handed to keep(). */
  ticket(): Ticket {
    return this.#cache.ticket();
  }

  /** The backend deleted the job: gone from the view, and a snapshot of it in flight is dropped. */
  forget(name: string): void {
    const emitted = this.#emitted.get(name);
    if (emitted !== undefined) emitted.cancelled = true;
    this.#drop(name);
  }

  /** The engine no longer has the job (removed by anyone): a snapshot taken before still lands,
   *  and a new job of that name is reported from its first status on. */
  #drop(name: string): void {
    this.#cache.remove(name);
    this.#ending.delete(name);
    this.#logs.forget(name);
    this.#emitted.delete(name);
  }

  #store(name: string, entry: T, ticket: Ticket): void {
    this.#cache.store(name, entry, ticket);
    this.#notice(name);
  }

  /** Hands the job's stored status to the watcher when it differs from the last one handed over. */
  #notice(name: string): void {
    const watch = this.#jobsWatch;
    const entry = this.#cache.peek(name);
    if (watch === undefined || entry === undefined) return;
    const info = this.#source.info(entry);
    const last = this.#emitted.get(name);
    if (last !== undefined && (last.status === info.status || TERMINAL_STATUSES.has(last.status)))
      return;
    const emitted: Emitted = { status: info.status, cancelled: false };
    this.#emitted.set(name, emitted);
    if (!TERMINAL_STATUSES.has(info.status)) {
      this.#hand(watch, { info, logs: '' });
      return;
    }
    void this.#snapshot(name, entry, info, emitted, watch);
  }

  /** A terminal job's log, read now: a `docker rm -f` or a cleanup may take it a moment later. */
  async #snapshot(
    name: string,
    entry: T,
    info: JobInfo,
    emitted: Emitted,
    watch: JobsWatch,
  ): Promise<void> {
    let logs = '';
    let partial = false;
    if (this.#source.hasLogs(entry) && watch.limits.tail > 0 && watch.limits.maxBytes > 0) {
      try {
        logs = await this.#snapshotSlots.run(() =>
          this.#source.readLogs(name, entry, watch.limits),
        );
      } catch (err) {
        partial = true;
        this.#options.log.warn({ err, job: name }, 'the log of a finished job could not be read');
      }
    }
    if (!emitted.cancelled) this.#hand(watch, { info, logs, ...(partial && { partial }) });
  }

  #hand(watch: JobsWatch, snapshot: JobRead): void {
    try {
      watch.listener(snapshot);
    } catch (err) {
      this.#options.log.warn({ err, job: snapshot.info.name }, 'job watcher failed');
    }
  }

  #lookup(name: string): T | undefined {
    const entry = this.#cache.lookup(name);
    return entry !== undefined && this.#source.answerable(entry) ? entry : undefined;
  }

  /** Whether a read may settle the job in the view: an ending job only with a final one. */
  #admit(name: string, entry: T): boolean {
    if (!this.#ending.has(name)) return true;
    if (!this.#source.isFinal(entry)) return false;
    this.#ending.delete(name);
    return true;
  }

  /** One re-read per event (a burst costs at most two), for that job only; never a full relist. */
  #onEvent(event: EngineEvent): void {
    const verdict = this.#source.classify(event, (name) => this.#cache.has(name));
    if (verdict === undefined) return;
    const { name, change } = verdict;
    if (change === 'gone') {
      this.#drop(name);
      return;
    }
    this.#cache.invalidate(name);
    this.#logs.forget(name);
    if (change === 'ending') this.#ending.add(name);
    this.#refresher.run(name, () => this.#refresh(name));
  }

  /** Re-reads one job after its event; an ending one until a final read lands (bounded). */
  async #refresh(name: string): Promise<void> {
    const settle = this.#options.settle ?? { tries: 1, retryMs: 0 };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.load(name);
      } catch (err) {
        // Gone meanwhile: forget it. Other failures leave it unsettled (direct reads) until a resync.
        if (err instanceof NotFoundError) this.#drop(name);
        return;
      }
      if (!this.#ending.has(name) || attempt >= settle.tries) return;
      await new Promise((resolve) => setTimeout(resolve, settle.retryMs).unref());
      if (!this.#ending.has(name)) return;
    }
  }

  /** Every job in one pass; jobs still ending wait for their final read (direct GETs meanwhile). */
  async #resync(): Promise<void> {
    const ticket = this.#cache.ticket();
    const entries = await this.#source.fetchAll((name) => this.#cache.peek(name));
    for (const [name, entry] of entries) if (!this.#admit(name, entry)) entries.delete(name);
    this.#cache.replaceAll(entries, ticket);
    for (const name of entries.keys()) this.#notice(name);
    // Jobs the engine no longer lists are gone: reported afresh should the name come back.
    for (const name of this.#emitted.keys()) if (!this.#cache.has(name)) this.#emitted.delete(name);
  }
}
