// loadConfig(env, overrides): the only reader of the environment; validated as a whole (api.md §14).
// TYPES ARE FIXED HERE; the loader below is implemented by the config work item.
import { parseEnv } from 'node:util';
import type { BackendName } from '../backends/backend.js';
import { ConfigError } from './errors.js';
import { warnInapplicable } from './applicability.js';
import { readBackend, readContainerEnv, readStorage } from './backend.js';
import { createEnvReader } from './env-reader.js';
import type { EnvReader } from './env-reader.js';
import { parseContainerUser, parseKeyValues } from './syntax.js';
import { packageVersion } from '../version.js';

export type StorageType = 'host' | 'docker_local_volume' | 'kubernetes_pvc';

export type { IdRange, Storage } from '../domain/job.js';
import type { IdRange } from '../domain/job.js';

/** Storage as configured, before start-up I/O. */
export type StorageConfig =
  | { type: 'host'; storeBase: string }
  | { type: 'docker_local_volume'; volumeName?: string; pfconSelector: string }
  | { type: 'kubernetes_pvc'; claimName: string };

export interface EngineConnection {
  /** DOCKER_HOST, e.g. unix:///var/run/docker.sock or tcp://127.0.0.1:2375; undefined = the local socket. */
  host?: string;
  tlsVerify: boolean;
  certPath?: string;
}

export interface DockerBackendConfig {
  kind: 'docker';
  /** What CONTAINER_ENV said ('podman' is an alias of docker). */
  alias: 'docker' | 'podman';
  engine: EngineConnection;
  ignoreLimits: boolean;
  memoryLimitMode: 'hard' | 'soft';
  imagePullWaitSeconds: number;
  imagePullTimeoutSeconds: number;
}

export interface SwarmBackendConfig {
  kind: 'swarm';
  engine: EngineConnection;
  /** Generic-resource kind nodes advertise for GPUs; undefined → gpu_limit > 0 is refused. */
  gpuResource?: string;
}

export interface Toleration {
  key: string;
  operator: 'Equal' | 'Exists';
  value?: string;
  effect: string;
}

export interface KubernetesBackendConfig {
  kind: 'kubernetes' | 'openshift';
  /** JOB_NAMESPACE; undefined → the kubeconfig context's namespace, else 'default'. */
  namespace?: string;
  /** KUBECONFIG as given (may be a path-delimiter separated list). */
  kubeconfig?: string;
  /** True when KUBERNETES_SERVICE_HOST is set: load the in-cluster service account first. */
  inCluster: boolean;
  nodeSelector: Readonly<Record<string, string>>;
  tolerations: readonly Toleration[];
  imagePullSecrets: readonly string[];
  ttlSecondsAfterFinished: number;
  activeDeadlineSeconds: number;
  pullFailureSeconds: number;
  admissionFailureSeconds: number;
  gpuResourceName: string;
  requestRatio: number;
  runAsNonRoot: boolean;
}

export interface MemoryBackendConfig {
  kind: 'memory';
}

export type BackendConfig =
  DockerBackendConfig | SwarmBackendConfig | KubernetesBackendConfig | MemoryBackendConfig;

export interface AuthConfig {
  enabled: boolean;
  /** --tokenPath / TOKEN_PATH: static tokens file. */
  tokenPath?: string;
  /** SECRET_KEY: HS256 key for JWTs. */
  secretKey?: string;
  /** JWT_PUBLIC_KEY_FILE: PEM public key for RS256/ES256. */
  publicKeyFile?: string;
}

