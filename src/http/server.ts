// The listening socket (issue 10, item 12): plain HTTP or native TLS (TLS_CERT_FILE/TLS_KEY_FILE,
// reloadable without a restart), with timeouts and a connection cap so a stalled client — one that
// stops sending, or stops reading a log stream — cannot hold sockets, and the streams behind them,
// forever.
import { getRequestListener } from '@hono/node-server';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { HttpServerSettings } from '../config/listen.js';
import { ConfigError } from '../config/errors.js';
import { hostName, invalidHostText } from './middleware/host-check.js';
import { pyJson } from './wire/response.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export interface Listening {
  server: Server | HttpsServer;
  address: string;
  port: number;
  /** Re-reads TLS_CERT_FILE and TLS_KEY_FILE; on any problem the old certificate stays in use. */
  reloadTls: () => Promise<void>;
}

/** Reads and checks the pair (PEM, and the key matches the certificate); ConfigError otherwise. */
export async function readTls(files: TlsFiles): Promise<TlsMaterial> {
  const read = async (name: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new ConfigError([`${name}: cannot read ${path}: ${(err as Error).message}`]);
    }
  };
  const cert = await read('TLS_CERT_FILE', files.certFile);
  const key = await read('TLS_KEY_FILE', files.keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError([
      `TLS_CERT_FILE/TLS_KEY_FILE: ${files.certFile} and ${files.keyFile} are not a PEM certificate and its private key: ${(err as Error).message}`,
    ]);
  }
  return { cert, key };
}

export interface ListenOptions {
  ip: string;
  port: number;
  http: HttpServerSettings;
  fetch: (req: Request) => Response | Promise<Response>;
  log: Logger;
}

/**
 * A Host that is no host[:port] at all: Hono's node adapter would answer it with an empty 400
 * before the app's Host check runs, so it is answered here with the app's JSON instead.
 */
function refusedHost(req: IncomingMessage, res: ServerResponse): boolean {
  const header = req.headers.host;
  if (header === undefined || hostName(header) !== undefined) return false;
  const body = pyJson({ message: invalidHostText(header) });
  res.writeHead(400, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
  return true;
}

/** Listens; rejects with a ConfigError for bad TLS files or an Error when the port is taken. */
export async function listen(opts: ListenOptions): Promise<Listening> {
  const { http, log } = opts;
  const tls = http.tls;
  const material = tls === undefined ? undefined : await readTls(tls);
  const fetchListener = getRequestListener(opts.fetch, { hostname: opts.ip });
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (refusedHost(req, res)) return;
    void fetchListener(req, res);
  };
  const serverOptions = {
    requestTimeout: http.requestTimeoutMs,
    headersTimeout: http.headersTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
  };
  const server: Server | HttpsServer =
    material === undefined
      ? createHttpServer(serverOptions, listener)
      : createHttpsServer({ ...serverOptions, ...material }, listener);
  return new Promise((resolve, reject) => {
    // A socket with no traffic either way for this long is destroyed: the response stream is then
    // cancelled, which closes the backend stream behind it (a /logs/ reader that stopped reading).
    server.setTimeout(http.idleTimeoutMs);
    server.maxConnections = http.maxConnections;
    server.once('error', (err) =>
      reject(new Error(`cannot listen on ${opts.ip}:${opts.port}: ${err.message}`)),
    );
    server.listen(opts.port, opts.ip, () => {
      const info = server.address();
      const port = typeof info === 'object' && info !== null ? info.port : opts.port;
      const address = typeof info === 'object' && info !== null ? info.address : opts.ip;
      log.info({ address, port, tls: tls !== undefined }, 'listening');
      resolve({ server, address, port, reloadTls });
    });
    async function reloadTls(): Promise<void> {
      if (tls === undefined || !('setSecureContext' in server)) return;
      try {
        server.setSecureContext(await readTls(tls));
        log.info({ certFile: tls.certFile }, 'TLS certificate reloaded');
      } catch (err) {
        const problem = err instanceof ConfigError ? err.problems.join('; ') : String(err);
        log.error({ problem }, 'TLS reload failed; still serving the previous certificate');
      }
    }
  });
}
