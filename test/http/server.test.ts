// The listening socket (issue 10, item 12): a client that stops reading a response is cut off after
// the idle timeout and the stream behind it is cancelled; connections beyond the cap are refused;
// TLS files that are not a matching certificate and key stop start-up.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, readTls } from '../../src/http/server.js';
import type { Listening } from '../../src/http/server.js';
import { until } from '../fixtures.js';
import { httpSettings } from './http-settings.js';

const open: Listening[] = [];
afterEach(async () => {
  for (const l of open.splice(0)) {
    l.server.closeAllConnections();
    await new Promise((resolve) => l.server.close(resolve));
  }
});

async function start(
  fetch: (req: Request) => Response | Promise<Response>,
  overrides: Parameters<typeof httpSettings>[0] = {},
): Promise<Listening> {
  const l = await listen({
    ip: '127.0.0.1',
    port: 0,
    http: httpSettings(overrides),
    fetch,
    log: pino({ level: 'silent' }),
  });
  open.push(l);
  return l;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });

describe('a client that stops reading', () => {
  it('is disconnected after the idle timeout and the response stream is cancelled', async () => {
    let cancelled = false;
    const chunk = new Uint8Array(64 * 1024).fill(120);
    // An endless body, like a log stream: only the client's reading would ever end it.
    const endless = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(chunk);
          },
          cancel() {
            cancelled = true;
          },
        }),
      );
    const { port } = await start(endless, { idleTimeoutMs: 500 });
    const socket = await openSocket(port);
    socket.on('error', () => undefined);
    socket.write('GET /api/v1/x/logs/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    socket.pause(); // never read: the server's writes stall once the buffers are full
    await until(() => (cancelled ? true : undefined), { what: 'the stream to be cancelled' });
    expect(cancelled).toBe(true);
    // The server has closed its end: reading on now drains what was sent and reaches the end.
    socket.resume();
    await closed(socket);
  });
});

describe('the connection cap', () => {
  it('refuses connections beyond maxConnections until one closes', async () => {
    const { port } = await start(() => new Response('ok'), { maxConnections: 2 });
    const a = await openSocket(port);
    const b = await openSocket(port);
    // Both held by the server: a request on each shows they are served.
    for (const s of [a, b]) s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const third = await openSocket(port);
    third.on('error', () => undefined);
    let answered = '';
    third.on('data', (d: Buffer) => (answered += d.toString()));
    third.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await closed(third);
    expect(answered).toBe('');
    a.destroy();
    await closed(a);
    const res = await until(
      async () => {
        try {
          return await fetch(`http://127.0.0.1:${port}/`);
        } catch {
          return undefined;
        }
      },
      { what: 'a connection once a slot is free' },
    );
    expect(res.status).toBe(200);
    b.destroy();
  });
});

describe('a Host that is no host[:port]', () => {
  it.each(['bad host', 'localhost@evil.example', '127.0.0.1/x'])(
    "%j → 400 JSON naming the Host header (not the adapter's empty 400)",
    async (host) => {
      let reached = false;
      const { port } = await start(() => {
        reached = true;
        return new Response('ok');
      });
      const socket = await openSocket(port);
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.write(`GET /api/v1/jobs/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      await closed(socket);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain('Content-Type: application/json');
      expect(
        answer.endsWith(`{"message": "Host header \\"${host}\\" is not a valid host"}\n`),
      ).toBe(true);
      expect(reached).toBe(false);
    },
  );
});

describe('TLS files', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('a missing or non-PEM pair stops start-up naming the variables', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pman-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await expect(readTls({ certFile: cert, keyFile: key })).rejects.toThrow(
      /^TLS_CERT_FILE: cannot read /,
    );
    await writeFile(cert, 'not a certificate');
    await writeFile(key, 'not a key');
    await expect(readTls({ certFile: cert, keyFile: key })).rejects.toThrow(
      /^TLS_CERT_FILE\/TLS_KEY_FILE: .* are not a PEM certificate and its private key/,
    );
  });
});
