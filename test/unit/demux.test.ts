// demux: Engine log frames → payload bytes, whatever the chunking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demux } from '../../src/backends/shared/demux.js';

function frame(kind: 0 | 1 | 2, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const out = new Uint8Array(8 + bytes.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(4, bytes.length, false);
  out.set(bytes, 8);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, in range). */
function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(last, p));
    last = p;
  }
  return out;
}

function source(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (const c of chunks) yield await Promise.resolve(c);
  })();
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return new TextDecoder().decode(concat(parts));
}

describe('demux', () => {
  it('strips stdout and stderr headers and keeps the engine order', async () => {
    const bytes = concat([frame(1, 'out 1\n'), frame(2, 'err 1\n'), frame(1, 'out 2\n')]);
    expect(await collect(demux(source([bytes])))).toBe('out 1\nerr 1\nout 2\n');
  });

  it('handles headers and payloads split across chunks, byte by byte', async () => {
    const bytes = concat([frame(1, 'héllo ✓\n'), frame(2, '😀\n')]);
    const oneByteChunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(await collect(demux(source(oneByteChunks)))).toBe('héllo ✓\n😀\n');
  });

  it('gives the same bytes for any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(1 as const, 2 as const), fc.string()), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (frames, cuts) => {
          const bytes = concat(frames.map(([k, s]) => frame(k, s)));
          const expected = frames.map(([, s]) => s).join('');
          expect(await collect(demux(source(chunked(bytes, cuts))))).toBe(expected);
        },
      ),
    );
  });

  it('yields nothing for an empty stream and for empty frames', async () => {
    expect(await collect(demux(source([])))).toBe('');
    expect(await collect(demux(source([frame(1, ''), frame(2, '')])))).toBe('');
  });

  it('passes a raw (TTY) stream through unchanged', async () => {
    const raw = new TextEncoder().encode('plain text from a TTY\r\nsecond line\r\n');
    expect(await collect(demux(source(chunked(raw, [3, 11]))))).toBe(
      'plain text from a TTY\r\nsecond line\r\n',
    );
    expect(await collect(demux(source([new TextEncoder().encode('hi')])))).toBe('hi');
  });

  it('yields a truncated last payload as far as it got', async () => {
    const full = frame(1, 'abcdef');
    expect(await collect(demux(source([full.slice(0, 11)])))).toBe('abc');
  });

  it('keeps invalid UTF-8 bytes for the decoder to replace', async () => {
    const parts: Uint8Array[] = [];
    for await (const c of demux(source([frame(1, Uint8Array.of(0x61, 0xff, 0x62))]))) parts.push(c);
    expect([...concat(parts)]).toEqual([0x61, 0xff, 0x62]);
  });
});
