// Log bytes as lines (the `event: log` items): UTF-8 decoded across chunk boundaries, split at
// \n, \r\n or a lone \r (a TTY's line ends; SSE data may hold none of them); the last line may lack
// its end.
export async function* linesOf(chunks: AsyncIterable<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    const parts = rest.split(/\r\n|\n|\r(?!$)/);
    rest = parts.pop() ?? '';
    yield* parts;
  }
  rest += decoder.decode();
  for (const line of rest.split(/\r\n|\n|\r/)) if (line !== '') yield line;
}
