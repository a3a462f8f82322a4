// An HTTP-aware loopback proxy in front of the Docker socket: it logs every engine call the server
// makes (method, path, status, timing), can hold chosen calls (a create, a start, a pull) until a
// test releases them or kills the server, and can play "engine down" by refusing connections.
import http from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface EngineCall {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  /** The request body (JSON create bodies are small; large bodies are cut at 64 KiB). */
  body: string;
  /** performance.now() when the call arrived, was forwarded, and was answered in full. */
  arrived: number;
  forwarded?: number;
  answered?: number;
  status?: number;
  /** The client went away while the call was held: it never reached the engine. */
  dropped?: boolean;
}

export type CallMatcher = (method: string, path: string) => boolean;

export interface Hold {
  /** Calls held by this rule, still waiting. */
  readonly waiting: number;
  /** Resolves once `n` calls were caught by this rule (bounded). */
  caught(n: number, timeoutMs: number): Promise<void>;
  /** Forwards every held call (and stops holding new ones). */
  release(): void;
}

export interface RecordingProxy {
  /** tcp://127.0.0.1:<port>, for DOCKER_HOST. */
  readonly dockerHost: string;
  readonly port: number;
  /** Every call so far, in arrival order. */
  readonly calls: readonly EngineCall[];
  /** Holds matching calls from now on until `release()`. */
  hold(match: CallMatcher): Hold;
  /** "Engine down": refuse new connections and cut the open ones. */
  down(): Promise<void>;
  /** "Engine back" on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

const BODY_KEEP = 64 * 1024;

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

interface HoldRule {
  match: CallMatcher;
  released: boolean;
  queue: Array<() => void>;
  count: number;
  waiters: Array<() => void>;
}

/** Starts the proxy on a free loopback port, forwarding to `socketPath`. */
export async function startRecordingProxy(
  socketPath = '/var/run/docker.sock',
): Promise<RecordingProxy> {
  const calls: EngineCall[] = [];
  const rules: HoldRule[] = [];
  const sockets = new Set<Socket>();
  const upstream = new Set<http.ClientRequest>();

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, c: EngineCall) => {
    c.forwarded = performance.now();
    const up = http.request(
      { socketPath, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        c.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once('end', () => (c.answered = performance.now()));
      },
    );
    upstream.add(up);
    up.once('close', () => upstream.delete(up));
    // Either side failing ends both: a client must see the cut, not a hang.
    up.on('error', () => res.destroy());
    res.once('close', () => up.destroy());
    up.end(body);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const c: EngineCall = {
        method,
        path: url,
        body: body.subarray(0, BODY_KEEP).toString('utf8'),
        arrived: performance.now(),
      };
      calls.push(c);
      const rule = rules.find((r) => !r.released && r.match(method, url));
      if (rule === undefined) {
        forward(req, res, body, c);
        return;
      }
      let gone = false;
      // A client killed while its call is held must never have the call reach the engine.
      res.once('close', () => {
        if (c.forwarded === undefined) {
          gone = true;
          c.dropped = true;
        }
      });
      rule.queue.push(() => {
        if (!gone) forward(req, res, body, c);
      });
      rule.count++;
      for (const w of rule.waiters.splice(0)) w();
    });
  };

  const make = (): Server => {
    const s = http.createServer({ keepAliveTimeout: 60_000 }, onRequest);
    // Long polls (events, followed logs) must not be cut by the proxy's own timeouts.
    s.requestTimeout = 0;
    s.headersTimeout = 0;
    s.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.once('close', () => sockets.delete(sock));
    });
    return s;
  };

  let server = make();
  const port = await listen(server, 0);
  let listening = true;
  const down = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    for (const u of upstream) u.destroy();
    await closed;
  };

  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    port,
    calls,
    hold(match) {
      const rule: HoldRule = { match, released: false, queue: [], count: 0, waiters: [] };
      rules.push(rule);
      return {
        get waiting() {
          return rule.queue.length;
        },
        caught(n, timeoutMs) {
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`held ${rule.count} of ${n} calls within ${timeoutMs} ms`)),
              timeoutMs,
            );
            const check = (): void => {
              if (rule.count >= n) {
                clearTimeout(timer);
                resolve();
              } else rule.waiters.push(check);
            };
            check();
          });
        },
        release() {
          rule.released = true;
          for (const go of rule.queue.splice(0)) go();
        },
      };
    },
    down,
    async up() {
      if (listening) return;
      server = make();
      await listen(server, port);
      listening = true;
    },
    async close() {
      for (const r of rules) r.released = true;
      await down();
    },
  };
}

/** Matchers for the engine calls the tests hold (any API version prefix). */
export const engineCalls = {
  containerCreate: (m: string, p: string) => m === 'POST' && /\/containers\/create(\?|$)/.test(p),
  containerStart: (m: string, p: string) =>
    m === 'POST' && /\/containers\/[^/]+\/start(\?|$)/.test(p),
  imagePull: (m: string, p: string) => m === 'POST' && /\/images\/create(\?|$)/.test(p),
  serviceCreate: (m: string, p: string) => m === 'POST' && /\/services\/create(\?|$)/.test(p),
} satisfies Record<string, CallMatcher>;
