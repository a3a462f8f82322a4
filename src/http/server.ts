// The listening socket (issue 10, item 12): plain HTTP or native TLS (TLS_CERT_FILE/TLS_KEY_FILE,
// reloadable without a restart), with timeouts and a connection cap so a stalled client — one that
// stops sending, or stops reading a log stream — cannot hold sockets, and the streams behind them,
// forever.
import { serve } from '@hono/node-server';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { HttpServerSettings } from '../config/listen.js';
import { ConfigError } from '../config/errors.js';

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

/** Listens; rejects with a ConfigError for bad TLS files or an Error when the port is taken. */
export async function listen(opts: ListenOptions): Promise<Listening> {
  const { http, log } = opts;
  const tls = http.tls;
  const material = tls === undefined ? undefined : await readTls(tls);
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: opts.fetch,
        hostname: opts.ip,
        port: opts.port,
        ...(material !== undefined && { createServer: createHttpsServer }),
        serverOptions: {
          ...material,
          requestTimeout: http.requestTimeoutMs,
          headersTimeout: http.headersTimeoutMs,
          keepAliveTimeout: http.keepAliveTimeoutMs,
        },
      },
      (info) => {
        log.info({ address: info.address, port: info.port, tls: tls !== undefined }, 'listening');
        resolve({ server, address: info.address, port: info.port, reloadTls });
      },
      // Without http2 options the server is a node:http (or, with createServer, node:https) Server.
    ) as Server | HttpsServer;
    // A socket with no traffic either way for this long is destroyed: the response stream is then
    // cancelled, which closes the backend stream behind it (a /logs/ reader that stopped reading).
    server.setTimeout(http.idleTimeoutMs);
    server.maxConnections = http.maxConnections;
    server.once('error', (err) =>
      reject(new Error(`cannot listen on ${opts.ip}:${opts.port}: ${err.message}`)),
    );
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
