// MemoryBackend (api.md §9.4): the reference implementation of the Port, for CONTAINER_ENV=memory,
// demos and tests. Jobs never run: tests move them with start() / finish() / oom(), and what a job
// "printed" is kept as the byte chunks an engine would stream, read back the way engines are read.
import { BackendUnavailableError, ConflictError, NotFoundError } from '../domain/errors.js';
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { JobInfo, JobSpec, LogLimits, ServiceView } from '../domain/job.js';
import { collectTail } from '../domain/logs.js';
import type {
  Backend,
  Capabilities,
  CreateOptions,
  JobRead,
  NodeCapacity,
  ReadOptions,
  StreamOptions,
} from './backend.js';

/** What a job printed: text, or the raw chunks as an engine would deliver them (any split). */
export type PrintedLogs = string | readonly Uint8Array[];

interface MemoryJob {
  /** A copy of the spec as create() received it. */
  spec: JobSpec;
  info: JobInfo;
  logs: Uint8Array[];
}

export const MEMORY_CAPABILITIES: Capabilities = {
  maxWorkers: null,
  gpus: true,
  maxCpuMillicores: null,
  maxMemoryMiB: null,
  runAsUser: true,
  mountKinds: ['host', 'volume'],
  jobName: { pattern: /^[^/]+$/, maxLength: 63, rule: "1-63 characters, none of them '/'" },
  // Service jobs (issue 15) for the http tests: a started one's endpoint is
  // http://127.0.0.1:<its port> (nothing is published), so a test's own listener can be probed.
  services: { nodePort: false },
};

const UNLIMITED = Number.MAX_SAFE_INTEGER;

export interface MemoryBackendOptions {
  /** Clock for timestamps (tests inject one). */
  now?: () => Date;
  /** What capacity() reports (default: one node "memory" with nothing). */
  nodes?: readonly NodeCapacity[];
}

/** The exit code of a job stopped by SIGTERM (128 + 15), as an engine reports it. */
const SIGTERM_EXIT = 143;

export class MemoryBackend implements Backend {
  readonly name = 'memory' as const;
  readonly capabilities = MEMORY_CAPABILITIES;
  readonly #jobs = new Map<string, MemoryJob>();
  readonly #now: () => Date;
  readonly #nodes: readonly NodeCapacity[];
  /** The grace of each stop() (tests check it was passed on). */
  readonly stops: Array<{ name: string; graceSeconds: number }> = [];
  #outage: string | undefined;
  #watch: { limits: LogLimits; listener: (snapshot: JobRead) => void } | undefined;
  /** Followers of a job's log (streamLogs with follow): woken on every print and move. */
  readonly #followers = new Set<() => void>();

  constructor(options: MemoryBackendOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#nodes = options.nodes ?? [{ name: 'memory', cpuMillicores: 0, memoryMiB: 0, gpus: 0 }];
  }

