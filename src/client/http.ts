// The HTTP side of the `pman` client commands: one small client for PMAN_URL with PMAN_TOKEN,
// whose every failure is an ApiError carrying the server's own `message` (never a stack).
import { messageText } from './format.js';

/** A refusal by the server (its status and message) or no answer at all (status 0). */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export interface ClientOptions {
  /** PMAN_URL, e.g. http://127.0.0.1:5010 (a path prefix is kept). */
  url: string;
  /** PMAN_TOKEN: sent as `Authorization: Bearer …`. */
  token?: string;
  fetch?: typeof fetch;
}

export type Query = Record<string, string | readonly string[] | undefined>;

export class PmanClient {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    let base = options.url;
    while (base.endsWith('/')) base = base.slice(0, -1);
    this.#base = base;
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  /** A JSON answer (undefined for 204); any non-2xx answer throws ApiError with its message. */
  async json(method: string, path: string, body?: unknown, query: Query = {}): Promise<unknown> {
    const res = await this.#send(method, path, query, body);
    if (res.status === 204) return undefined;
    const text = await res.text();
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(
        res.status,
        `the server answered ${res.status} with no JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  /** A streamed answer (logs, events): its body, once the status says it is one. */
  async stream(
    path: string,
    query: Query = {},
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#send('GET', path, query, undefined, signal);
    if (res.body === null)
      throw new ApiError(res.status, `the server answered ${res.status} without a body`);
    return res.body;
  }

  async #send(
    method: string,
    path: string,
    query: Query,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    let url: URL;
    try {
      url = new URL(`${this.#base}${path}`);
    } catch {
      // `PMAN_URL=127.0.0.1:5010` (no scheme): say which setting, not just "Invalid URL".
      throw new ApiError(
        0,
        `PMAN_URL must be a URL such as http://127.0.0.1:5010, got "${this.#base}"`,
      );
    }
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const v of typeof value === 'string' ? [value] : value) url.searchParams.append(key, v);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers,
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        ...(signal !== undefined && { signal }),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
      const why = cause !== '' ? cause : err instanceof Error ? err.message : String(err);
      throw new ApiError(0, `cannot reach pman at ${this.#base} (${why}); set PMAN_URL`);
    }
    if (res.ok) return res;
    throw new ApiError(res.status, await errorMessage(res));
  }
}

/** The server's `{"message": …}` as one line; its status text when there is none. */
async function errorMessage(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && 'message' in body) {
      return messageText(body.message);
    }
  } catch {
    // not JSON: fall through
  }
  const detail = text.trim() === '' ? res.statusText : text.trim().slice(0, 200);
  return `${res.status} ${detail}`;
}
