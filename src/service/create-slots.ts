// A bound on creates running against the backend at once: beyond it a create waits its turn
// (first come, first served) instead of being refused, as pman's clients expect; only when the
// waiting line itself is full is it refused (429), so a flood cannot grow memory without bound.
import { TooManyRequestsError } from '../domain/errors.js';

export class CreateSlots {
  #free: number;
  readonly #size: number;
  readonly #maxWaiting: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number, maxWaiting: number) {
    this.#free = size;
    this.#size = size;
    this.#maxWaiting = maxWaiting;
  }

  /** Resolves with the release function once a slot is ours; TooManyRequestsError when full. */
  async acquire(): Promise<() => void> {
    if (this.#free > 0) {
      this.#free--;
      return this.#releaser();
    }
    if (this.#waiting.length >= this.#maxWaiting) {
      throw new TooManyRequestsError(
        `${this.#size} creates are running and ${this.#maxWaiting} are waiting; retry shortly`,
      );
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return this.#releaser();
  }

  /** Each release is used once; the slot goes to the longest waiter, else back to the pool. */
  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    };
  }
}
