// MEMORY_LIMIT_MODE and IGNORE_LIMITS (issue 13): the same meaning on Docker, Swarm and Kubernetes.
// `hard` (the default) enforces the declared memory as a limit (OOM-killed above it); `soft` only
// reserves it (pman's Docker behaviour: a plugin that under-declares its memory still runs);
// IGNORE_LIMITS=yes sets no CPU or memory limit at all (pman's Swarm behaviour). GPUs always apply.
import type { EnvReader } from '../../config/env-reader.js';

export type MemoryLimitMode = 'hard' | 'soft';

export interface LimitModes {
  ignoreLimits: boolean;
  memoryLimitMode: MemoryLimitMode;
}

export function readLimitModes(r: EnvReader): LimitModes {
  return {
    ignoreLimits: r.bool('IGNORE_LIMITS', false),
    memoryLimitMode: r.oneOf('MEMORY_LIMIT_MODE', ['hard', 'soft'] as const, 'hard'),
  };
}

/** The backends that honour both (others refuse IGNORE_LIMITS=yes at start-up). */
export const LIMIT_MODE_BACKENDS: readonly string[] = [
  'docker',
  'podman',
  'swarm',
  'kubernetes',
  'openshift',
];
