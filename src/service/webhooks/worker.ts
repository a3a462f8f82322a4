// The webhook delivery worker (issue 12): sends the outbox's deliveries, the oldest of each
// target's jid at a time (a jid's next event waits for the previous one's acknowledgement), a few
// jobs in parallel; a failure is retried with backoff until WEBHOOK_MAX_AGE, then dropped and
// counted. Everything it knows is in the store, so a restart resumes with the same event ids.
import type { Logger } from 'pino';
import type { Delivery, Ledger } from '../../store/ledger.js';
import { attemptDelivery } from './attempt.js';
import type { Fetch } from './attempt.js';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffMs } from './backoff.js';

/** Deliveries in flight at most (different jobs or targets). */
export const WEBHOOK_CONCURRENCY = 4;
/** The longest sleep between two looks at the outbox (a safety net: commits wake it anyway). */
const IDLE_MS = 30_000;

export interface WorkerSettings {
  /** WEBHOOK_SECRET. */
  secret: string;
  /** WEBHOOK_TIMEOUT_SECONDS, in ms. */
  timeoutMs: number;
  /** WEBHOOK_MAX_AGE_SECONDS, in ms. */
  maxAgeMs: number;
  concurrency?: number;
  /** Tests shrink the schedule. */
  backoff?: { baseMs: number; maxMs: number };
  now?: () => number;
  fetch?: Fetch;
  log?: Logger;
}

export class WebhookWorker {
  readonly #ledger: Ledger;
  readonly #s: WorkerSettings;
  readonly #now: () => number;
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #pumpQueued = false;
  #unsubscribe: (() => void) | undefined;

  constructor(ledger: Ledger, settings: WorkerSettings) {
    this.#ledger = ledger;
    this.#s = settings;
    this.#now = settings.now ?? Date.now;
  }

  /** Sends what the outbox holds, then each delivery as its event commits. */
  start(): void {
    // Every commit that wrote an event may have queued deliveries: look once per burst.
    this.#unsubscribe = this.#ledger.hub.subscribe(() => this.#wake());
    this.#wake();
  }

  /** Stops sending; an attempt in flight is abandoned (not counted) and re-sent after a restart. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  #wake(): void {
    if (this.#pumpQueued || this.#stop.signal.aborted) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#stop.signal.aborted) return;
    clearTimeout(this.#timer);
    const outbox = this.#ledger.outbox;
    try {
      const cap = this.#s.concurrency ?? WEBHOOK_CONCURRENCY;
      const free = cap - this.#inFlight.size;
      const busy = new Set(this.#inFlight.keys());
      if (free > 0) for (const d of outbox.due(this.#now(), free, busy)) this.#send(d);
      // All lanes busy: each settled delivery wakes us; a timer now would only spin.
      const next =
        this.#inFlight.size >= cap ? undefined : outbox.nextDue(new Set(this.#inFlight.keys()));
      const wait = next === undefined ? IDLE_MS : Math.min(IDLE_MS, next - this.#now());
      this.#timer = setTimeout(() => this.#wake(), Math.max(wait, 0));
    } catch (err) {
      // A store that cannot be read now (disk trouble) is looked at again later.
      this.#s.log?.warn({ err }, 'webhooks: cannot read the outbox');
      this.#timer = setTimeout(() => this.#wake(), IDLE_MS);
    }
  }

  #send(d: Delivery): void {
    const done = this.#deliver(d)
      .catch((err: unknown) => this.#s.log?.warn({ err, seq: d.seq }, 'webhooks: settle failed'))
      .finally(() => {
        this.#inFlight.delete(d.id);
        this.#wake();
      });
    this.#inFlight.set(d.id, done);
  }

  async #deliver(d: Delivery): Promise<void> {
    const outbox = this.#ledger.outbox;
    if (this.#now() - d.queued >= this.#s.maxAgeMs) {
      await outbox.drop(d, 'expired: older than WEBHOOK_MAX_AGE', this.#now());
      return;
    }
    const error = await attemptDelivery(d, {
      secret: this.#s.secret,
      timeoutMs: this.#s.timeoutMs,
      fetch: this.#s.fetch ?? fetch,
      nowSeconds: Math.floor(this.#now() / 1000),
      stop: this.#stop.signal,
    });
    // Stopping: nothing is written (the store may be closing); the delivery stays queued.
    if (this.#stop.signal.aborted) return;
    if (error === undefined) {
      await outbox.acknowledge(d);
      return;
    }
    const now = this.#now();
    const nextAt = now + backoffMs(d.attempts + 1, this.#s.backoff ?? defaultBackoff);
    this.#s.log?.info({ target: d.target, seq: d.seq, error }, 'webhook delivery failed');
    if (nextAt - d.queued > this.#s.maxAgeMs) {
      await outbox.drop(d, `${error}; given up after WEBHOOK_MAX_AGE`, now);
      return;
    }
    await outbox.retry(d, error, now, nextAt);
  }
}

const defaultBackoff = { baseMs: BACKOFF_BASE_MS, maxMs: BACKOFF_MAX_MS };
