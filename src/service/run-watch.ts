// Follows one run's status through the ledger's event hub: when it has started (its log can be
// read) and when it is terminal (a follow ends), without polling the store or the engine.
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { JobStatus } from '../domain/job.js';
import type { Ledger, LedgerRun } from '../store/ledger.js';

export class RunWatch {
  #status: JobStatus;
  readonly #unsubscribe: () => void;
  #waiters: Array<() => void> = [];

  constructor(ledger: Ledger, run: LedgerRun) {
    this.#status = run.status;
    this.#unsubscribe = ledger.hub.subscribe((event) => {
      if (event.runId !== run.id) return;
      this.#status = event.status;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    });
    // Read again after subscribing: a change committed in between is not missed.
    const now = ledger.current(run.jid);
    if (now?.id === run.id) this.#status = now.status;
  }

  /** Past notstarted (started, or already terminal). */
  get hasStarted(): boolean {
    return this.#status !== 'notstarted';
  }

  get terminal(): boolean {
    return TERMINAL_STATUSES.has(this.#status);
  }

  /** Resolves once the run left notstarted (or is terminal). */
  started(): Promise<void> {
    return this.#when(() => this.#status !== 'notstarted');
  }

  /** Resolves once the run is terminal. */
  ended(): Promise<void> {
    return this.#when(() => this.terminal);
  }

  close(): void {
    this.#unsubscribe();
  }

  async #when(test: () => boolean): Promise<void> {
    while (!test()) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}
