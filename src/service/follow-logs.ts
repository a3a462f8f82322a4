// A live run's log, followed (GET …/logs/?follow=1 and the log lines of GET …/events/): what
// exists, then new output as it is written, ending when the run ends. Docker's follow stream ends
// at the exit by itself; Swarm's never does, so once the run is terminal the stream is read until
// it goes quiet (FOLLOW_IDLE_MS) or for at most FOLLOW_GRACE_MS more, then closed.
import type { Backend } from '../backends/backend.js';
import { NotFoundError } from '../domain/errors.js';
import { boundLogBytes } from '../domain/logs.js';
import type { Ledger, LedgerRun } from '../store/ledger.js';
import { RunWatch } from './run-watch.js';

/** After the terminal status: the stream ends after this long without output… */
export const FOLLOW_IDLE_MS = 300;
/** …or this long after the terminal status at most. */
export const FOLLOW_GRACE_MS = 1500;

export interface FollowDeps {
  ledger: Ledger;
  backend: Backend;
}

type Step =
  | { kind: 'chunk'; result: IteratorResult<Uint8Array> }
  | { kind: 'error'; err: unknown }
  | { kind: 'tick' };

/** Follows `run` (not terminal when called; a terminal one ends at once after what exists). */
export async function* followRun(
  deps: FollowDeps,
  run: LedgerRun,
  tail: number | undefined,
  signal?: AbortSignal,
): AsyncIterable<Uint8Array> {
  const watch = new RunWatch(deps.ledger, run);
  // An async generator's return() waits for a pending next(): the caller's abort (a client gone)
  // ends the engine read itself, and with it this generator.
  const stop = new AbortController();
  const cancel = (): void => stop.abort();
  signal?.addEventListener('abort', cancel, { once: true });
  const aborted = new Promise<Step>((resolve) => {
    stop.signal.addEventListener('abort', () => resolve({ kind: 'tick' }), { once: true });
  });
  try {
    // Opened at once when the engine holds the object (Swarm's service log shows the task as
    // soon as it writes); a run still waiting for the engine has no object yet, so it waits for
    // the start. Docker answers nothing before its start: then the start is awaited and the log
    // opened again.
    let early = !watch.hasStarted && deps.ledger.current(run.jid)?.engine === 'created';
    for (;;) {
      if (!early) await Promise.race([watch.started(), aborted]);
      if (stop.signal.aborted) return;
      const opened = early;
      early = false;
      const result = yield* readFollow(deps, run, tail, watch, stop.signal, aborted);
      if (!(result === 'empty' && opened && !watch.terminal)) return;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    stop.abort();
    watch.close();
  }
}

/**
 * One follow of the engine's log: 'empty' when it ended before a byte (Docker before its start),
 * else 'done'.
 */
async function* readFollow(
  deps: FollowDeps,
  run: LedgerRun,
  tail: number | undefined,
  watch: RunWatch,
  signal: AbortSignal,
  aborted: Promise<Step>,
): AsyncGenerator<Uint8Array, 'empty' | 'done'> {
  const logs = deps.backend.streamLogs(run.jid, tail, { follow: true, signal });
  const iterator = logs[Symbol.asyncIterator]();
  let pending: Promise<Step> | undefined;
  let endsAt: number | undefined;
  let yielded = false;
  const ended = watch.ended();
  const outcome = (): 'empty' | 'done' => (yielded ? 'done' : 'empty');
  try {
    for (;;) {
      // Settled into a Step, never rejected: one left behind at the end raises nothing.
      pending ??= iterator.next().then(
        (result): Step => ({ kind: 'chunk', result }),
        (err: unknown): Step => ({ kind: 'error', err }),
      );
      const chunk = pending;
      let step: Step;
      if (!watch.terminal) {
        step = await Promise.race([chunk, ended.then((): Step => ({ kind: 'tick' })), aborted]);
        if (signal.aborted) return 'done';
      } else {
        endsAt ??= Date.now() + FOLLOW_GRACE_MS;
        const wait = Math.min(FOLLOW_IDLE_MS, endsAt - Date.now());
        step = await Promise.race([chunk, delay(Math.max(0, wait))]);
        if (step.kind === 'tick') return 'done';
      }
      if (step.kind === 'tick') continue;
      pending = undefined;
      if (step.kind === 'error') throw step.err;
      if (step.result.done === true) return outcome();
      yielded = true;
      yield step.result.value;
    }
  } catch (err) {
    if (!(err instanceof NotFoundError) || yielded) throw err;
    // The engine object is gone (removed right after the exit): the archive has the log.
    await Promise.race([watch.ended(), aborted]);
    if (!signal.aborted) yield archived(deps.ledger, run.id, tail);
    return 'done';
  }
}

function archived(ledger: Ledger, runId: number, tail: number | undefined): Uint8Array {
  const bytes = ledger.logBytes(runId);
  if (tail === undefined) return bytes;
  return new TextEncoder().encode(
    boundLogBytes(bytes, { tail, maxBytes: Number.MAX_SAFE_INTEGER }),
  );
}

function delay(ms: number): Promise<Step> {
  return new Promise((resolve) => setTimeout(() => resolve({ kind: 'tick' }), ms));
}
