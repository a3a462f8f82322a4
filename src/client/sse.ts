// Server-sent events as the pman routes write them (id / event / data lines, a blank line ends
// one; `:` lines are keep-alive comments), parsed from a byte stream.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** One event per blank-line-terminated block; comments and blocks without data are skipped. */
export async function* parseSse(chunks: AsyncIterable<Uint8Array>): AsyncIterable<SseEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let block: { event: string; data: string[]; id?: string } = { event: 'message', data: [] };
  const lines = function* (final: boolean): Iterable<string> {
    let nl: number;
    while ((nl = buffered.search(/\r\n|\r|\n/)) >= 0) {
      // A `\r` at the end of a chunk may be the first half of `\r\n`: wait for the next one.
      if (!final && nl === buffered.length - 1 && buffered.endsWith('\r')) break;
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + (buffered.startsWith('\r\n', nl) ? 2 : 1));
      yield line;
    }
    if (final && buffered !== '') {
      const rest = buffered;
      buffered = '';
      yield rest;
      yield '';
    }
  };
  const take = function* (final: boolean): Iterable<SseEvent> {
    for (const line of lines(final)) {
      if (line === '') {
        if (block.data.length > 0) {
          yield {
            event: block.event,
            data: block.data.join('\n'),
            ...(block.id !== undefined && { id: block.id }),
          };
        }
        block = { event: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') block.event = value;
      else if (field === 'data') block.data.push(value);
      else if (field === 'id') block.id = value;
    }
  };
  for await (const chunk of chunks) {
    buffered += decoder.decode(chunk, { stream: true });
    yield* take(false);
  }
  buffered += decoder.decode();
  yield* take(true);
}
