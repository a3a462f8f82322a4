// loadConfig(env, overrides): the only reader of the environment; validated as a whole (api.md §14).
// The shared settings are read here; the chosen backend's module (src/backends/registry.ts) reads
// its own and states its rules on the shared ones.
import { parseEnv } from 'node:util';
import type { BackendName, BackendSettings, SettingsOf } from '../backends/registry.js';
import { packageVersion } from '../version.js';
import { warnInapplicable } from './applicability.js';
import { readAuthSettings } from './auth.js';
import type { AuthSettings } from './auth.js';
import { chooseBackend, readBackendSettings } from './backend.js';
import { createEnvReader } from './env-reader.js';
import { ConfigError } from './errors.js';
import { readImageAllowlist, readSkipStoreBaseCheck } from './job-guards.js';
import { readHttpServer } from './listen.js';
import type { HttpServerSettings } from './listen.js';
import { readContainerUser, readHomeWorkaround, readJobLabels, readListen } from './shared.js';
import type { ContainerUser } from './shared.js';
import { readStorage } from './storage.js';
import type { StorageConfig, StorageType } from './storage.js';
import { readLedgerSettings } from './ledger.js';
import { readControlSettings } from './control.js';
import type { ControlSettings } from './control.js';
import { readServiceSettings } from './service.js';
import type { ServiceSettings } from './service.js';
import { readQueueSettings } from './queue.js';
import type { QueueCaps } from '../domain/queue-order.js';
import { readWebhookSettings } from './webhooks.js';
import { readSubmitSettings } from './submit.js';
import type { SubmitSettings } from './submit.js';
import { readMetricsSettings } from './metrics.js';
import type { MetricsSettings } from './metrics.js';
import type { WebhookSettings } from './webhooks.js';

export type { IdRange, Storage } from '../domain/job.js';
export type { AuthConfig } from './shared.js';
export type { StorageConfig, StorageType } from './storage.js';
export type { BackendName, BackendSettings } from '../backends/registry.js';

// Transition aliases for callers not yet moved to the backends' own settings files; derived from
// the registry, so nothing here names a backend's module.
/** @deprecated import from src/backends/docker/settings.ts */
export type DockerBackendConfig = SettingsOf<'docker'>;
/** @deprecated import from src/backends/swarm/settings.ts */
export type SwarmBackendConfig = SettingsOf<'swarm'>;
/** @deprecated import from src/backends/kubernetes/settings.ts */
export type KubernetesBackendConfig = SettingsOf<'kubernetes' | 'openshift'>;

export interface Config {
  mode: 'production' | 'development';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** BUILD_VERSION or package version. */
  serverVersion: string;
  listen: { ip: string; port: number };
  auth: AuthSettings;
  /** Host check, timeouts, connection cap, TLS (src/config/listen.ts); absent = the defaults. */
  http?: HttpServerSettings;
  /** The chosen backend's own settings, as its module read them; `kind` is its name. */
  backend: BackendSettings;
  /** container_env on the wire (after alias resolution); the same as backend.kind. */
  containerEnv: BackendName;
  /** storage_type on the wire. */
  storageType: StorageType;
  storage: StorageConfig;
  containerUser?: ContainerUser;
  homeWorkaround: boolean;
  shmMiB?: number;
  jobLabels: Readonly<Record<string, string>>;
  logsTail: number;
  logsMaxBytes: number;
  removeJobs: boolean;
  /** STATE_DIR and the rest of the job ledger's settings (src/config/ledger.ts). */
  stateDir: string;
  logArchiveMaxBytes: number;
  historyRetentionDays: number;
  historyMaxBytes?: number;
  acceptWhileUnavailable: boolean;
  /** WEBHOOK_URL, WEBHOOK_SECRET and the rest (src/config/webhooks.ts); absent in tests = none. */
  webhooks?: WebhookSettings;
  /** METRICS_TOKEN (src/config/metrics.ts); absent in tests = GET /metrics open. */
  metrics?: MetricsSettings;
  /** MAX_CONCURRENT_CREATES: creates in flight at most (429 beyond); unset = the service's default. */
  maxConcurrentCreates?: number;
  /** MAX_WAITING_CREATES: creates waiting for a slot at most (429 beyond); unset = the default. */
  maxWaitingCreates?: number;
  backendTimeoutSeconds: number;
  /** IMAGE_ALLOWLIST's normalized patterns (src/config/job-guards.ts); absent = any image. */
  imageAllowlist?: readonly string[];
  /** INSECURE_SKIP_STOREBASE_CHECK=yes: start although a host-bind storeBase is invisible. */
  insecureSkipStoreBaseCheck?: boolean;
  /** CANCEL_GRACE_SECONDS and JOB_DEADLINE_SECONDS (src/config/control.ts); absent = defaults. */
  control?: ControlSettings;
  /** MAX_RUNNING, MAX_RUNNING_PER_AUID, MAX_GPUS (src/config/queue.ts); absent or empty = none. */
  queue?: QueueCaps;
  /** EXISTING_JOB and IDEMPOTENCY_TTL_SECONDS (src/config/submit.ts); absent = the defaults. */
  submit?: SubmitSettings;
  /** SERVICE_START_TIMEOUT_SECONDS (src/config/service.ts, issue 15); absent = the default. */
  service?: ServiceSettings;
  /** Non-fatal notes to log at start-up (unsupported pman variables, options that do not apply). */
  warnings: readonly string[];
}

