// The server's Prometheus metrics (issue 14, GET /metrics): one prom-client Registry per app, never
// the library's global one, so every app a test builds has its own and none collide. Job counts
// come from the store's event log, read on from where the last scrape stopped (not counters
// scattered over the flows, and no live subscriber: the ledger publishes to its hub only while an
// event stream listens); the gauges are read from the store when scraped. Label values are
// bounded sets: never a jid.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  BackendRefusedError,
  BackendUnavailableError,
  ConflictError,
  DirectoryError,
  InvalidSpecError,
  NotFoundError,
  UnsupportedError,
} from '../domain/errors.js';
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { Ledger, StoreEvent } from '../store/ledger.js';

/** Events read per query when a scrape catches up with the event log. */
const EVENT_BATCH = 1000;

/** Seconds: fast answers from the store up to a slow engine call or a long pull. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BACKEND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The `error` label of a failed engine call: the domain error's kind, a fixed set. */
export type ErrorKind = 'not_found' | 'conflict' | 'unavailable' | 'refused' | 'other';

export function errorKind(err: unknown): ErrorKind {
  if (err instanceof NotFoundError) return 'not_found';
  if (err instanceof ConflictError) return 'conflict';
  if (err instanceof BackendUnavailableError) return 'unavailable';
  if (
    err instanceof InvalidSpecError ||
    err instanceof BackendRefusedError ||
    err instanceof UnsupportedError ||
    err instanceof DirectoryError
  )
    return 'refused';
  return 'other';
}

/** The methods the metered backend times (the Port's calls; watchJobs and close are not calls). */
export const BACKEND_OPERATIONS = [
  'create',
  'read',
  'streamLogs',
  'delete',
  'list',
  'ping',
  'resume',
  'stop',
  'capacity',
  'images',
] as const;
export type BackendOperation = (typeof BACKEND_OPERATIONS)[number];

/** Methods as the `method` label: what Node's parser accepts is bounded, but keep it small. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The `route` label of a request no route matched (404, 308, a refused Host). */
export const UNMATCHED_ROUTE = 'unmatched';

export interface MetricsOptions {
  /** CONTAINER_ENV: the `backend` label. */
  backend: string;
  ledger: Ledger;
  /** Node's process metrics (CPU, memory, event loop, GC): on in the server, off in tests. */
  processDefaults?: boolean;
  /** Runs waiting for their turn; default: the store's queue (issue 13, MAX_RUNNING and co). */
  queued?: () => number;
  now?: () => number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #backend: string;
  readonly #now: () => number;
  readonly #ledger: Ledger;
  readonly #queued: () => number;
  /** The highest run id seen: a run's first event is the first of an id above it (ids only grow). */
  #lastRunId: number;
  /** The last event counted (seq). */
  #cursor: number;
  /** When the backend last answered a read or list, or its watch reported (ms); ping excluded. */
  #lastView: number | undefined;
  #probe: (() => Promise<boolean>) | undefined;

  readonly #requests: Histogram<'method' | 'route' | 'status'>;
  readonly #created: Counter<'backend'>;
  readonly #finished: Counter<'backend' | 'status'>;
  readonly #createFailed: Counter<'backend' | 'reason'>;
  readonly #calls: Histogram<'backend' | 'operation' | 'outcome'>;
  readonly #callErrors: Counter<'backend' | 'operation' | 'error'>;
  readonly #streams: Gauge<'route'>;

