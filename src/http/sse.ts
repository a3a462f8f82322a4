// A text/event-stream (or chunked text) response over a pull source: one piece per read, so a
// client that does not read is never written ahead of (its memory is the source's bound); a
// comment line on every idle stretch of heartbeatMs; the source stopped when the client leaves.
import type { HttpContext } from './router.js';

export interface StreamSource {
  /** The next piece to send; undefined at the end. */
  next(): Promise<string | Uint8Array | undefined>;
  /** The client left or the stream ended: release what the source holds. */
  close(): void;
}

export interface StreamResponseOptions {
  contentType: string;
  /** A comment (`:`) after this long without a write; absent: none (plain text streams). */
  heartbeatMs?: number;
}

const encoder = new TextEncoder();

export function streamResponse(source: StreamSource, options: StreamResponseOptions): Response {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const finish = (): void => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearInterval(timer);
    source.close();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const every = options.heartbeatMs;
      if (every === undefined) return;
      // Only while the client keeps up (desiredSize > 0): a stalled one is not written ahead of.
      timer = setInterval(() => {
        if (!closed && (controller.desiredSize ?? 0) > 0)
          controller.enqueue(encoder.encode(':\n\n'));
      }, every);
      timer.unref();
    },
    async pull(controller) {
      let piece: string | Uint8Array | undefined;
      try {
        // Never an empty piece: a pull that enqueues nothing might not be called again.
        do piece = await source.next();
        while (piece !== undefined && piece.length === 0 && !closed);
      } catch {
        // The source gave up (a client too far behind): the end of the stream; it resumes.
        piece = undefined;
      }
      if (closed) return;
      if (piece === undefined) {
        finish();
        controller.close();
      } else controller.enqueue(typeof piece === 'string' ? encoder.encode(piece) : piece);
    },
    cancel() {
      finish();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': options.contentType,
      'Cache-Control': 'no-cache',
      // Proxies such as nginx would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    },
  });
}

/**
 * Ends the client's connection at once (Node's server: the response object under the Request).
 * A client that stopped reading is never read again, so closing its stream would not reach it.
 */
export function dropConnection(c: HttpContext): void {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null) return;
  const outgoing: unknown = (env as { outgoing?: unknown }).outgoing;
  if (typeof outgoing === 'object' && outgoing !== null && 'destroy' in outgoing) {
    const destroy: unknown = outgoing.destroy;
    if (typeof destroy === 'function') destroy.call(outgoing);
  }
}
