// The health probe of service jobs (issue 15): TCP connect, or HTTP GET of the health path where
// 2xx/3xx pass; short reasons for the failures (refused, HTTP status, timeout). Loopback only.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probe } from '../../src/service/services/probe.js';
import { freePort } from '../fixtures.js';

const servers: Array<{ close: (cb: () => void) => unknown }> = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('probe', () => {
  it('TCP: passes when something listens, "connection refused" when nothing does', async () => {
    // A server keeps an idle connection open; the probe closes it.
    const port = await listen(createTcpServer(() => undefined));
    expect(await probe(`http://127.0.0.1:${port}`, undefined)).toEqual({ ok: true });
    // One that speaks first passes at once.
    const banner = await listen(createTcpServer((socket) => socket.write('220 ready\r\n')));
    expect(await probe(`http://127.0.0.1:${banner}`, undefined)).toEqual({ ok: true });
    const closed = await freePort();
    expect(await probe(`http://127.0.0.1:${closed}`, undefined)).toEqual({
      ok: false,
      reason: 'connection refused',
    });
  });

  it("TCP: a connection closed at once fails (Docker's port proxy with nothing behind it)", async () => {
    const port = await listen(createTcpServer((socket) => socket.end()));
    expect(await probe(`http://127.0.0.1:${port}`, undefined)).toEqual({
      ok: false,
      reason: 'connection closed at once (nothing listening behind the published port)',
    });
    const reset = await listen(createTcpServer((socket) => socket.resetAndDestroy()));
    expect((await probe(`http://127.0.0.1:${reset}`, undefined)).ok).toBe(false);
  });

  it('HTTP: 2xx and 3xx pass (no redirect followed), 500 names status and path', async () => {
    const seen: string[] = [];
    const port = await listen(
      createServer((req, res) => {
        seen.push(req.url ?? '');
        if (req.url === '/ok') res.writeHead(204).end();
        else if (req.url === '/moved') res.writeHead(302, { Location: '/broken' }).end();
        else res.writeHead(500).end('no');
      }),
    );
    const ep = `http://127.0.0.1:${port}`;
    expect(await probe(ep, '/ok')).toEqual({ ok: true });
    expect(await probe(ep, '/moved')).toEqual({ ok: true });
    expect(await probe(ep, '/healthz')).toEqual({ ok: false, reason: 'HTTP 500 from /healthz' });
    expect(seen).toEqual(['/ok', '/moved', '/healthz']);
  });

  it('a server that never answers: "timed out after <n> s"', async () => {
    const port = await listen(createServer(() => undefined));
    expect(await probe(`http://127.0.0.1:${port}`, '/slow', 200)).toEqual({
      ok: false,
      reason: 'timed out after 0.2 s',
    });
  });

  it('an endpoint that is not http://host:port is a reason, not a throw', async () => {
    expect((await probe('nonsense', undefined)).ok).toBe(false);
    expect(await probe('https://127.0.0.1:1', undefined)).toMatchObject({ ok: false });
  });
});
