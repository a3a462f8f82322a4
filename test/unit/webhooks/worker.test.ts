// The delivery worker (issue 12) against a fake fetch: per-job order with jobs in parallel, a
// stop that abandons an attempt without counting it, and WEBHOOK_MAX_AGE giving up (failed).
import { afterEach, describe, expect, it } from 'vitest';
import type { Fetch } from '../../../src/service/webhooks/attempt.js';
import { WebhookWorker } from '../../../src/service/webhooks/worker.js';
import { Ledger } from '../../../src/store/ledger.js';
import { until } from '../../fixtures.js';
import { spec } from '../store/ledger-fixtures.js';

const HOOK = 'http://127.0.0.1:9/hook';
const open: Ledger[] = [];
afterEach(() => {
  for (const l of open.splice(0)) l.close();
});

async function backlog(jids: readonly string[]): Promise<Ledger> {
  const l = Ledger.inMemory();
  open.push(l);
  l.setWebhookTargets([HOOK]);
  for (const jid of jids) {
    const { runId } = await l.intake({ jid, spec: spec(jid), fingerprint: 'f' });
    await l.appendEvent(runId, 'started', '');
    await l.finish(runId, { status: 'finishedSuccessfully', message: '', logs: '' });
  }
  return l;
}

function start(l: Ledger, fetch: Fetch, maxAgeMs = 60_000): WebhookWorker {
  const w = new WebhookWorker(l, {
    secret: 's'.repeat(32),
    timeoutMs: 1000,
    maxAgeMs,
    concurrency: 2,
    backoff: { baseMs: 5, maxMs: 20 },
    fetch,
  });
  w.start();
  return w;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the delivery worker', () => {
  it('keeps each job’s order while sending different jobs in parallel', async () => {
    const l = await backlog(['a', 'b', 'c']);
    const seen: Array<{ jid: string; seq: number }> = [];
    let inFlight = 0;
    let most = 0;
    const w = start(l, async (_url, init) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const event = JSON.parse(init?.body as string) as { jid: string; seq: number };
      await sleep(event.jid === 'a' ? 15 : 3);
      inFlight--;
      // Each job's second attempt fails once: its successors must wait for the retry.
      const failOnce = event.seq % 3 === 2 && !seen.some((s) => s.seq === -event.seq);
      seen.push({ jid: event.jid, seq: failOnce ? -event.seq : event.seq });
      return new Response(null, { status: failOnce ? 503 : 200 });
    });
    await until(() => (l.outbox.status()[0]?.pending === 0 ? true : undefined));
    await w.stop();
    for (const jid of ['a', 'b', 'c']) {
      const seqs = seen.filter((s) => s.jid === jid && s.seq > 0).map((s) => s.seq);
      expect(seqs).toHaveLength(3);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    expect(most).toBe(2);
    expect(l.outbox.status()[0]).toMatchObject({ delivered: 9, failed: 0, lastError: 'HTTP 503' });
  });

  it('abandons an attempt in flight when stopped: nothing counted, still queued', async () => {
    const l = await backlog(['a']);
    let called = false;
    const w = start(
      l,
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          called = true;
          init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    );
    await until(() => (called ? true : undefined));
    await w.stop();
    expect(l.outbox.status()).toEqual([
      {
        target: HOOK,
        pending: 3,
        oldestQueued: expect.any(Number) as number,
        delivered: 0,
        failed: 0,
      },
    ]);
  });

  it('gives up past WEBHOOK_MAX_AGE and counts the delivery as failed', async () => {
    const l = await backlog(['a']);
    const w = start(
      l,
      () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
          }),
        ),
      40,
    );
    await until(() => (l.outbox.status()[0]?.pending === 0 ? true : undefined));
    await w.stop();
    expect(l.outbox.status()[0]).toMatchObject({
      delivered: 0,
      failed: 3,
      lastError: expect.stringMatching(
        /connection failed: ECONNREFUSED; given up|expired/,
      ) as string,
    });
  });
});
