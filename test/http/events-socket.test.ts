// GET /api/v1/events/ over a real socket (issue 12): a client that never reads is cut off once it
// falls more than the bound behind — its connection closed, its subscription gone — while a client
// that reads gets every event, in order.
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../../src/http/server.js';
import type { Listening } from '../../src/http/server.js';
import { sampleSpec, testApp, until } from '../fixtures.js';
import { httpSettings } from './http-settings.js';
import { SseReader, statusOf } from './sse-reader.js';

const open: Listening[] = [];
afterEach(async () => {
  for (const l of open.splice(0)) {
    l.server.closeAllConnections();
    await new Promise((resolve) => l.server.close(resolve));
  }
});

describe('a stalled event-stream client', () => {
  it('is disconnected at the bound without holding back a client that reads', async () => {
    // The bound leaves the reading client slack on a loaded machine; the stalled one falls far
    // beyond it (2000 events, more than its socket buffers hold).
    const t = await testApp({ streams: { maxBuffered: 200 } });
    const l = await listen({
      ip: '127.0.0.1',
      port: 0,
      http: httpSettings(),
      fetch: t.app.fetch,
      log: pino({ level: 'silent' }),
    });
    open.push(l);
    const stalled = connect(l.port, '127.0.0.1');
    stalled.on('error', () => undefined);
    stalled.on('data', () => undefined);
    let stalledClosed = false;
    stalled.on('close', () => (stalledClosed = true));
    stalled.write('GET /api/v1/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    stalled.pause(); // never read
    const res = await fetch(`http://127.0.0.1:${l.port}/api/v1/events/`);
    const reader = new SseReader(res);
    await until(() => (t.ledger.hub.subscribers === 2 ? true : undefined), {
      what: 'both clients subscribed',
    });
    // 2000 events of ~4 KiB: far beyond what the socket buffers of the stalled client hold.
    const total = 2000;
    const message = 'x'.repeat(4096);
    const writing = (async () => {
      for (let i = 0; i < total; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            t.ledger.intake({
              jid: `job-${i + k}`,
              spec: sampleSpec({ name: `job-${i + k}` }),
              fingerprint: 'f',
              message,
            }),
          ),
        );
      }
    })();
    const seqs: number[] = [];
    while (seqs.length < total) {
      const frame = await reader.next(10_000);
      if (frame === undefined) throw new Error('the reading client was cut off');
      seqs.push(statusOf(frame).seq);
    }
    await writing;
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Its subscription is gone at once; its connection was closed: reading on now drains what the
    // buffers held and reaches the end (an open stream would only ever send heartbeats).
    expect(t.ledger.hub.subscribers).toBe(1);
    stalled.resume();
    await until(() => (stalledClosed ? true : undefined), { what: 'the stalled client cut off' });
    await reader.cancel();
    stalled.destroy();
  }, 60_000);
});
