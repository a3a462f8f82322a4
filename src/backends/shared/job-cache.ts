// JobCache: an in-memory copy of our jobs' engine state, kept current by an event stream and full
// resyncs. It only ever answers "here is what the engine last said" or "ask the engine": a miss,
// a stale entry or a down stream always falls back to a direct query, so the view can make an
// answer older by one event's round trip, never wrong, and nothing lives only here (restart-safe).

export interface JobCacheOptions {
  /** A live view older than this since its last full resync is not trusted (milliseconds). */
  maxAgeMs: number;
  /** Monotonic clock in milliseconds; tests inject one. */
  now?: () => number;
}

interface Slot<T> {
  /** Undefined while an event has said the job changed and its re-read has not landed. */
  value: T | undefined;
  /** Bumped by every invalidation; a read started before the bump must not be stored. */
  version: number;
}

/** A point in the view's history: reads started at a ticket may only store what is still current. */
export interface Ticket {
  readonly version: number;
}

export class JobCache<T> {
  readonly #slots = new Map<string, Slot<T>>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  /** Global change counter; every slot's version is a value of it. */
  #clock = 0;
  #live = false;
  #syncedAt: number | undefined;

  constructor(options: JobCacheOptions) {
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? (() => performance.now());
  }

  /** True when the stream is up and the last full resync is recent enough to answer from. */
  get fresh(): boolean {
    return (
      this.#live && this.#syncedAt !== undefined && this.#now() - this.#syncedAt <= this.#maxAgeMs
    );
  }

  get live(): boolean {
    return this.#live;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** The stream broke: answer nothing until it is back and a resync has landed. */
  markDown(): void {
    this.#live = false;
  }

  /** The entry, when the view may answer for it; undefined means "ask the engine". */
  lookup(name: string): T | undefined {
    if (!this.fresh) return undefined;
    return this.#slots.get(name)?.value;
  }

  /** Every settled entry, or undefined when the view may not answer (list falls back too). */
  snapshot(): Map<string, T> | undefined {
    if (!this.fresh) return undefined;
    const out = new Map<string, T>();
    for (const [name, slot] of this.#slots) {
      if (slot.value === undefined) return undefined;
      out.set(name, slot.value);
    }
    return out;
  }

  /**
   * Taken before a read of the engine; store() with it keeps only reads nothing has overtaken.
   * Every ticket is a new point in time, so a read stored while a resync's list was in flight
   * (a job created meanwhile) counts as newer than that list and is not dropped by it.
   */
  ticket(): Ticket {
    return { version: ++this.#clock };
  }

  /** The job changed (an event): stop answering for it until a read after this point lands. */
  invalidate(name: string): void {
    const version = ++this.#clock;
    const slot = this.#slots.get(name);
    if (slot === undefined) this.#slots.set(name, { value: undefined, version });
    else {
      slot.value = undefined;
      slot.version = version;
    }
  }

  /** Stores a read of one job unless the job was invalidated after `ticket` was taken. */
  store(name: string, value: T, ticket: Ticket): void {
    const slot = this.#slots.get(name);
    if (slot !== undefined && slot.version > ticket.version) return;
    this.#slots.set(name, { value, version: ticket.version });
  }

  /** The job is gone from the engine. */
  remove(name: string): void {
    ++this.#clock;
    this.#slots.delete(name);
  }

  /**
   * A full resync read from the engine since `ticket`: entries it holds replace ours unless
   * invalidated meanwhile, jobs it does not hold are dropped (unless they changed meanwhile: a
   * job created during the list), and the view becomes live and fresh.
   */
  replaceAll(entries: ReadonlyMap<string, T>, ticket: Ticket): void {
    for (const [name, slot] of this.#slots) {
      if (!entries.has(name) && slot.version <= ticket.version) this.#slots.delete(name);
    }
    for (const [name, value] of entries) this.store(name, value, ticket);
    this.#live = true;
    this.#syncedAt = this.#now();
  }

  /** Whether the view holds the job at all (settled or not): events about others are ignored. */
  has(name: string): boolean {
    return this.#slots.has(name);
  }

  /** Names the view holds (settled or not), for resyncs that only re-read what changed. */
  names(): string[] {
    return [...this.#slots.keys()];
  }

  /** The settled value regardless of freshness (resync compares it with the engine's list). */
  peek(name: string): T | undefined {
    return this.#slots.get(name)?.value;
  }
}
