// MemoryBackend (api.md §9.4): the reference backend for CONTAINER_ENV=memory, demos and tests.
// Jobs never run; tests move them with start() / finish() / oom().
import { BackendUnavailableError, ConflictError, NotFoundError } from '../domain/errors.js';
import type { JobInfo, JobSpec, LogLimits } from '../domain/job.js';
import { boundLogText } from '../domain/logs.js';
import type { Backend, Capabilities, JobRead, ReadOptions } from './backend.js';

interface MemoryJob {
  spec: JobSpec;
  info: JobInfo;
  logs: string;
}

export const MEMORY_CAPABILITIES: Capabilities = {
  maxWorkers: null,
  gpus: true,
  maxCpuMillicores: null,
  maxMemoryMiB: null,
  runAsUser: true,
  mountKinds: ['host', 'volume'],
  jobName: { pattern: /^[^/]+$/, maxLength: 63, rule: "1-63 characters, none of them '/'" },
};

export interface MemoryBackendOptions {
  /** Clock for timestamps (tests inject one). */
  now?: () => Date;
}

export class MemoryBackend implements Backend {
  readonly name = 'memory' as const;
  readonly capabilities = MEMORY_CAPABILITIES;
  readonly #jobs = new Map<string, MemoryJob>();
  readonly #now: () => Date;
  #outage: string | undefined;

  constructor(options: MemoryBackendOptions = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  create(spec: JobSpec): Promise<JobInfo> {
    return this.#call(() => {
      if (this.#jobs.has(spec.name)) throw new ConflictError(`job "${spec.name}" already exists`);
      const info: JobInfo = {
        name: spec.name,
        image: spec.image,
        command: [...spec.command],
        status: 'notstarted',
        message: 'created',
        timestamp: this.#stamp(),
      };
      this.#jobs.set(spec.name, { spec, info, logs: '' });
      return { ...info };
    });
  }

  async read(name: string, options: ReadOptions = {}): Promise<JobRead> {
    const info = await this.get(name);
    const logs =
      options.logs === undefined || info.status === 'notstarted'
        ? ''
        : await this.logs(name, options.logs);
    return { info, logs };
  }

  get(name: string): Promise<JobInfo> {
    return this.#call(() => ({ ...this.#job(name).info }));
  }

  logs(name: string, limits: LogLimits): Promise<string> {
    return this.#call(() => boundLogText(this.#job(name).logs, limits));
  }

  async *streamLogs(name: string, tail?: number): AsyncIterable<Uint8Array> {
    const text = await this.#call(() => this.#job(name).logs);
    const bounded =
      tail === undefined ? text : boundLogText(text, { tail, maxBytes: Number.MAX_SAFE_INTEGER });
    if (bounded !== '') yield new TextEncoder().encode(bounded);
  }

  delete(name: string): Promise<void> {
    return this.#call(() => {
      this.#job(name);
      this.#jobs.delete(name);
    });
  }

  list(): Promise<JobInfo[]> {
    return this.#call(() => [...this.#jobs.values()].map((job) => ({ ...job.info })));
  }

  ping(): Promise<void> {
    return this.#call(() => undefined);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  // Test hooks ---------------------------------------------------------------------------------

  /** notstarted → started / running; `logs` replaces what the job has printed so far. */
  start(name: string, logs?: string): void {
    const job = this.#job(name);
    job.info = { ...job.info, status: 'started', message: 'running', timestamp: this.#stamp() };
    if (logs !== undefined) job.logs = logs;
  }

  /** → finishedSuccessfully / exited, or finishedWithError / exited with code <n>. */
  finish(name: string, exitCode: number, logs?: string): void {
    const job = this.#job(name);
    const ok = exitCode === 0;
    job.info = {
      ...job.info,
      status: ok ? 'finishedSuccessfully' : 'finishedWithError',
      message: ok ? 'exited' : `exited with code ${exitCode}`,
      timestamp: this.#stamp(),
    };
    if (logs !== undefined) job.logs = logs;
  }

  /** → finishedWithError / OOMKilled (exit code 137). */
  oom(name: string, logs?: string): void {
    const job = this.#job(name);
    job.info = {
      ...job.info,
      status: 'finishedWithError',
      message: 'OOMKilled (exit code 137)',
      timestamp: this.#stamp(),
    };
    if (logs !== undefined) job.logs = logs;
  }

  /** Removes a job behind our back, as a Kubernetes TTL would. */
  vanish(name: string): void {
    this.#jobs.delete(name);
  }

  /** Simulates an unreachable backend: every call throws BackendUnavailableError until cleared. */
  setOutage(reason: string | undefined): void {
    this.#outage = reason;
  }

  /** The spec a job was created with (tests inspect env, mounts, labels). */
  specOf(name: string): JobSpec | undefined {
    return this.#jobs.get(name)?.spec;
  }

  // ---------------------------------------------------------------------------------------------

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

export function createMemoryBackend(options?: MemoryBackendOptions): Promise<MemoryBackend> {
  return Promise.resolve(new MemoryBackend(options));
}
