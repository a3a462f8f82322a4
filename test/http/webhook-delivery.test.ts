// Webhook delivery end to end without an engine (issue 12): the memory backend, a Ledger in a
// temporary STATE_DIR, and a real HTTP receiver on 127.0.0.1 that fails 3 times, then stalls past
// the timeout, then accepts. Every event arrives, in order per jid and target, signed; a restart
// in the middle of the backlog re-sends the rest with the same event ids.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookWorker } from '../../src/service/webhooks/worker.js';
import { Ledger } from '../../src/store/ledger.js';
import type { StoreEvent } from '../../src/store/ledger.js';
import { postJson, sampleBody, testApp, until } from '../fixtures.js';

const SECRET = 'w'.repeat(40);
const TIMEOUT_MS = 300;

interface Received {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

/**
 * A receiver on 127.0.0.1: answers 500 three times, then stalls once, then 204 — up to `limit`
 * acceptances, then 503 (the test restarts the sender there: a backlog is left whatever the speed).
 */
class Receiver {
  readonly accepted: Received[] = [];
  requests = 0;
  limit = Number.POSITIVE_INFINITY;
  /** The sender gave up on the stalled request (closed its connection after its timeout). */
  stallAbandoned = false;
  readonly #stalled: ServerResponse[] = [];
  readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.#stalled) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests++;
    if (this.requests <= 3) {
      res.writeHead(500).end('not now');
      return;
    }
    if (this.requests === 4) {
      // Past the sender's timeout: it must give up and retry, not wait for us.
      this.#stalled.push(res);
      res.on('close', () => (this.stallAbandoned = true));
      return;
    }
    if (this.accepted.length >= this.limit) {
      res.writeHead(503).end('paused');
      return;
    }
    this.accepted.push({
      path: req.url ?? '',
      id: String(req.headers['pman-event-id']),
      timestamp: String(req.headers['pman-timestamp']),
      signature: String(req.headers['pman-signature']),
      body: Buffer.concat(chunks).toString('utf8'),
    });
    res.writeHead(204).end();
  }
}

/** The receiver's side of the README: recompute and compare in constant time. */
function validSignature(r: Received): boolean {
  const expected = Buffer.from(
    'sha256=' + createHmac('sha256', SECRET).update(`${r.timestamp}.${r.body}`).digest('hex'),
  );
  const got = Buffer.from(r.signature);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

function worker(ledger: Ledger): WebhookWorker {
  const w = new WebhookWorker(ledger, {
    secret: SECRET,
    timeoutMs: TIMEOUT_MS,
    maxAgeMs: 60_000,
    concurrency: 3,
    backoff: { baseMs: 20, maxMs: 200 },
  });
  w.start();
  return w;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('webhook delivery', () => {
  it('retries through failures and a stall, keeps per-job order, signs, and survives a restart', async () => {
    const receiver = new Receiver();
    const base = await receiver.listen();
    cleanups.push(() => receiver.close());
    const dir = mkdtempSync(join(tmpdir(), 'pman-webhooks-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const hook = `${base}/all`;

    let ledger = Ledger.open(dir);
    ledger.setWebhookTargets([hook]);
    const webhooks = {
      url: hook,
      secret: SECRET,
      allowedHosts: ['127.0.0.1'],
      maxAgeSeconds: 60,
      timeoutSeconds: 1,
    };
    const t = await testApp({ ledger, config: { webhooks } });
    // The whole backlog is committed first: 6 jobs, one with its own callback_url.
    for (let i = 0; i < 6; i++) {
      const jid = `job-${i}`;
      const extra = i === 0 ? { callback_url: `${base}/cb` } : {};
      expect((await postJson(t.app, sampleBody({ jid, ...extra }))).status).toBe(201);
      t.backend.start(jid, 'hello\n');
      await settle();
      t.backend.finish(jid, i % 2, 'bye\n');
      await settle();
    }
    const events: StoreEvent[] = ledger.eventsSince(0, 1000);
    expect(events.length).toBeGreaterThanOrEqual(18);
    const expected = [
      ...events.map((e) => `/all ${e.seq}`),
      ...events.filter((e) => e.jid === 'job-0').map((e) => `/cb ${e.seq}`),
    ].sort();

    // First life: fails 3 times, stalls once, then delivers part of the backlog.
    receiver.limit = 5;
    const first = worker(ledger);
    cleanups.push(() => first.stop());
    await until(
      () => (receiver.accepted.length >= 5 && receiver.stallAbandoned ? true : undefined),
      {
        timeoutMs: 10_000,
        what: 'the first deliveries',
      },
    );
    await first.stop();
    ledger.close();
    const beforeRestart = receiver.accepted.length;
    expect(beforeRestart).toBeLessThan(expected.length);

    // Second life: the same store file; what was not acknowledged goes out with the same ids.
    receiver.limit = Number.POSITIVE_INFINITY;
    ledger = Ledger.open(dir);
    ledger.setWebhookTargets([hook]);
    cleanups.push(() => ledger.close());
    const backlog = ledger.outbox.status().reduce((sum, s) => sum + s.pending, 0);
    expect(backlog).toBeGreaterThan(0);
    const second = worker(ledger);
    cleanups.push(() => second.stop());
    await until(() => (ledger.outbox.status().every((s) => s.pending === 0) ? true : undefined), {
      timeoutMs: 15_000,
      what: 'an empty outbox',
    });

    expect(receiver.requests).toBeGreaterThan(4);
    const got = receiver.accepted;
    expect(got.every(validSignature)).toBe(true);
    for (const r of got) {
      const body = JSON.parse(r.body) as { seq: number };
      expect(String(body.seq)).toBe(r.id);
      expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    }
    // Every delivery at least once (a restart may repeat one it never saw acknowledged) …
    const firstArrivals = [...new Map(got.map((r) => [`${r.path} ${r.id}`, r])).values()];
    expect(firstArrivals.map((r) => `${r.path} ${r.id}`).sort()).toEqual(expected);
    // … a repeat carries the same id and the same event …
    for (const r of got) {
      const original = firstArrivals.find((f) => f.path === r.path && f.id === r.id);
      expect(original?.body).toBe(r.body);
    }
    // … and per target and jid, the events arrive in seq order.
    const order = new Map<string, number[]>();
    for (const r of firstArrivals) {
      const { jid, seq } = JSON.parse(r.body) as { jid: string; seq: number };
      order.set(`${r.path} ${jid}`, [...(order.get(`${r.path} ${jid}`) ?? []), seq]);
    }
    for (const seqs of order.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // The status route's numbers: all delivered, none given up.
    const all = ledger.outbox.status().find((s) => s.target === hook);
    expect(all).toMatchObject({ pending: 0, failed: 0 });
    expect(all?.delivered).toBeGreaterThanOrEqual(events.length);
  }, 40_000);
});
