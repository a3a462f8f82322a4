// The byte stream behind GET …/logs/: a backend's log iterator as a pull-based ReadableStream, or
// a fixed text (a record's captured logs). Mechanics only; which one to answer is the service's.
/**
 * Reads the first chunk before answering, so an unknown job still throws (a 404 can be sent)
 * instead of failing a response that has already begun.
 */
export async function startStream(
  source: AsyncIterable<Uint8Array>,
): Promise<ReadableStream<Uint8Array>> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  return streamFrom(first, iterator);
}

export function streamOfText(text: string): ReadableStream<Uint8Array> {
  return streamOfBytes(new TextEncoder().encode(text));
}

/** Fixed bytes (an archived log), in pieces so a large one is not handed over in one chunk. */
export function streamOfBytes(
  bytes: Uint8Array,
  chunkBytes = 64 * 1024,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

/** Pull-based, so a slow client slows the backend read instead of filling memory. */
function streamFrom(
  first: IteratorResult<Uint8Array>,
  iterator: AsyncIterator<Uint8Array>,
): ReadableStream<Uint8Array> {
  let pending: IteratorResult<Uint8Array> | undefined = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = pending ?? (await iterator.next());
      pending = undefined;
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
