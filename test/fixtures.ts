// Shared test helpers: a full valid Config for the memory backend, sample bodies and specs,
// an app over the MemoryBackend, and a bounded polling helper.
import type { JobRequest } from '../src/domain/spec.js';
import { ValidationError } from '../src/domain/errors.js';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { createApp } from '../src/http/app.js';
import type { AppDeps } from '../src/http/app.js';
import { MemoryBackend } from '../src/backends/memory.js';
import type { Config, Storage } from '../src/config/config.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../src/backends/shared/labels.js';
import type { JobInfo, JobSpec, LogLimits, Mount } from '../src/domain/job.js';
import type { Backend } from '../src/backends/backend.js';
import { Ledger } from '../src/store/ledger.js';

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A complete, valid Config for CONTAINER_ENV=memory; `overrides` replace top-level keys. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    mode: 'production',
    logLevel: 'silent',
    serverVersion: '0.1.0',
    listen: { ip: '127.0.0.1', port: 5010 },
    auth: { enabled: false },
    backend: { kind: 'memory' },
    containerEnv: 'memory',
    storageType: 'host',
    storage: { type: 'host', storeBase: '/var/local/storeBase' },
    homeWorkaround: false,
    jobLabels: {},
    logsTail: 1000,
    logsMaxBytes: 1024 * 1024,
    removeJobs: true,
    stateDir: 'pman-state',
    logArchiveMaxBytes: 64 * 1024 * 1024,
    historyRetentionDays: 30,
    acceptWhileUnavailable: true,
    backendTimeoutSeconds: 30,
    warnings: [],
    ...overrides,
  };
}

export const TEST_STORAGE: Storage = { type: 'host', storeBase: '/var/local/storeBase' };

/** What pfcon 5.2 sends for a `ds` plugin (api.md §5.2); `overrides` replace or add fields. */
export function sampleBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jid: 'chris-jid-42',
    args: ['--saveinputmeta', '--saveoutputmeta', '--prefix', 'hello_'],
    args_path_flags: [],
    auid: 'cube',
    number_of_workers: 1,
    cpu_limit: 1000,
    memory_limit: 200,
    gpu_limit: 0,
    image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
    entrypoint: ['simpledsapp'],
    type: 'ds',
    env: [],
    input_dir: 'key-chris-jid-42/incoming',
    output_dir: 'key-chris-jid-42/outgoing',
    ...overrides,
  };
}

/**
 * The host mounts of sampleSpec(). `outgoingSource` lets a manifest test spell the store base with a
 * trailing slash, which the built bind must not double.
 */
export function sampleHostMounts(outgoingSource = '/var/local/storeBase'): Mount[] {
  return [
    {
      kind: 'host',
      source: '/var/local/storeBase',
      subPath: 'key-chris-jid-42/incoming',
      containerPath: '/share/incoming',
      readOnly: true,
    },
    {
      kind: 'host',
      source: outgoingSource,
      subPath: 'key-chris-jid-42/outgoing',
      containerPath: '/share/outgoing',
      readOnly: false,
    },
  ];
}

/** A JobSpec as toJobSpec would build it for sampleBody(). */
export function sampleSpec(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name: 'chris-jid-42',
    image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
    command: ['simpledsapp', '--prefix', 'hello_', '/share/incoming', '/share/outgoing'],
    env: {},
    resources: { workers: 1, cpuMillicores: 1000, memoryMiB: 200, gpus: 0 },
    mounts: sampleHostMounts(),
    labels: { [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    ...overrides,
  };
}

/** The app as createApp builds it (whatever Hono environment the HTTP layer declares). */
export type TestHono = ReturnType<typeof createApp>;

export interface TestApp {
  app: TestHono;
  backend: MemoryBackend;
  ledger: Ledger;
  config: Config;
}

/** The whole app over a fresh MemoryBackend and an in-memory job store. */
export async function testApp(
  options: { config?: Partial<Config> } & Partial<Omit<AppDeps, 'config'>> = {},
): Promise<TestApp> {
  const { config: configOverrides, ...deps } = options;
  const config = testConfig(configOverrides);
  const backend = deps.backend instanceof MemoryBackend ? deps.backend : new MemoryBackend();
  const ledger = deps.ledger ?? Ledger.inMemory();
  const app = createApp({
    storage: TEST_STORAGE,
    log: silentLogger(),
    ...deps,
    backend,
    ledger,
    config,
  });
  return await Promise.resolve({ app, backend, ledger, config });
}

/** A POST of `body` as JSON to the create route. */
export function postJson(app: TestHono, body: unknown, path = '/api/v1/'): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/**
 * Polls `check` until it returns a value other than undefined, at most `timeoutMs`.
 * Bounded, so a test fails with a message instead of hanging.
 */
export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until `test` holds, polling every 5 ms, for at most 10 s (a deadline, not a count of polls:
 * on a loaded CI machine 400 polls of 5 ms took over 2 s and failed a background admission).
 */
export async function holds(
  test: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  await until(async () => ((await test()) ? true : undefined), { what, intervalMs: 5, timeoutMs });
}

/** A job's status as one read of the backend reports it (the Port's read without logs). */
export async function statusOf(backend: Backend, name: string): Promise<JobInfo> {
  return (await backend.read(name)).info;
}

/** A job's bounded log tail as one read of the backend reports it. */
export async function logsOf(backend: Backend, name: string, limits: LogLimits): Promise<string> {
  return (await backend.read(name, { logs: limits })).logs;
}

/** A validated create request (the domain's JobRequest) for service-level tests. */
export function sampleRequest(overrides: Partial<JobRequest> = {}): JobRequest {
  const jid = overrides.jid ?? 'chris-jid-7';
  return {
    jid,
    args: [],
    argsPathFlags: [],
    auid: 'cube',
    numberOfWorkers: 1,
    cpuLimit: 1000,
    memoryLimit: 200,
    gpuLimit: 0,
    image: 'busybox',
    entrypoint: ['true'],
    type: 'fs',
    inputDir: `key-${jid}/incoming`,
    outputDir: `key-${jid}/outgoing`,
    env: [],
    ...overrides,
  };
}

/** The fields of the ValidationError `fn` throws (fails the test when it throws none). */
export function validationFields(fn: () => unknown): Readonly<Record<string, string>> {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.fields;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

/** A loopback port nothing listens on now (bound once, then freed). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
