// GET /api/v1/<jid>/events/: one run's status events and log lines, replayed from the start, then
// live, then `end` once the terminal status and the last log line are out. A finished run is the
// store's alone (its events, then its archived log).
import type { Backend } from '../backends/backend.js';
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { Ledger, LedgerRun, StoreEvent } from '../store/ledger.js';
import { EventFeed } from './event-feed.js';
import type { FeedItem } from './event-feed.js';
import { followRun } from './follow-logs.js';
import { linesOf } from './log-lines.js';

export type JobEventItem =
  | { kind: 'status'; event: StoreEvent }
  | { kind: 'log'; line: string }
  | { kind: 'end'; run: LedgerRun };

export interface JobEventsDeps {
  ledger: Ledger;
  backend: Backend;
}

type Step =
  | { from: 'status'; items: FeedItem[] }
  | { from: 'log'; result: IteratorResult<string> }
  | { from: 'error'; err: unknown };

export async function* jobEvents(
  deps: JobEventsDeps,
  run: LedgerRun,
  options: { maxBuffered: number; signal?: AbortSignal; onOverflow?: () => void },
): AsyncIterable<JobEventItem> {
  const { ledger } = deps;
  const feed = new EventFeed(ledger, {
    since: 0,
    filter: { runId: run.id },
    maxBuffered: options.maxBuffered,
    ...(options.onOverflow !== undefined && { onOverflow: options.onOverflow }),
  });
  const stop = (): void => feed.close();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    if (TERMINAL_STATUSES.has(run.status)) {
      yield* replayFinished(feed);
      for await (const line of linesOf(once(ledger.logBytes(run.id)))) {
        yield { kind: 'log', line };
      }
    } else {
      const logs = linesOf(followRun(deps, run, undefined, options.signal))[Symbol.asyncIterator]();
      yield* merge(feed, logs);
    }
    yield { kind: 'end', run: ledger.runsOf(run.jid).find((r) => r.id === run.id) ?? run };
  } finally {
    options.signal?.removeEventListener('abort', stop);
    feed.close();
  }
}

/** The stored events of a finished run, up to its terminal one. */
async function* replayFinished(feed: EventFeed): AsyncIterable<JobEventItem> {
  for (;;) {
    const items = await feed.next();
    if (items.length === 0) return;
    for (const item of items) {
      if (item.kind !== 'status') continue;
      yield { kind: 'status', event: item.event };
      if (TERMINAL_STATUSES.has(item.event.status)) return;
    }
  }
}

/** Status events and log lines as they come, until the terminal status and the log's end. */
async function* merge(feed: EventFeed, logs: AsyncIterator<string>): AsyncIterable<JobEventItem> {
  let statusDone = false;
  let logsDone = false;
  let status: Promise<Step> | undefined;
  let log: Promise<Step> | undefined;
  while (!(statusDone && logsDone)) {
    if (!statusDone)
      status ??= feed.next().then(
        (items): Step => ({ from: 'status', items }),
        (err: unknown): Step => ({ from: 'error', err }),
      );
    if (!logsDone)
      log ??= logs.next().then(
        (result): Step => ({ from: 'log', result }),
        (err: unknown): Step => ({ from: 'error', err }),
      );
    const racing = [statusDone ? undefined : status, logsDone ? undefined : log].filter(
      (p): p is Promise<Step> => p !== undefined,
    );
    const step = await Promise.race(racing);
    if (step.from === 'error') throw step.err;
    if (step.from === 'log') {
      log = undefined;
      if (step.result.done === true) logsDone = true;
      else yield { kind: 'log', line: step.result.value };
      continue;
    }
    status = undefined;
    // [] = the feed was closed (the client left).
    if (step.items.length === 0) return;
    for (const item of step.items) {
      if (item.kind !== 'status') continue;
      yield { kind: 'status', event: item.event };
      if (TERMINAL_STATUSES.has(item.event.status)) statusDone = true;
    }
  }
}

function once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  return (async function* () {
    await Promise.resolve();
    if (bytes.length > 0) yield bytes;
  })();
}