  constructor(options: MetricsOptions) {
    this.#backend = options.backend;
    this.#ledger = options.ledger;
    this.#now = options.now ?? Date.now;
    this.#queued = options.queued ?? (() => options.ledger.queue.entries().length);
    const registers = [this.registry];
    if (options.processDefaults === true) collectDefaultMetrics({ register: this.registry });
    this.#requests = new Histogram({
      name: 'pman_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status code: time to the response headers',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.#created = new Counter({
      name: 'pman_jobs_created_total',
      help: 'Runs recorded in the job store (accepted by a POST, or adopted from the engine)',
      labelNames: ['backend'],
      registers,
      // Synchronous, and registered before pman_jobs_finished_total: both are current when read.
      collect: () => this.#catchUp(),
    });
    this.#finished = new Counter({
      name: 'pman_jobs_finished_total',
      help: 'Runs that reached a final status, by status',
      labelNames: ['backend', 'status'],
      registers,
    });
    this.#createFailed = new Counter({
      name: 'pman_jobs_create_failed_total',
      help: 'Engine creates that failed, by reason (unavailable: the run waits for the engine)',
      labelNames: ['backend', 'reason'],
      registers,
    });
    this.#calls = new Histogram({
      name: 'pman_backend_call_duration_seconds',
      help: 'Engine/API calls of the backend by operation and outcome (streamLogs: until it opens)',
      labelNames: ['backend', 'operation', 'outcome'],
      buckets: BACKEND_BUCKETS,
      registers,
    });
    this.#callErrors = new Counter({
      name: 'pman_backend_call_errors_total',
      help: 'Failed engine/API calls of the backend by operation and error kind',
      labelNames: ['backend', 'operation', 'error'],
      registers,
    });
    this.#streams = new Gauge({
      name: 'pman_event_stream_clients',
      help: 'Open event streams and followed logs, by route template',
      labelNames: ['route'],
      registers,
    });
    // Zero from the start, so a rate() over the first job is not lost.
    this.#created.inc({ backend: this.#backend }, 0);
    for (const status of TERMINAL_STATUSES)
      this.#finished.inc({ backend: this.#backend, status }, 0);
    this.#storeGauges(registers);
    this.#backendGauges(registers);
    // Where the store stands now: only what happens after this start is counted.
    this.#lastRunId = options.ledger.history({ limit: 1 }).runs[0]?.id ?? 0;
    this.#cursor = options.ledger.eventBounds().last;
  }

  /** The scrape in Prometheus' text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Sets how backend_up is measured at each scrape (the metered backend's ping). */
  probeWith(probe: () => Promise<boolean>): void {
    this.#probe = probe;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : 'other';
    this.#requests.observe({ method: m, route, status: String(status) }, seconds);
  }

  /** One more open stream on `route` (a template); call the result once when it closes. */
  streamOpened(route: string): () => void {
    this.#streams.inc({ route });
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.#streams.dec({ route });
    };
  }

  backendCall(operation: BackendOperation, seconds: number, err?: unknown): void {
    const labels = { backend: this.#backend, operation };
    this.#calls.observe({ ...labels, outcome: err === undefined ? 'ok' : 'error' }, seconds);
    if (err === undefined) {
      if (operation === 'read' || operation === 'list') this.viewRefreshed();
      return;
    }
    this.backendFailed(operation, err);
  }

  /** A call that failed after its duration was taken (a log stream broken while streaming). */
  backendFailed(operation: BackendOperation, err: unknown): void {
    const kind = errorKind(err);
    this.#callErrors.inc({ backend: this.#backend, operation, error: kind });
    if (operation === 'create') this.#createFailed.inc({ backend: this.#backend, reason: kind });
  }

  /**
   * A create that failed after the backend had answered it (Docker: the image pull or the start it
   * finishes in the background): the engine refused the job, though the call itself succeeded.
   */
  createFailedLater(): void {
    this.#createFailed.inc({ backend: this.#backend, reason: 'refused' });
  }

  /** The backend's view of its jobs is current as of now (a read, a list, a watch report). */
  viewRefreshed(): void {
    this.#lastView = this.#now();
  }

  /** Nothing to release today (the store is read at scrape time); kept for the server's drain. */
  close(): void {
    this.#probe = undefined;
  }

  /** Counts the events written since the last scrape. */
  #catchUp(): void {
    for (;;) {
      const events = this.#ledger.eventsSince(this.#cursor, EVENT_BATCH);
      for (const event of events) this.#count(event);
      const last = events.at(-1);
      if (last !== undefined) this.#cursor = last.seq;
      if (events.length < EVENT_BATCH) return;
    }
  }

  #count(event: StoreEvent): void {
    if (event.runId > this.#lastRunId) {
      this.#lastRunId = event.runId;
      this.#created.inc({ backend: this.#backend });
    }
    if (TERMINAL_STATUSES.has(event.status))
      this.#finished.inc({ backend: this.#backend, status: event.status });
  }

  /** Gauges read from the store at each scrape. */
  #storeGauges(registers: Registry[]): void {
    const backend = this.#backend;
    const running = new Gauge({
      name: 'pman_jobs_running',
      help: 'Runs accepted, not finished nor removed, and not waiting in the queue',
      labelNames: ['backend'],
      registers,
      collect: () => {
        const queued = this.#queued();
        running.set({ backend }, Math.max(0, this.#ledger.active().length - queued));
        queuedGauge.set({ backend }, queued);
      },
    });
    const queuedGauge = new Gauge({
      name: 'pman_jobs_queued',
      help: 'Runs waiting in the queue for their turn (MAX_RUNNING and co, a retry backoff)',
      labelNames: ['backend'],
      registers,
    });
    const pending = new Gauge({
      name: 'pman_webhook_outbox_pending',
      help: 'Webhook deliveries queued and not yet acknowledged or dropped',
      registers,
      collect: () => {
        const targets = this.#ledger.outbox.status();
        pending.set(targets.reduce((sum, t) => sum + t.pending, 0));
        const oldest = Math.min(...targets.map((t) => t.oldestQueued ?? Infinity));
        oldestAge.set(Number.isFinite(oldest) ? Math.max(0, (this.#now() - oldest) / 1000) : 0);
      },
    });
    const oldestAge = new Gauge({
      name: 'pman_webhook_outbox_oldest_age_seconds',
      help: 'Age of the oldest pending webhook delivery (0 when none is pending)',
      registers,
    });
  }

  /** backend_up (a ping at each scrape) and the age of the backend's view of its jobs. */
  #backendGauges(registers: Registry[]): void {
    const backend = this.#backend;
    const up = new Gauge({
      name: 'pman_backend_up',
      help: 'Whether the backend answered a ping at this scrape (1) or not (0)',
      labelNames: ['backend'],
      registers,
      collect: async () => {
        if (this.#probe === undefined) return;
        up.set({ backend }, (await this.#probe()) ? 1 : 0);
      },
    });
    const age = new Gauge({
      name: 'pman_backend_view_age_seconds',
      help: 'Seconds since the backend last answered a read or list or its watch reported a job',
      labelNames: ['backend'],
      registers,
      collect: () => {
        age.reset();
        if (this.#lastView !== undefined)
          age.set({ backend }, Math.max(0, (this.#now() - this.#lastView) / 1000));
      },
    });
  }
}
