// How Docker and Swarm jobs are confined (issue 10, 9 and 4): a PID limit, no-new-privileges, a
// trimmed capability set and the network they join. Read here once for both engine backends, so
// the two spell the variables, defaults and messages alike. Pure (no dockerode).
import type { EnvReader } from '../../config/env-reader.js';
import type { Parsed } from '../../config/syntax.js';

export interface JobHardening {
  /** JOB_PIDS_LIMIT: most processes (threads count) a job may hold; 0 = no limit. */
  pidsLimit: number;
  /** JOB_NO_NEW_PRIVILEGES: setuid binaries and file capabilities gain nothing in a job. */
  noNewPrivileges: boolean;
  /** Whether JOB_NO_NEW_PRIVILEGES was set explicitly (an engine that cannot honour it refuses). */
  noNewPrivilegesExplicit: boolean;
  /** JOB_CAP_DROP / JOB_CAP_ADD, as `ALL` or `CAP_<NAME>`. */
  capDrop: string[];
  capAdd: string[];
  /** JOB_NETWORK: the network every job joins. */
  network: string;
}

/**
 * What a root plugin needs in pfcon's flow: write into output folders another uid created
 * (DAC_OVERRIDE, FOWNER), hand files to that uid (CHOWN) and run tools that switch user
 * (SETUID, SETGID). Everything else Docker grants by default (NET_RAW, MKNOD, SYS_CHROOT,
 * KILL, AUDIT_WRITE, ...) is dropped.
 */
export const DEFAULT_CAP_ADD = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_SETUID',
  'CAP_SETGID',
];
export const DEFAULT_PIDS_LIMIT = 1024;

/** Variables both engine backends read (warned about when set for another backend). */
export const HARDENING_VARIABLES = [
  'JOB_PIDS_LIMIT',
  'JOB_NO_NEW_PRIVILEGES',
  'JOB_CAP_DROP',
  'JOB_CAP_ADD',
  'JOB_NETWORK',
] as const;

const CAP = /^[A-Z][A-Z0-9_]{0,39}$/;

/** A comma-separated capability list: `ALL`, `NET_RAW` or `CAP_NET_RAW`; empty = none. */
export function parseCapabilities(raw: string): Parsed<string[]> {
  const out: string[] = [];
  for (const word of raw.split(',').map((w) => w.trim().toUpperCase())) {
    if (word === '' || word === 'NONE') continue;
    if (!CAP.test(word))
      return { ok: false, error: `"${word.slice(0, 40)}" is not a capability name` };
    out.push(word === 'ALL' || word.startsWith('CAP_') ? word : `CAP_${word}`);
  }
  return { ok: true, value: [...new Set(out)] };
}

/** A Docker network name (or `none`, `bridge`): what `docker network create` accepts. */
const NETWORK = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function readJobHardening(r: EnvReader, defaultNetwork: string): JobHardening {
  const explicit = r.optionalBool('JOB_NO_NEW_PRIVILEGES');
  const network = r.string('JOB_NETWORK') ?? defaultNetwork;
  if (!NETWORK.test(network)) {
    r.problem('JOB_NETWORK', `"${network.slice(0, 80)}" is not a Docker network name`);
  }
  // An unset list keeps its default; JOB_CAP_ADD= (empty) counts as unset, so "none" says "none".
  const capDrop = r.isSet('JOB_CAP_DROP') ? r.parsed('JOB_CAP_DROP', parseCapabilities) : ['ALL'];
  const capAdd = r.isSet('JOB_CAP_ADD')
    ? r.parsed('JOB_CAP_ADD', parseCapabilities)
    : DEFAULT_CAP_ADD;
  return {
    pidsLimit: r.int('JOB_PIDS_LIMIT', DEFAULT_PIDS_LIMIT, { min: 0, max: 4_194_304 }),
    noNewPrivileges: explicit ?? true,
    noNewPrivilegesExplicit: explicit !== undefined,
    capDrop: capDrop ?? [],
    capAdd: [...(capAdd ?? [])],
    network,
  };
}

/** The defaults, as readJobHardening gives them with nothing set (tests, fakes). */
export function defaultJobHardening(network: string): JobHardening {
  return {
    pidsLimit: DEFAULT_PIDS_LIMIT,
    noNewPrivileges: true,
    noNewPrivilegesExplicit: false,
    capDrop: ['ALL'],
    capAdd: [...DEFAULT_CAP_ADD],
    network,
  };
}
