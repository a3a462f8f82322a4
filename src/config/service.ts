// Service jobs (issue 15): how long a service may take to pass its health check before the job
// service stops it. The bind address, network and publish mode are each engine backend's own.
import type { EnvReader } from './env-reader.js';

/** SERVICE_START_TIMEOUT_SECONDS default: two minutes for an image to start serving. */
export const DEFAULT_SERVICE_START_TIMEOUT_SECONDS = 120;

export interface ServiceSettings {
  /** SERVICE_START_TIMEOUT_SECONDS: a service not healthy this long after the backend first
   *  reported it is stopped and ends finishedWithError saying why. */
  startTimeoutSeconds: number;
}

export function readServiceSettings(r: EnvReader): ServiceSettings {
  return {
    startTimeoutSeconds: r.int(
      'SERVICE_START_TIMEOUT_SECONDS',
      DEFAULT_SERVICE_START_TIMEOUT_SECONDS,
      { min: 1, max: 86_400 },
    ),
  };
}
