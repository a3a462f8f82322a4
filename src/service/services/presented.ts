// What a service job's JobInfo says (issue 15), one pure rule for every answer — a GET, the job
// list, the watch snapshots recorded as events, and the store's own answer for a run (infoOfRun).
// The backend says whether the server runs; the job service says whether it is ready: until its
// health check passed a running service is `notstarted` / `waiting for health check`, and its
// endpoint is shown only once reachable. Once ready it stays `started` while the engine restarts
// it; once ended its port is gone, so is its endpoint.
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobInfo, ServiceView } from '../../domain/job.js';

/** The message of a service the backend runs that has not passed its health check yet. */
export const WAITING_FOR_HEALTH_TEXT = 'waiting for health check';

/** What the presentation needs of the store's service state. */
export interface Readiness {
  /** It passed its health check (once is enough: it stays ready). */
  ready: boolean;
  /** The endpoint the store kept, for an answer whose backend gave none (the store's own). */
  endpoint?: string | undefined;
}

/** The JobInfo of a service job as answered, from the backend's (or the store's) JobInfo. */
export function presentService(info: JobInfo, readiness: Readiness): JobInfo {
  const view: ServiceView = { ...info.service };
  const endpoint = view.endpoint ?? readiness.endpoint;
  delete view.endpoint;
  if (TERMINAL_STATUSES.has(info.status) || info.status === 'undefined') {
    return { ...info, service: view };
  }
  if (readiness.ready) {
    return {
      ...info,
      status: 'started',
      service: endpoint === undefined ? view : { ...view, endpoint },
    };
  }
  if (info.status === 'started') {
    return { ...info, status: 'notstarted', message: WAITING_FOR_HEALTH_TEXT, service: view };
  }
  return { ...info, service: view };
}
