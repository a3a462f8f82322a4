import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundLogText, collectTail } from '../../src/domain/logs.js';

/** The rule of api.md §10, written the slow and obvious way. */
function reference(text: string, tail: number, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (tail <= 0 || maxBytes <= 0) return '';
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  let kept = lines.slice(Math.max(0, lines.length - tail));
  while (kept.length > 1 && Buffer.concat(kept).length > maxBytes) kept = kept.slice(1);
  let out = Buffer.concat(kept);
  if (out.length > maxBytes) {
    let from = out.length - maxBytes;
    while (from < out.length && ((out[from] ?? 0) & 0xc0) === 0x80) from++;
    out = out.subarray(from);
  }
  return new TextDecoder().decode(out);
}

function* chunked(text: string, size: number): Iterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** An async stream of chunks, as an engine's log stream arrives. */
async function* stream(chunks: Iterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for (const c of chunks) yield await Promise.resolve(c);
}

const logText = fc
  .array(fc.oneof(fc.constantFrom('\n', 'é', '✓', '😀', 'ab', 'x'), fc.string({ maxLength: 8 })), {
    maxLength: 60,
  })
  .map((parts) => parts.join(''));

describe('boundLogText', () => {
  it('keeps the last lines', () => {
    expect(boundLogText('a\nb\nc\n', { tail: 2, maxBytes: 100 })).toBe('b\nc\n');
    expect(boundLogText('a\nb\nc', { tail: 2, maxBytes: 100 })).toBe('b\nc');
    expect(boundLogText('', { tail: 2, maxBytes: 100 })).toBe('');
  });

  it('drops whole lines before cutting one', () => {
    expect(boundLogText('aaaa\nbb\ncc\n', { tail: 10, maxBytes: 6 })).toBe('bb\ncc\n');
    expect(boundLogText('abcdefgh', { tail: 10, maxBytes: 3 })).toBe('fgh');
  });

  it('never cuts inside a UTF-8 character', () => {
    expect(boundLogText('ééé', { tail: 1, maxBytes: 3 })).toBe('é');
  });

  it('agrees with the reference rule', () => {
    fc.assert(
      fc.property(
        logText,
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 40 }),
        (t, n, b) => {
          expect(boundLogText(t, { tail: n, maxBytes: b })).toBe(reference(t, n, b));
        },
      ),
    );
  });
});

describe('collectTail', () => {
  it('agrees with the reference rule for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        logText,
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 7 }),
        async (t, n, b, size) => {
          expect(await collectTail(stream(chunked(t, size)), { tail: n, maxBytes: b })).toBe(
            reference(t, n, b),
          );
        },
      ),
    );
  });

  it('replaces invalid UTF-8 with U+FFFD', async () => {
    const bad = stream([new Uint8Array([0x61, 0xff, 0x62])]);
    expect(await collectTail(bad, { tail: 5, maxBytes: 100 })).toBe('a\uFFFDb');
  });
});
