// What this engine can honour of JOB_* hardening in a ServiceSpec (issue 10, 9): capabilities and
// the PID limit need Engine API 1.41, Privileges.NoNewPrivileges 1.46. A setting the engine would
// silently drop is refused at start-up; the unset default of no-new-privileges is a warning.
import { z } from 'zod';
import { ConfigError } from '../../config/errors.js';
import type { JobHardening } from '../shared/job-hardening.js';

const versionSchema = z.object({ ApiVersion: z.string().default('1.0') });

const CAPS_AND_PIDS_API = [1, 41] as const;
const NO_NEW_PRIVILEGES_API = [1, 46] as const;

export interface SwarmHardeningSupport {
  /** Send Privileges.NoNewPrivileges (wanted and honoured). */
  noNewPrivileges: boolean;
  /** Start-up warning: the default no-new-privileges cannot be honoured by this engine. */
  warning?: string;
}

function atLeast(api: string, [major, minor]: readonly [number, number]): boolean {
  const [a = 0, b = 0] = api.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

export function swarmHardeningSupport(h: JobHardening, version: unknown): SwarmHardeningSupport {
  const api = versionSchema.parse(version).ApiVersion;
  const problems: string[] = [];
  const wantsCapsOrPids = h.capDrop.length > 0 || h.capAdd.length > 0 || h.pidsLimit > 0;
  if (wantsCapsOrPids && !atLeast(api, CAPS_AND_PIDS_API)) {
    problems.push(
      `JOB_CAP_DROP, JOB_CAP_ADD, JOB_PIDS_LIMIT: this engine (API ${api}) cannot set them on swarm services (API 1.41 needed); set JOB_CAP_DROP=none, JOB_CAP_ADD=none and JOB_PIDS_LIMIT=0 to run without them`,
    );
  }
  const nnpHonoured = atLeast(api, NO_NEW_PRIVILEGES_API);
  if (h.noNewPrivileges && !nnpHonoured && h.noNewPrivilegesExplicit) {
    problems.push(
      `JOB_NO_NEW_PRIVILEGES: this engine (API ${api}) cannot set no-new-privileges on swarm services (API 1.46 needed, Docker 27)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    noNewPrivileges: h.noNewPrivileges && nnpHonoured,
    ...(h.noNewPrivileges &&
      !nnpHonoured && {
        warning: `swarm jobs run without no-new-privileges: this engine (API ${api}) cannot set it on services (API 1.46 needed); capabilities stay trimmed (JOB_CAP_DROP/JOB_CAP_ADD). Set JOB_NO_NEW_PRIVILEGES=no to silence this`,
      }),
  };
}
