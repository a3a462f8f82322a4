// Reads the create body (api.md §5.1): JSON content type, 1 MiB cap, parse, must be an object.
import { InvalidSpecError } from '../../domain/errors.js';
import { BodyTooLargeError, UnsupportedMediaTypeError } from '../errors.js';

/** pfcon's bodies are a few kilobytes; anything near this is a mistake or an attack. */
export const MAX_BODY_BYTES = 1024 * 1024;

const TOO_LARGE = 'Request body too large (limit 1 MiB).';
const NOT_JSON_TYPE =
  "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.";

/** `application/json` or `application/<x>+json`, any case, parameters allowed (Werkzeug's rule). */
export function isJsonContentType(header: string | null | undefined): boolean {
  if (!header) return false;
  const mediaType = (header.split(';')[0] ?? '').trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[^/\s]+\+json$/.test(mediaType);
}

/**
 * How much of an oversized body is read and dropped before the 413 goes out. The 413 closes the
 * connection, and closing a socket with unread bytes makes the kernel send a reset that destroys
 * the answer before a client such as python-requests (still writing) has read it. Beyond this
 * many bytes the reset is accepted; the server's request timeout bounds a slow sender.
 */
const DISCARD_LIMIT_BYTES = 16 * MAX_BODY_BYTES;

async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, seen: number) {
  for (let total = seen; total <= DISCARD_LIMIT_BYTES;) {
    const { done, value } = await reader.read();
    if (done) return;
    total += value.length;
  }
  await reader.cancel().catch(() => undefined);
}

/** Reads at most MAX_BODY_BYTES; counting the stream catches chunked bodies and lying lengths. */
async function readCapped(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (request.body === null) {
    if (declared > MAX_BODY_BYTES) throw new BodyTooLargeError(TOO_LARGE);
    return new Uint8Array(0);
  }
  // Node's Request types the stream's chunks loosely; the body is bytes.
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  if (declared > MAX_BODY_BYTES) {
    if (declared <= DISCARD_LIMIT_BYTES) await discardRest(reader, 0);
    else await reader.cancel().catch(() => undefined);
    throw new BodyTooLargeError(TOO_LARGE);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
      await discardRest(reader, size);
      throw new BodyTooLargeError(TOO_LARGE);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function decodeJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    // ignoreBOM: false drops a leading UTF-8 BOM, which Python's json.loads(bytes) accepts too.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidSpecError('Failed to decode JSON object: the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new InvalidSpecError(`Failed to decode JSON object: ${detail}`);
  }
}

/** The request body as a JSON object, or the 415 / 413 / 400 of api.md §5.1 (in that order). */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  if (!isJsonContentType(request.headers.get('content-type'))) {
    throw new UnsupportedMediaTypeError(NOT_JSON_TYPE);
  }
  const value = decodeJson(await readCapped(request));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidSpecError('The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}
