// CONTAINER_ENV=swarm: its own variables, read from the shared EnvReader. Pure and light (no
// dockerode), so loadConfig stays synchronous.
import type { EnvReader } from '../../config/env-reader.js';
import { readEngine } from '../shared/engine-settings.js';
import type { EngineConnection } from '../shared/engine-settings.js';
import { readInstanceId } from '../../config/instance.js';
import { HARDENING_VARIABLES, readJobHardening } from '../shared/job-hardening.js';
import { readLimitModes } from '../shared/limit-modes.js';
import type { LimitModes } from '../shared/limit-modes.js';
import { DEFAULT_CANCEL_GRACE_SECONDS } from '../../config/control.js';
import type { JobHardening } from '../shared/job-hardening.js';

/**
 * Swarm jobs join this overlay, created at start-up (internal, attachable) when missing. An
 * internal overlay has no gateway on the host and no docker_gwbridge leg: a job has no route to
 * any host port, pman's included, as long as pman's own service is not on it (swarm/stack.yml).
 */
export const SWARM_DEFAULT_JOB_NETWORK = 'pman-jobs';

export interface SwarmBackendConfig {
  kind: 'swarm';
  engine: EngineConnection;
  /** Generic-resource kind nodes advertise for GPUs; undefined → gpu_limit > 0 is refused. */
  gpuResource?: string;
  /** PID limit, capabilities, no-new-privileges and network of every job (issue 10, 9 and 4). */
  hardening: JobHardening;
  /** INSTANCE_ID: the managed-by value becomes `pman-<id>` (shared/labels.ts). */
  instanceId?: string;
  /** MEMORY_LIMIT_MODE and IGNORE_LIMITS (issue 13; pman set no limits on Swarm). */
  limits?: LimitModes;
  /** CANCEL_GRACE_SECONDS, set as each service's StopGracePeriod when it is created: a cancel
   *  scales the service to 0 and Swarm stops the task with the grace its spec carries. */
  stopGraceSeconds?: number;
}

/** Warned about when set for another backend. */
export const SWARM_VARIABLES = ['SWARM_GPU_RESOURCE', ...HARDENING_VARIABLES] as const;

export function readSwarmSettings(r: EnvReader): SwarmBackendConfig {
  const gpuResource = r.string('SWARM_GPU_RESOURCE');
  const instanceId = readInstanceId(r);
  return {
    kind: 'swarm',
    engine: readEngine(r),
    hardening: readJobHardening(r, SWARM_DEFAULT_JOB_NETWORK),
    limits: readLimitModes(r),
    stopGraceSeconds: r.int('CANCEL_GRACE_SECONDS', DEFAULT_CANCEL_GRACE_SECONDS, { min: 0 }),
    ...(instanceId !== undefined && { instanceId }),
    ...(gpuResource !== undefined && { gpuResource }),
  };
}
