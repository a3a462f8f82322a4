// The fair queue's caps (issue 13): MAX_RUNNING, MAX_RUNNING_PER_AUID, MAX_GPUS. Unset = unlimited;
// with none set nothing is ever queued and a POST creates its job at once, as before.
import type { QueueCaps } from '../domain/queue-order.js';
import type { EnvReader } from './env-reader.js';

export interface QueueSettings {
  /** The caps in force; empty when none is set. */
  queue: QueueCaps;
}

export function readQueueSettings(r: EnvReader): QueueSettings {
  const maxRunning = r.optionalInt('MAX_RUNNING', { min: 1 });
  const maxRunningPerAuid = r.optionalInt('MAX_RUNNING_PER_AUID', { min: 1 });
  const maxGpus = r.optionalInt('MAX_GPUS', { min: 0 });
  return {
    queue: {
      ...(maxRunning !== undefined && { maxRunning }),
      ...(maxRunningPerAuid !== undefined && { maxRunningPerAuid }),
      ...(maxGpus !== undefined && { maxGpus }),
    },
  };
}
