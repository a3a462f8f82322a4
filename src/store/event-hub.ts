// The live side of the event log: after a group commit that wrote events, the Ledger hands them to
// the in-process subscribers here, strictly in seq order (the SSE routes follow runs through it).
import type { JobStatus } from '../domain/job.js';

/** One status change of a run, as the events table keeps it. */
export interface StoreEvent {
  seq: number;
  runId: number;
  jid: string;
  /** The run's number among the runs of its jid. */
  run: number;
  status: JobStatus;
  message: string;
  /** When it was written (ms since the epoch). */
  at: number;
}

export type EventListener = (event: StoreEvent) => void;

export class EventHub {
  readonly #listeners = new Set<EventListener>();
  #last = 0;

  /** The highest seq published so far (0 before any). */
  get lastPublished(): number {
    return this.#last;
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Every event published from now on, in seq order; call the returned function to stop. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Called by the Ledger only, with committed events in seq order; a seq seen already is skipped. */
  publish(events: readonly StoreEvent[]): void {
    for (const event of events) {
      if (event.seq <= this.#last) continue;
      this.#last = event.seq;
      // A copy of the set: a listener may unsubscribe (or another subscribe) while we iterate.
      for (const listener of [...this.#listeners]) listener(event);
    }
  }

  /** The seq the hub starts after (the store's last at open): nothing older is published. */
  startAfter(seq: number): void {
    this.#last = Math.max(this.#last, seq);
  }
}
