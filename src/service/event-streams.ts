// The push routes' service (issue 12): the status feed of GET /api/v1/events/, one run's events
// and log lines (GET /api/v1/<jid>/events/) and a followed log (GET /api/v1/<jid>/logs/?follow=1),
// all driven by the ledger's event hub; the webhooks are not here yet.
import type { Backend } from '../backends/backend.js';
import { NotFoundError } from '../domain/errors.js';
import type { JobStatus } from '../domain/job.js';
import type { Ledger } from '../store/ledger.js';
import { EventFeed } from './event-feed.js';
import { followRun } from './follow-logs.js';
import { jobEvents } from './job-events.js';
import type { JobEventItem } from './job-events.js';
import type { JobService } from './jobs.js';
import { isTerminal } from './run-info.js';

export interface StreamSettings {
  /** Events one client may fall behind by before it is dropped (default 10 000). */
  maxBuffered?: number;
  /** A comment line after this long without a write (default 15 s). */
  heartbeatMs?: number;
}

export const DEFAULT_MAX_BUFFERED = 10_000;
export const DEFAULT_HEARTBEAT_MS = 15_000;

export interface EventStreamsDeps {
  ledger: Ledger;
  backend: Backend;
  jobs: JobService;
}

export interface FeedRequest {
  since?: number | undefined;
  jids: readonly string[];
  statuses: readonly JobStatus[];
}

export class EventStreams {
  readonly #deps: EventStreamsDeps;
  readonly maxBuffered: number;
  readonly heartbeatMs: number;

  constructor(deps: EventStreamsDeps, settings: StreamSettings = {}) {
    this.#deps = deps;
    this.maxBuffered = settings.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.heartbeatMs = settings.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  /** Every run's status events (filtered), replayed after `since`, then live. */
  feed(request: FeedRequest, onOverflow: () => void): EventFeed {
    return new EventFeed(this.#deps.ledger, {
      since: request.since,
      filter: { jids: request.jids, statuses: request.statuses },
      maxBuffered: this.maxBuffered,
      onOverflow,
    });
  }

  /** The jid's latest run (removed by DELETE too): its events and log lines. 404 when none. */
  jobEvents(jid: string, signal: AbortSignal, onOverflow: () => void): AsyncIterable<JobEventItem> {
    const run = this.#deps.ledger.current(jid);
    if (run === undefined) throw new NotFoundError(`job "${jid}" not found`);
    return jobEvents(this.#deps, run, { maxBuffered: this.maxBuffered, signal, onOverflow });
  }

  /**
   * The log, followed while the run is live (until it ends); otherwise (finished, or a job the
   * store does not know) the log route's answer as it is.
   */
  async followLogs(
    jid: string,
    tail: number | undefined,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>> {
    const run = this.#deps.ledger.current(jid);
    if (run === undefined || run.removed !== null || isTerminal(run))
      return this.#deps.jobs.openLogs(jid, tail);
    return followRun(this.#deps, run, tail, signal);
  }
}
