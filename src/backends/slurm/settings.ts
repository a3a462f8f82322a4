// CONTAINER_ENV=slurm: its own variables, read from the shared EnvReader. Pure and light (no I/O:
// SLURM_JWT_FILE is read when the backend talks to slurmrestd, so a rotated token is picked up).
import type { EnvReader } from '../../config/env-reader.js';
import { readInstanceId } from '../../config/instance.js';

/** How the batch script runs the image on the node. */
export const SLURM_RUNTIMES = ['docker', 'podman', 'apptainer', 'singularity'] as const;
export type SlurmRuntime = (typeof SLURM_RUNTIMES)[number];

/** The OpenAPI plugin versions whose shapes this backend reads (the 22.05 one first). */
export const SLURM_API_VERSIONS = ['v0.0.38'] as const;
export type SlurmApiVersion = (typeof SLURM_API_VERSIONS)[number];

/** Where slurmrestd listens: TCP (http://host:port) or a unix socket. */
export type SlurmEndpoint = { kind: 'tcp'; base: URL } | { kind: 'unix'; socketPath: string };

export type SlurmToken = { kind: 'value'; token: string } | { kind: 'file'; path: string };

export interface SlurmBackendConfig {
  kind: 'slurm';
  endpoint: SlurmEndpoint;
  token: SlurmToken;
  /** X-SLURM-USER-NAME: the user the jobs run as (slurmrestd refuses tokens for root). */
  user: string;
  apiVersion: SlurmApiVersion;
  partition?: string;
  account?: string;
  runtime: SlurmRuntime;
  /** Where job output goes; on a filesystem shared by the nodes and this server. */
  logDir: string;
  /** Seconds between two reads of the job list (slurmrestd has no watch). */
  pollSeconds: number;
  /** INSTANCE_ID: the managed-by marker becomes `pman-<id>`. */
  instanceId?: string;
}

/** Warned about when set for another backend. */
export const SLURM_VARIABLES = [
  'SLURM_URL',
  'SLURM_JWT',
  'SLURM_JWT_FILE',
  'SLURM_USER',
  'SLURM_API_VERSION',
  'SLURM_PARTITION',
  'SLURM_ACCOUNT',
  'SLURM_CONTAINER_RUNTIME',
  'SLURM_LOG_DIR',
  'SLURM_POLL_SECONDS',
] as const;

/** Placeholders keep the config typed while the problems list already says what to fix. */
const PLACEHOLDER_URL = 'http://127.0.0.1:6820';

export function parseSlurmUrl(value: string): SlurmEndpoint | string {
  if (value.startsWith('unix:')) {
    const socketPath = value.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (!socketPath.startsWith('/')) return `"${value}" is not unix:/absolute/path`;
    return { kind: 'unix', socketPath };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL (http://host:port or unix:/path/to/socket)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `"${value}" must start with http://, https:// or unix:`;
  }
  if (url.search !== '' || url.hash !== '') return `"${value}" must not carry a query or fragment`;
  return { kind: 'tcp', base: url };
}

/** '/a/b//' → '/a/b' ('/' stays '/'); a loop, not a regex (no backtracking on long inputs). */
export function withoutTrailingSlashes(p: string): string {
  let end = p.length;
  while (end > 1 && p[end - 1] === '/') end--;
  return p.slice(0, end);
}

/** What an HTTP header value can carry (a JWT is base64url parts and dots). */
export const TOKEN = /^[\x21-\x7e]+$/;

/** Slurm user names: what useradd accepts (no spaces, no ':' that would break a header). */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

export function readSlurmSettings(r: EnvReader): SlurmBackendConfig {
  const urlText = r.string('SLURM_URL');
  let endpoint: SlurmEndpoint = { kind: 'tcp', base: new URL(PLACEHOLDER_URL) };
  if (urlText === undefined) {
    r.problem(
      'SLURM_URL',
      'is required with CONTAINER_ENV=slurm (slurmrestd: http://host:port or unix:/path)',
    );
  } else {
    const parsed = parseSlurmUrl(urlText);
    if (typeof parsed === 'string') r.problem('SLURM_URL', parsed);
    else endpoint = parsed;
  }
  const jwt = r.string('SLURM_JWT');
  const jwtFile = r.string('SLURM_JWT_FILE');
  let token: SlurmToken = { kind: 'value', token: '' };
  if (jwt !== undefined && jwtFile !== undefined) {
    r.problem('SLURM_JWT_FILE', 'set SLURM_JWT or SLURM_JWT_FILE, not both');
  } else if (jwtFile !== undefined) {
    if (!jwtFile.startsWith('/'))
      r.problem('SLURM_JWT_FILE', `"${jwtFile}" is not an absolute path`);
    token = { kind: 'file', path: jwtFile };
  } else if (jwt !== undefined) {
    // `scontrol token` prints SLURM_JWT=<token>: a pasted line works as the file's does.
    const value = jwt.replace(/^SLURM_JWT=/, '');
    if (!TOKEN.test(value)) {
      r.problem(
        'SLURM_JWT',
        'is not a token: printable ASCII without spaces (it is sent as a header)',
      );
    }
    token = { kind: 'value', token: value };
  } else {
    r.problem(
      'SLURM_JWT',
      'is required with CONTAINER_ENV=slurm (or SLURM_JWT_FILE): a token from `scontrol token`',
    );
  }
  const user = r.string('SLURM_USER') ?? '';
  if (user === '') {
    r.problem('SLURM_USER', 'is required with CONTAINER_ENV=slurm: the user the token is for');
  } else if (!USER_NAME.test(user)) {
    r.problem('SLURM_USER', `"${user}" is not a user name`);
  } else if (user === 'root') {
    r.problem('SLURM_USER', 'must not be root: slurmrestd refuses tokens for root');
  }
  const logDir = r.string('SLURM_LOG_DIR') ?? '/var/log/pman-slurm';
  if (!logDir.startsWith('/')) r.problem('SLURM_LOG_DIR', `"${logDir}" is not an absolute path`);
  // Slurm expands %-patterns (%j, %x …) in the output file's name: the log would go elsewhere.
  if (logDir.includes('%')) r.problem('SLURM_LOG_DIR', `"${logDir}" must not hold '%'`);
  if (!r.isSet('SLURM_LOG_DIR')) {
    r.problem(
      'SLURM_LOG_DIR',
      'is required with CONTAINER_ENV=slurm: a directory on the filesystem the nodes share with this server',
    );
  }
  const partition = r.string('SLURM_PARTITION');
  const account = r.string('SLURM_ACCOUNT');
  const instanceId = readInstanceId(r);
  return {
    kind: 'slurm',
    endpoint,
    token,
    user,
    apiVersion: r.oneOf('SLURM_API_VERSION', SLURM_API_VERSIONS, 'v0.0.38'),
    runtime: r.oneOf('SLURM_CONTAINER_RUNTIME', SLURM_RUNTIMES, 'docker'),
    logDir: withoutTrailingSlashes(logDir),
    pollSeconds: r.int('SLURM_POLL_SECONDS', 2, { min: 1, max: 300 }),
    ...(partition !== undefined && { partition }),
    ...(account !== undefined && { account }),
    ...(instanceId !== undefined && { instanceId }),
  };
}
