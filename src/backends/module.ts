// What a backend folder hands the registry: its CONTAINER_ENV name and aliases, its own settings
// reader, the storage it accepts, its job-name rule, the rules it puts on shared settings, and a
// lazy open(). A module file stays light (no engine or cluster client) so loadConfig stays
// synchronous and a deployment loads only the backend it runs.
import type { EnvReader } from '../config/env-reader.js';
import type { StorageConfig, StorageRules } from '../config/storage.js';
import type { JobNameRule } from '../domain/capabilities.js';
import type { Storage } from '../domain/job.js';
import type { Backend, BackendDeps } from './backend.js';

/** Backend-specific rules on shared settings; the shared reader applies them and words the lines. */
export interface SharedRules {
  /** JOB_LABELS must be Kubernetes label syntax (the API server would refuse every job otherwise). */
  kubernetesLabels?: boolean;
  /** Why CONTAINER_USER is refused here; unset: CONTAINER_USER is allowed. */
  containerUserRefused?: string;
  /** The HOME workaround cannot be turned off (ENABLE_HOME_WORKAROUND=no is ignored, with a warning). */
  homeWorkaroundAlwaysOn?: boolean;
}

/**
 * One backend as the registry sees it. `S` is its settings type; `S['kind']` is its name, so the
 * Config's settings identify their backend (the registry checks that at compile time).
 */
export interface BackendModule<N extends string, S extends { kind: string }> {
  /** The CONTAINER_ENV value (container_env on the wire); also the registry key. */
  readonly name: N;
  /** Other CONTAINER_ENV words that select this backend (podman → docker); the word used is
   *  handed to readSettings. */
  readonly aliases: readonly string[];
  readonly storage: StorageRules;
  /** The rule for job names (api.md §5.3); the backend's Capabilities carry the same rule. */
  readonly jobName: JobNameRule;
  /**
   * Variables only this backend reads: set for another backend, each gets the warning "X does
   * not apply to CONTAINER_ENV=Y and is ignored". Variables that are ambient in many shells
   * (DOCKER_HOST, KUBECONFIG) are left out on purpose: warning about them would be noise.
   */
  readonly ownVariables: readonly string[];
  readonly shared?: SharedRules;
  /** A start-up warning whenever this backend is chosen. */
  readonly notice?: string;
  /** Reads this backend's own variables; problems go to `r`. `as` is the CONTAINER_ENV word used. */
  readSettings(r: EnvReader, as: string): S;
  /** Runs when another backend is chosen: for a value of ours that the chosen one cannot honour
   *  (an error, unlike the ownVariables warning). `chosen` is that backend's name. */
  checkElsewhere?(r: EnvReader, chosen: string): void;
  /** Start-up storage I/O (docker_local_volume → a host path). Without it, loadConfig has
   *  admitted only storage that needs none. */
  resolveStorage?(storage: StorageConfig, settings: S, deps: BackendDeps): Promise<Storage>;
  /** Loads the implementation (a dynamic import) and connects. */
  open(settings: S, deps: BackendDeps): Promise<Backend>;
}
