// A bounded cache of finished runs' answers (status + bounded log tail), so a status GET of a
// finished job costs neither an engine call nor a decompression of its archived log.
import type { JobRead } from '../backends/backend.js';

/** Answers kept at most; the least recently used goes first. */
export const FINISHED_CACHE_ENTRIES = 1024;

interface Entry {
  runId: number;
  read: JobRead;
}

export class FinishedCache {
  readonly #max: number;
  /** Map order is recency order: a hit moves the entry to the end. */
  readonly #entries = new Map<string, Entry>();

  constructor(max = FINISHED_CACHE_ENTRIES) {
    this.#max = Math.max(1, max);
  }

  /** The answer cached for this run of the jid (a newer run of the same jid misses). */
  get(jid: string, runId: number): JobRead | undefined {
    const entry = this.#entries.get(jid);
    if (entry?.runId !== runId) return undefined;
    this.#entries.delete(jid);
    this.#entries.set(jid, entry);
    return entry.read;
  }

  set(jid: string, runId: number, read: JobRead): void {
    this.#entries.delete(jid);
    this.#entries.set(jid, { runId, read });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(oldest);
    }
  }

  forget(jid: string): void {
    this.#entries.delete(jid);
  }
}
