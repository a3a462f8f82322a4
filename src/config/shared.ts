// Readers for the shared settings that need more than one EnvReader call: authentication, the
// listen address, and the settings a backend may put rules on (CONTAINER_USER, the HOME
// workaround, JOB_LABELS syntax), applying those rules as the chosen backend's module states them.
import type { SharedRules } from '../backends/module.js';
import type { IdRange } from '../domain/job.js';
import type { EnvReader } from './env-reader.js';
import { parseContainerUser, parseKeyValues } from './syntax.js';

export interface AuthConfig {
  enabled: boolean;
  /** --tokenPath / TOKEN_PATH: static tokens file. */
  tokenPath?: string;
  /** SECRET_KEY: HS256 key for JWTs. */
  secretKey?: string;
  /** JWT_PUBLIC_KEY_FILE: PEM public key for RS256/ES256. */
  publicKeyFile?: string;
}

export type ContainerUser = { uid?: IdRange; gid?: IdRange };

const DEFAULT_IP = '127.0.0.1';
const DEFAULT_PORT = 5010;

/** Our managed-by label keys (list() filters on them, so JOB_LABELS must not override them). */
const MANAGED_BY_KEYS = ['org.chrisproject.managed-by', 'app.kubernetes.io/managed-by'] as const;

export function readAuth(
  r: EnvReader,
  overrides: { enableTokenAuth?: boolean; tokenPath?: string },
): AuthConfig {
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

export function readListen(
  r: EnvReader,
  overrides: { ip?: string; port?: number },
): { ip: string; port: number } {
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

/** ENABLE_HOME_WORKAROUND, forced on (with a warning when set to no) where the backend needs it. */
export function readHomeWorkaround(r: EnvReader, backend: string, rules: SharedRules): boolean {
  const homeWorkaround = r.bool('ENABLE_HOME_WORKAROUND', false);
  if (rules.homeWorkaroundAlwaysOn !== true) return homeWorkaround;
  if (r.isSet('ENABLE_HOME_WORKAROUND') && !homeWorkaround) {
    r.warn(`ENABLE_HOME_WORKAROUND=no is ignored: it is always on with CONTAINER_ENV=${backend}`);
  }
  return true;
}

export function readContainerUser(
  r: EnvReader,
  backend: string,
  rules: SharedRules,
): ContainerUser | undefined {
  const user = r.parsed('CONTAINER_USER', parseContainerUser);
  if (user !== undefined && rules.containerUserRefused !== undefined) {
    r.problem(
      'CONTAINER_USER',
      `not allowed with CONTAINER_ENV=${backend} (${rules.containerUserRefused}); unset it`,
    );
    return undefined;
  }
  return user;
}

export function readJobLabels(r: EnvReader, rules: SharedRules): Record<string, string> {
  const kubernetes = rules.kubernetesLabels === true;
  const labels = r.parsed('JOB_LABELS', (v) => parseKeyValues(v, { kubernetes })) ?? {};
  for (const key of MANAGED_BY_KEYS) {
    if (key in labels) r.problem('JOB_LABELS', `"${key}" is reserved for our own managed-by label`);
  }
  return labels;
}
