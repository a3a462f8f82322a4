// One client's status feed (GET /api/v1/events/): subscribe to the ledger's hub first, replay
// from the store until it has nothing newer, then hand over what the hub buffered, skipping every
// seq already replayed — no gap and no duplicate at the seam. The live buffer is bounded: a client that falls behind is
// dropped (it resumes with Last-Event-ID), and never slows the others or grows the heap.
import type { EventFilter, Ledger, StoreEvent } from '../store/ledger.js';

export interface FeedOptions {
  /** Replay the events after this seq first (absent: live only). */
  since?: number | undefined;
  filter?: EventFilter;
  /** Events buffered for a client that does not read before it is dropped. */
  maxBuffered: number;
  /** Called once when the client fell behind by more than maxBuffered. */
  onOverflow?: () => void;
}

export type FeedItem =
  | { kind: 'reset'; oldest: number | undefined; last: number }
  | { kind: 'status'; event: StoreEvent };

/** Events read from the store per step of a replay (a replay of 100 000 is paced by the client). */
export const REPLAY_PAGE = 1000;

export class FeedOverflowError extends Error {
  constructor(maxBuffered: number) {
    super(`the client fell more than ${maxBuffered} events behind; resume with Last-Event-ID`);
  }
}

export class EventFeed {
  readonly #ledger: Ledger;
  readonly #options: FeedOptions;
  readonly #filter: EventFilter;
  #queue: StoreEvent[] = [];
  #cursor: number;
  #replaying: boolean;
  #reset: FeedItem | undefined;
  #overflowed = false;
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #unsubscribe: () => void;

  constructor(ledger: Ledger, options: FeedOptions) {
    this.#ledger = ledger;
    this.#options = options;
    this.#filter = options.filter ?? {};
    // Subscribed before anything is read from the store: what commits from now on is buffered.
    this.#unsubscribe = ledger.hub.subscribe((event) => this.#onEvent(event));
    if (options.since === undefined) {
      this.#cursor = ledger.hub.lastPublished;
      this.#replaying = false;
    } else {
      this.#cursor = options.since;
      this.#replaying = true;
      const bounds = ledger.eventBounds();
      const oldest = bounds.oldest ?? bounds.last + 1;
      // Events between `since` and the oldest retained are gone, or `since` is from another store.
      if (options.since + 1 < oldest || options.since > bounds.last)
        this.#reset = { kind: 'reset', ...bounds };
    }
  }

  /** The next items, waiting while there are none; [] once closed. FeedOverflowError when dropped. */
  async next(): Promise<FeedItem[]> {
    for (;;) {
      if (this.#overflowed) throw new FeedOverflowError(this.#options.maxBuffered);
      if (this.#closed) return [];
      if (this.#reset !== undefined) {
        const reset = this.#reset;
        this.#reset = undefined;
        return [reset];
      }
      if (this.#replaying) {
        const page = this.#ledger.eventsSince(this.#cursor, REPLAY_PAGE, this.#filter);
        if (page.length > 0) return this.#sent(page);
        this.#replaying = false;
      }
      const cursor = this.#cursor;
      const live = this.#queue.filter((event) => event.seq > cursor);
      this.#queue = [];
      if (live.length > 0) return this.#sent(live);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#unsubscribe();
    this.#wakeUp();
  }

  #sent(events: StoreEvent[]): FeedItem[] {
    this.#cursor = events[events.length - 1]?.seq ?? this.#cursor;
    return events.map((event) => ({ kind: 'status', event }));
  }

  #onEvent(event: StoreEvent): void {
    // While replaying, the store has it (the hub publishes only what committed, synchronously
    // with the commit): the replay reads it, so a long replay buffers nothing.
    if (this.#replaying) {
      this.#wakeUp();
      return;
    }
    if (!matches(event, this.#filter)) return;
    this.#queue.push(event);
    if (this.#queue.length > this.#options.maxBuffered) {
      this.#overflowed = true;
      this.#queue = [];
      this.#unsubscribe();
      this.#options.onOverflow?.();
    }
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function matches(event: StoreEvent, filter: EventFilter): boolean {
  if (filter.runId !== undefined && event.runId !== filter.runId) return false;
  if (filter.jids !== undefined && filter.jids.length > 0 && !filter.jids.includes(event.jid))
    return false;
  if (
    filter.statuses !== undefined &&
    filter.statuses.length > 0 &&
    !filter.statuses.includes(event.status)
  )
    return false;
  return true;
}
