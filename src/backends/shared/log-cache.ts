// A short-TTL, single-flight cache of log tails for running jobs. CUBE polls every job's status
// every few seconds and each GET /api/v1/<jid>/ carries the log tail: without this, every poll
// opens one engine log stream and that caps throughput. Concurrent GETs of one job share one read,
// and a read is reused for ttlMs (1 s: far below CUBE's poll interval). Backends bypass it for
// terminal jobs (their logs are pinned once, complete) and drop a job's entry on its events.

/** Job names never hold a NUL, so "a" can never match the entries of "a-1". */
const SEPARATOR = '\u0000';

interface Entry {
  text: Promise<string>;
  /** When the read settled (ms, monotonic); undefined while in flight. */
  settledAt: number | undefined;
}

export class LogCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number = () => performance.now()) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The cached tail of `name` read with `variant` (the limits) when younger than the TTL, else
   *  `read()`, shared by every caller while in flight. */
  get(name: string, variant: string, read: () => Promise<string>): Promise<string> {
    const key = `${name}${SEPARATOR}${variant}`;
    const hit = this.#entries.get(key);
    if (
      hit !== undefined &&
      (hit.settledAt === undefined || this.#now() - hit.settledAt <= this.#ttlMs)
    ) {
      return hit.text;
    }
    const entry: Entry = { text: read(), settledAt: undefined };
    this.#entries.set(key, entry);
    entry.text.then(
      () => {
        entry.settledAt = this.#now();
      },
      () => {
        // Failures are not cached: the next GET asks the engine again.
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    this.#sweep();
    return entry.text;
  }

  /** The job changed or went away: its next read goes to the engine. */
  forget(name: string): void {
    const prefix = `${name}${SEPARATOR}`;
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  /** Drops expired entries now and then, so finished or deleted jobs do not accumulate. */
  #sweep(): void {
    if (this.#entries.size < 256) return;
    const now = this.#now();
    for (const [key, e] of this.#entries) {
      if (e.settledAt !== undefined && now - e.settledAt > this.#ttlMs) this.#entries.delete(key);
    }
  }
}
