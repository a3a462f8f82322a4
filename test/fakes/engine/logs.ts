// Log bodies as the engine sends them: the last `tail` lines, multiplexed in stdout frames for a
// container without a TTY, or raw with `\r\n` line ends for a TTY (swarm jobs).

/** The last `tail` lines ("all" or absent: every line), each with its line end. */
export function tailLines(text: string, tail: string | undefined): string[] {
  const lines = text.split(/(?<=\n)/).filter((l) => l !== '');
  if (tail === undefined || tail === 'all') return lines;
  const n = Number(tail);
  return n <= 0 ? [] : lines.slice(-n);
}

/** One stdout frame per line: [1, 0, 0, 0, size (uint32 BE)] + payload. */
export function framed(lines: readonly string[]): Uint8Array {
  const parts = lines.map((line) => {
    const payload = Buffer.from(line, 'utf8');
    const header = Buffer.alloc(8);
    header[0] = 1;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  });
  return Buffer.concat(parts);
}

/** What a TTY makes of the lines: `\n` becomes `\r\n`. */
export function tty(lines: readonly string[]): Uint8Array {
  return Buffer.from(lines.map((l) => l.replace(/\n$/, '\r\n')).join(''), 'utf8');
}

/** Bytes per chunk of a log body: small and odd, so frame headers and characters are split
 *  across chunks, as a real engine's socket reads may split them. */
const CHUNK_BYTES = 5;

/** The body as a stream of small chunks. */
export function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + CHUNK_BYTES));
      offset += CHUNK_BYTES;
    },
  });
}
