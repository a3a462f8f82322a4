// CONTAINER_ENV=swarm: its own variables, read from the shared EnvReader. Pure and light (no
// dockerode), so loadConfig stays synchronous.
import type { EnvReader } from '../../config/env-reader.js';
import { readEngine } from '../shared/engine-settings.js';
import type { EngineConnection } from '../shared/engine-settings.js';

export interface SwarmBackendConfig {
  kind: 'swarm';
  engine: EngineConnection;
  /** Generic-resource kind nodes advertise for GPUs; undefined → gpu_limit > 0 is refused. */
  gpuResource?: string;
}

/** Warned about when set for another backend. */
export const SWARM_VARIABLES = ['SWARM_GPU_RESOURCE'] as const;

export function readSwarmSettings(r: EnvReader): SwarmBackendConfig {
  const gpuResource = r.string('SWARM_GPU_RESOURCE');
  return {
    kind: 'swarm',
    engine: readEngine(r),
    ...(gpuResource !== undefined && { gpuResource }),
  };
}
