// Bounded log reading (api.md §10): last N lines, then a byte cap, never the whole log in memory.
import type { LogLimits } from './job.js';

const NEWLINE = 0x0a;
const decoder = () => new TextDecoder('utf-8', { fatal: false });

/** Byte offsets where each line starts; a trailing newline does not open a new (empty) line. */
function lineStarts(bytes: Uint8Array): number[] {
  const starts = bytes.length > 0 ? [0] : [];
  for (let i = 0; i < bytes.length - 1; i++) if (bytes[i] === NEWLINE) starts.push(i + 1);
  return starts;
}

/** Skip UTF-8 continuation bytes so a cut never starts inside a character. */
function charBoundary(bytes: Uint8Array, from: number): number {
  let i = from;
  while (i < bytes.length && ((bytes[i] ?? 0) & 0xc0) === 0x80) i++;
  return i;
}

/**
 * The bounded suffix of a log. `window` holds the log's last bytes; `truncated` says whether bytes
 * before it were dropped, in which case its first line is only partly known.
 */
function boundedSuffix(window: Uint8Array, truncated: boolean, limits: LogLimits): Uint8Array {
  if (limits.tail <= 0 || limits.maxBytes <= 0) return new Uint8Array(0);
  const starts = lineStarts(window);
  let first = Math.max(0, starts.length - limits.tail);
  // The cap drops whole lines from the start until the rest fits.
  while (first < starts.length - 1 && window.length - (starts[first] ?? 0) > limits.maxBytes)
    first++;
  // A partial first line never fits whole (its hidden part pushes it over the cap), unless it is
  // the only line left, where the cap keeps its last bytes anyway.
  if (truncated && first === 0 && starts.length > 1) first = 1;
  const start = starts[first] ?? window.length;
  if (window.length - start <= limits.maxBytes) return window.subarray(start);
  return window.subarray(charBoundary(window, window.length - limits.maxBytes));
}

/** Last `tail` lines of `text`, then capped at `maxBytes` of UTF-8 (whole lines dropped first). */
export function boundLogText(text: string, limits: LogLimits): string {
  const bytes = new TextEncoder().encode(text);
  return decoder().decode(boundedSuffix(bytes, false, limits));
}

/** The same bounds applied to bytes (an archived log): only the bounded part is ever decoded. */
export function boundLogBytes(bytes: Uint8Array, limits: LogLimits): string {
  return decoder().decode(boundedSuffix(bytes, false, limits));
}

/**
 * Reads a byte stream keeping only what the bounds can still need, and returns the bounded text
 * decoded as UTF-8 (invalid bytes → U+FFFD). Memory stays O(maxBytes) whatever the log size.
 */
export async function collectTail(
  stream: AsyncIterable<Uint8Array>,
  limits: LogLimits,
): Promise<string> {
  // One byte more than the cap tells whether the window starts on a line boundary.
  const keep = limits.maxBytes + 1;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
    // Whole chunks fall off the front as soon as the rest still fills the window: nothing is
    // copied while reading, so a 100 MB log read for a 64 MiB archive never holds much more.
    let first = chunks[0];
    while (chunks.length > 1 && first !== undefined && size - first.length >= keep) {
      chunks.shift();
      size -= first.length;
      truncated = true;
      first = chunks[0];
    }
  }
  let window = concat(chunks, size);
  if (window.length > keep) {
    window = window.subarray(window.length - keep);
    truncated = true;
  }
  if (truncated && window[0] !== undefined) {
    // If the byte before the cap is a newline, the window's first line is complete after it.
    if (window[0] === NEWLINE)
      return decoder().decode(boundedSuffix(window.subarray(1), false, limits));
    return decoder().decode(boundedSuffix(window, true, limits));
  }
  return decoder().decode(boundedSuffix(window, false, limits));
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
