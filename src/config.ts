// loadConfig(env, overrides): the only reader of the environment; validated as a whole (api.md §14).
// TYPES ARE FIXED HERE; the loader below is implemented by the config work item.
import type { BackendName } from './backends/backend.js';

export type StorageType = 'host' | 'docker_local_volume' | 'kubernetes_pvc';

/** Storage after start-up resolution (a docker_local_volume becomes 'host'). */
export type Storage =
  | { type: 'host'; storeBase: string }
  | { type: 'kubernetes_pvc'; claimName: string };

/** Storage as configured, before start-up I/O. */
export type StorageConfig =
  | { type: 'host'; storeBase: string }
  | { type: 'docker_local_volume'; volumeName?: string; pfconSelector: string }
  | { type: 'kubernetes_pvc'; claimName: string };

/** One side of CONTAINER_USER: a fixed id or an inclusive range (a random value per job). */
export interface IdRange {
  lo: number;
  hi: number;
}

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
  | DockerBackendConfig
  | SwarmBackendConfig
  | KubernetesBackendConfig
  | MemoryBackendConfig;

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
