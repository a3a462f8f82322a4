// Byte-exact HTTP for the reliability tests: node:http (not fetch), so a test controls every header,
// can send any body (invalid UTF-8, 5 MiB, an empty Content-Type) and still read a 413 sent early.
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface RawRequest {
  method: string;
  /** Path and query, sent as they are. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

const CHUNK = 64 * 1024;

/** One request on a fresh connection; resolves with the answer, even one sent before the body was
 *  read (a 413). No retry: a reset that swallows the answer is a failure the tests must see. */
export function send(baseUrl: string, r: RawRequest): Promise<Answer> {
  const url = new URL(baseUrl);
  const body = r.body;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: r.method,
      path: r.path,
      agent: false,
      headers: {
        ...r.headers,
        ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }),
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    // A server that answers early (413) may reset the connection while we still write.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    // Large bodies go in chunks, and stop once the answer is in: the server will not read them.
    const bytes = body === undefined ? undefined : Buffer.from(body);
    const write = (offset: number): void => {
      if (bytes === undefined || offset >= bytes.length || answered) {
        req.end();
        return;
      }
      const more = req.write(bytes.subarray(offset, offset + CHUNK));
      if (more) setImmediate(() => write(offset + CHUNK));
      else req.once('drain', () => write(offset + CHUNK));
    };
    write(0);
  });
}

export type Json = Record<string, unknown>;

/** JSON-bodied request; `json` is {} when the body is not a JSON object. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer & { json: Json }> {
  const answer = await send(baseUrl, {
    method,
    path,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  let json: Json = {};
  try {
    const parsed: unknown = JSON.parse(answer.text);
    if (typeof parsed === 'object' && parsed !== null) json = parsed as Json;
  } catch {
    // not JSON: the caller asserts on text or status
  }
  return { ...answer, json };
}