  create(spec: JobSpec, options: CreateOptions = {}): Promise<JobInfo> {
    return this.#call(() => {
      if (this.#jobs.has(spec.name)) throw new ConflictError(`job "${spec.name}" already exists`);
      const info: JobInfo = {
        name: spec.name,
        image: spec.image,
        command: [...spec.command],
        status: 'notstarted',
        message: 'created',
        timestamp: this.#stamp(),
        ...(spec.service !== undefined && { service: {} }),
      };
      // A copy: what the backend received stays what it received, whatever the caller does next.
      this.#jobs.set(spec.name, { spec: structuredClone(spec), info, logs: [] });
      options.onCreated?.();
      return copyInfo(info);
    });
  }

  /** One look at the job: its state and, when asked, the bounded tail of its bytes. */
  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const job = await this.#call(() => this.#job(name));
    const info = copyInfo(job.info);
    if (options.logs === undefined || info.status === 'notstarted') return { info, logs: '' };
    // The chunks are read as a stream, as from an engine: a character split across two chunks
    // must come out whole.
    return { info, logs: await collectTail(chunksOf(job.logs), options.logs) };
  }

  async *streamLogs(
    name: string,
    tail?: number,
    options: StreamOptions = {},
  ): AsyncIterable<Uint8Array> {
    const chunks = await this.#call(() => [...this.#job(name).logs]);
    if (tail === undefined) yield* chunks;
    else {
      const text = await collectTail(chunksOf(chunks), { tail, maxBytes: UNLIMITED });
      if (text !== '') yield new TextEncoder().encode(text);
    }
    if (options.follow === true) yield* this.#follow(name, chunks.length, options.signal);
  }

  /** What the job prints after its first `from` chunks, until it is terminal or gone. */
  async *#follow(name: string, from: number, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    let sent = from;
    const stop = (): void => this.#wakeFollowers();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      for (;;) {
        const job = this.#jobs.get(name);
        if (job === undefined || signal?.aborted === true) return;
        // Chunks replaced by a shorter list (a test's finish(logs)) hold nothing new.
        if (job.logs.length < sent) sent = job.logs.length;
        // Read before the chunks: output printed before the end is always sent.
        const terminal = TERMINAL_STATUSES.has(job.info.status);
        const fresh = job.logs.slice(sent);
        sent = job.logs.length;
        yield* fresh;
        if (terminal) return;
        // Anything printed while the reader held the chunks is read again before waiting.
        if (fresh.length > 0) continue;
        // `yield*`, even of nothing, gave way to other tasks: a print or an end in that gap woke
        // nobody, so look again before sleeping.
        const now = this.#jobs.get(name);
        if (now === undefined || now.logs.length > sent || TERMINAL_STATUSES.has(now.info.status))
          continue;
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            this.#followers.delete(wake);
            resolve();
          };
          this.#followers.add(wake);
        });
      }
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  delete(name: string): Promise<void> {
    return this.#call(() => {
      this.#job(name);
      this.#jobs.delete(name);
      this.#wakeFollowers();
    });
  }

  list(): Promise<JobInfo[]> {
    return this.#call(() => [...this.#jobs.values()].map((job) => copyInfo(job.info)));
  }

  /** A job that runs ends as an engine's would after SIGTERM (exit 143); one that ended: no-op. */
  stop(name: string, graceSeconds: number): Promise<void> {
    return this.#call(() => {
      const job = this.#job(name);
      this.stops.push({ name, graceSeconds });
      if (TERMINAL_STATUSES.has(job.info.status)) return;
      this.#move(
        name,
        { status: 'finishedWithError', message: `exited with code ${SIGTERM_EXIT}` },
        undefined,
        SIGTERM_EXIT,
      );
    });
  }

  capacity(): Promise<NodeCapacity[]> {
    return this.#call(() => this.#nodes.map((node) => ({ ...node })));
  }

  ping(): Promise<void> {
    return this.#call(() => undefined);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Every move a test makes (start, finish, oom) is a status change this backend noticed. */
  watchJobs(limits: LogLimits, listener: (snapshot: JobRead) => void): void {
    this.#watch = { limits, listener };
  }

  // Test hooks: the memory backend is the tests' engine -----------------------------------------

  /** notstarted → started / running; `logs` replaces what the job has printed so far. A service
   *  job gets its endpoint, http://127.0.0.1:<its port>, unless setService() gave one. */
  start(name: string, logs?: PrintedLogs): void {
    const job = this.#job(name);
    const port = job.spec.service?.port;
    if (port !== undefined && job.info.service?.endpoint === undefined) {
      job.info = {
        ...job.info,
        service: { ...job.info.service, endpoint: `http://127.0.0.1:${port}` },
      };
    }
    this.#move(name, { status: 'started', message: 'running' }, logs);
  }

  /** A service job's server exited with `exitCode` and the "engine" restarts it: it stays
   *  started, saying so, and counts the restart (issue 15). */
  restart(name: string, exitCode: number): void {
    const job = this.#job(name);
    const restarts = (job.info.service?.restarts ?? 0) + 1;
    job.info = { ...job.info, service: { ...job.info.service, restarts } };
    this.#move(name, {
      status: 'started',
      message: `restarting after exit code ${exitCode} (${restarts} restarts)`,
    });
  }

  /** What the backend says of a service job (endpoint, its own health verdict), merged. */
  setService(name: string, view: ServiceView): void {
    const job = this.#job(name);
    job.info = { ...job.info, service: { ...job.info.service, ...view } };
    if (!TERMINAL_STATUSES.has(job.info.status)) this.#report(job);
  }

  /** → finishedSuccessfully / exited, or finishedWithError / exited with code <n>. */
  finish(name: string, exitCode: number, logs?: PrintedLogs): void {
    const ok = exitCode === 0;
    this.#move(
      name,
      ok
        ? { status: 'finishedSuccessfully', message: 'exited' }
        : { status: 'finishedWithError', message: `exited with code ${exitCode}` },
      logs,
      exitCode,
    );
  }

  /** → finishedWithError / OOMKilled (exit code 137). */
  oom(name: string, logs?: PrintedLogs): void {
    this.#move(
      name,
      { status: 'finishedWithError', message: 'OOMKilled (exit code 137)' },
      logs,
      137,
    );
  }

  /** Removes a job behind our back, as a Kubernetes TTL would. */
  vanish(name: string): void {
    this.#jobs.delete(name);
    this.#wakeFollowers();
  }

  /** The job prints `text` (appended to what it printed; followers get it at once). */
  print(name: string, text: string): void {
    this.#job(name).logs.push(new TextEncoder().encode(text));
    this.#wakeFollowers();
  }

  /** Simulates an unreachable backend: every call throws BackendUnavailableError until cleared. */
  setOutage(reason: string | undefined): void {
    this.#outage = reason;
  }

  /** The spec a job was created with, as received (tests inspect env, mounts, labels). */
  specOf(name: string): JobSpec | undefined {
    return this.#jobs.get(name)?.spec;
  }

  // ---------------------------------------------------------------------------------------------

  #move(
    name: string,
    state: Pick<JobInfo, 'status' | 'message'>,
    logs?: PrintedLogs,
    exitCode?: number,
  ): void {
    const job = this.#job(name);
    const before = job.info;
    job.info = {
      ...job.info,
      ...state,
      timestamp: this.#stamp(),
      ...(exitCode !== undefined && { exitCode }),
    };
    // An ended service's port is gone.
    if (TERMINAL_STATUSES.has(state.status) && job.info.service !== undefined) {
      const { endpoint: _gone, ...rest } = job.info.service;
      job.info.service = rest;
    }
    if (logs !== undefined) job.logs = toChunks(logs);
    // Terminal is final: reported once. A message of its own is a change too (a restart).
    const changed = job.info.status !== before.status || job.info.message !== before.message;
    if (changed && !TERMINAL_STATUSES.has(before.status)) this.#report(job);
    this.#wakeFollowers();
  }

  #wakeFollowers(): void {
    for (const wake of [...this.#followers]) wake();
  }

  /** Hands a status change to the watcher; a terminal one with its log read within the limits. */
  #report(job: MemoryJob): void {
    const watch = this.#watch;
    if (watch === undefined) return;
    const info = copyInfo(job.info);
    if (!TERMINAL_STATUSES.has(info.status)) {
      watch.listener({ info, logs: '' });
      return;
    }
    void collectTail(chunksOf([...job.logs]), watch.limits).then((logs) =>
      watch.listener({ info, logs }),
    );
  }

  #job(name: string): MemoryJob {
    const job = this.#jobs.get(name);
    if (job === undefined) throw new NotFoundError(`job "${name}" not found`);
    return job;
  }

  #stamp(): string {
    return this.#now().toISOString();
  }

  /** Runs a synchronous operation as the async call every backend method is. */
  #call<T>(operation: () => T): Promise<T> {
    if (this.#outage !== undefined) {
      return Promise.reject(
        new BackendUnavailableError(`memory backend unavailable: ${this.#outage}`),
      );
    }
    try {
      return Promise.resolve(operation());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** A fresh JobInfo, so no caller can change the stored one through its command array. */
function copyInfo(info: JobInfo): JobInfo {
  const copy = { ...info, command: [...info.command] };
  if (info.service !== undefined) copy.service = { ...info.service };
  return copy;
}

function toChunks(logs: PrintedLogs): Uint8Array[] {
  if (typeof logs !== 'string') return logs.map((chunk) => chunk.slice());
  const bytes = new TextEncoder().encode(logs);
  return bytes.length > 0 ? [bytes] : [];
}

/** The stored chunks as the byte stream an engine would hand over. */
// eslint-disable-next-line @typescript-eslint/require-await -- nothing to wait for in memory
async function* chunksOf(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* chunks;
}

export function createMemoryBackend(options?: MemoryBackendOptions): Promise<MemoryBackend> {
  return Promise.resolve(new MemoryBackend(options));
}