/** Values the CLI may override (flags win over the environment). */
export interface ConfigOverrides {
  ip?: string;
  port?: number;
  enableTokenAuth?: boolean;
  tokenPath?: string;
  logLevel?: Config['logLevel'];
}

// ---------------------------------------------------------------------------------------------
// The loader. Pure apart from reading our own package.json version once (no environment access:
// the caller passes the environment object in).

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const APPLICATION_MODES = ['production', 'development', 'dev'] as const;

/** Parses a .env file's text (Node's own dotenv dialect: quotes, comments, `export` not needed). */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * Validates the environment as a whole (api.md §14) and returns a frozen Config, or throws one
 * ConfigError listing every problem, one line each naming the variable and what is allowed.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  overrides: ConfigOverrides = {},
): Config {
  const r = createEnvReader(env);
  const modeWord = r.oneOf('APPLICATION_MODE', APPLICATION_MODES, 'production');
  const mode = modeWord === 'production' ? 'production' : 'development';
  const envLogLevel = r.oneOf('LOG_LEVEL', LOG_LEVELS, mode === 'development' ? 'debug' : 'info');
  const choice = chooseBackend(r);
  const { name, storage: storageRules, shared: rules = {} } = choice.module;
  const backend = readBackendSettings(r, choice);
  const { storageType, storage } = readStorage(r, name, storageRules);
  warnInapplicable(r, choice.module, storageType);
  const homeWorkaround = readHomeWorkaround(r, name, rules);
  const containerUser = readContainerUser(r, name, rules);
  const shmMiB = r.optionalInt('SHM_SIZE', { min: 1 });
  const ledger = readLedgerSettings(r);
  const maxConcurrentCreates = r.optionalInt('MAX_CONCURRENT_CREATES', { min: 1 });
  const maxWaitingCreates = r.optionalInt('MAX_WAITING_CREATES', { min: 0 });
  const imageAllowlist = readImageAllowlist(r);
  const config: Config = {
    mode,
    logLevel: overrides.logLevel ?? envLogLevel,
    serverVersion: r.string('BUILD_VERSION') ?? packageVersion(),
    listen: readListen(r, overrides),
    auth: readAuthSettings(r, overrides),
    http: readHttpServer(r),
    backend,
    containerEnv: name,
    storageType,
    storage,
    ...(containerUser !== undefined && { containerUser }),
    homeWorkaround,
    ...(shmMiB !== undefined && { shmMiB }),
    jobLabels: readJobLabels(r, rules),
    logsTail: r.int('JOB_LOGS_TAIL', 1000, { min: 0 }),
    logsMaxBytes: r.int('JOB_LOGS_MAX_BYTES', 1_048_576, { min: 0 }),
    removeJobs: r.bool('REMOVE_JOBS', true),
    ...ledger,
    webhooks: readWebhookSettings(r),
    metrics: readMetricsSettings(r),
    ...(maxConcurrentCreates !== undefined && { maxConcurrentCreates }),
    ...(maxWaitingCreates !== undefined && { maxWaitingCreates }),
    backendTimeoutSeconds: r.int('BACKEND_TIMEOUT_SECONDS', 30, { min: 1 }),
    ...(imageAllowlist !== undefined && { imageAllowlist }),
    ...(readSkipStoreBaseCheck(r) && { insecureSkipStoreBaseCheck: true }),
    control: readControlSettings(r),
    ...readQueueSettings(r),
    submit: readSubmitSettings(r),
    service: readServiceSettings(r),
    warnings: [...r.warnings],
  };
  if (r.problems.length > 0) throw new ConfigError([...r.problems]);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