export interface Config {
  mode: 'production' | 'development';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** BUILD_VERSION or package version. */
  serverVersion: string;
  listen: { ip: string; port: number };
  auth: AuthConfig;
  backend: BackendConfig;
  /** container_env on the wire (after alias resolution). */
  containerEnv: BackendName;
  /** storage_type on the wire. */
  storageType: StorageType;
  storage: StorageConfig;
  containerUser?: { uid?: IdRange; gid?: IdRange };
  homeWorkaround: boolean;
  shmMiB?: number;
  jobLabels: Readonly<Record<string, string>>;
  logsTail: number;
  logsMaxBytes: number;
  removeJobs: boolean;
  stateDir?: string;
  backendTimeoutSeconds: number;
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
const DEFAULT_IP = '127.0.0.1';
const DEFAULT_PORT = 5010;

/** Parses a .env file's text (Node's own dotenv dialect: quotes, comments, `export` not needed). */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function readAuth(r: EnvReader, overrides: ConfigOverrides): AuthConfig {
  const enabled = overrides.enableTokenAuth === true || r.bool('ENABLE_TOKEN_AUTH', false);
  const tokenPath = overrides.tokenPath ?? r.string('TOKEN_PATH');
  const secretKey = r.string('SECRET_KEY');
  const publicKeyFile = r.string('JWT_PUBLIC_KEY_FILE');
  if (
    enabled &&
    tokenPath === undefined &&
    secretKey === undefined &&
    publicKeyFile === undefined
  ) {
    r.problem(
      'ENABLE_TOKEN_AUTH',
      'token authentication needs at least one of TOKEN_PATH (--tokenPath), SECRET_KEY or JWT_PUBLIC_KEY_FILE',
    );
  }
  return {
    enabled,
    ...(tokenPath !== undefined && { tokenPath }),
    ...(secretKey !== undefined && { secretKey }),
    ...(publicKeyFile !== undefined && { publicKeyFile }),
  };
}

function readListen(r: EnvReader, overrides: ConfigOverrides): Config['listen'] {
  const ip = overrides.ip ?? DEFAULT_IP;
  if (ip.trim() === '') r.problem('--ip', 'must not be empty');
  const portRange = { min: 0, max: 65_535 };
  const envPort = r.int('PORT', DEFAULT_PORT, portRange);
  const port = overrides.port ?? envPort;
  if (!Number.isInteger(port) || port < portRange.min || port > portRange.max) {
    r.problem('--port', `"${port}" is not a whole number from 0 to 65535`);
  }
  return { ip, port };
}

function readContainerUser(r: EnvReader, backend: BackendName): Config['containerUser'] {
  const user = r.parsed('CONTAINER_USER', parseContainerUser);
  if (user !== undefined && backend === 'openshift') {
    r.problem(
      'CONTAINER_USER',
      'not allowed with CONTAINER_ENV=openshift (the platform assigns each pod a UID); unset it',
    );
    return undefined;
  }
  return user;
}

function readJobLabels(r: EnvReader, backend: BackendName): Record<string, string> {
  const kubernetes = backend === 'kubernetes' || backend === 'openshift';
  const labels = r.parsed('JOB_LABELS', (v) => parseKeyValues(v, { kubernetes })) ?? {};
  for (const key of MANAGED_BY_KEYS) {
    if (key in labels) r.problem('JOB_LABELS', `"${key}" is reserved for our own managed-by label`);
  }
  return labels;
}

/** Our managed-by label keys (list() filters on them, so JOB_LABELS must not override them). */
const MANAGED_BY_KEYS = ['org.chrisproject.managed-by', 'app.kubernetes.io/managed-by'] as const;

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
  const containerEnv = readContainerEnv(r);
  const backend = readBackend(r, containerEnv);
  const { storageType, storage } = readStorage(r, containerEnv.name);
  warnInapplicable(r, containerEnv.name, storageType);
  const homeWorkaround = r.bool('ENABLE_HOME_WORKAROUND', false);
  if (containerEnv.name === 'openshift' && r.isSet('ENABLE_HOME_WORKAROUND') && !homeWorkaround) {
    r.warn('ENABLE_HOME_WORKAROUND=no is ignored: it is always on with CONTAINER_ENV=openshift');
  }
  const containerUser = readContainerUser(r, containerEnv.name);
  const shmMiB = r.optionalInt('SHM_SIZE', { min: 1 });
  const stateDir = r.string('STATE_DIR');
  const config: Config = {
    mode,
    logLevel: overrides.logLevel ?? envLogLevel,
    serverVersion: r.string('BUILD_VERSION') ?? packageVersion(),
    listen: readListen(r, overrides),
    auth: readAuth(r, overrides),
    backend,
    containerEnv: containerEnv.name,
    storageType,
    storage,
    ...(containerUser !== undefined && { containerUser }),
    homeWorkaround: homeWorkaround || containerEnv.name === 'openshift',
    ...(shmMiB !== undefined && { shmMiB }),
    jobLabels: readJobLabels(r, containerEnv.name),
    logsTail: r.int('JOB_LOGS_TAIL', 1000, { min: 0 }),
    logsMaxBytes: r.int('JOB_LOGS_MAX_BYTES', 1_048_576, { min: 0 }),
    removeJobs: r.bool('REMOVE_JOBS', true),
    ...(stateDir !== undefined && { stateDir }),
    backendTimeoutSeconds: r.int('BACKEND_TIMEOUT_SECONDS', 30, { min: 1 }),
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
