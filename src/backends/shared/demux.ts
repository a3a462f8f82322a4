// demux: the Engine's multiplexed stdout/stderr log frames → the payload bytes, in stream order.
// Frame format (Engine API, "Attach to a container" → "Stream format"): an 8-byte header
// [stream type 0|1|2, 0, 0, 0, payload size as uint32 big-endian] followed by the payload.
// https://docs.docker.com/engine/api/v1.41/#tag/Container/operation/ContainerAttach

const HEADER_SIZE = 8;

/** Whether `header` (8 bytes) looks like a multiplexing header: stdin/stdout/stderr, three zero bytes. */
function isFrameHeader(header: Uint8Array): boolean {
  const kind = header[0] ?? 0xff;
  return kind <= 2 && header[1] === 0 && header[2] === 0 && header[3] === 0;
}

function payloadSize(header: Uint8Array): number {
  return new DataView(header.buffer, header.byteOffset, HEADER_SIZE).getUint32(4, false);
}

/**
 * Strips the frame headers and yields payload bytes as they arrive (a frame split over chunks is
 * yielded piecewise, so memory stays bounded by the chunk size). A stream that does not start with
 * a frame header (a TTY container's raw stream) is passed through unchanged. A trailing partial
 * header is dropped; a truncated payload is yielded as far as it got.
 */
export async function* demux(stream: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const header = new Uint8Array(HEADER_SIZE);
  let headerFill = 0;
  let remaining = 0;
  let decided: 'frames' | 'raw' | undefined;
  for await (const chunk of stream) {
    if (decided === 'raw') {
      if (chunk.length > 0) yield chunk;
      continue;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length - offset);
        yield chunk.subarray(offset, offset + take);
        offset += take;
        remaining -= take;
        continue;
      }
      const take = Math.min(HEADER_SIZE - headerFill, chunk.length - offset);
      header.set(chunk.subarray(offset, offset + take), headerFill);
      headerFill += take;
      offset += take;
      if (headerFill < HEADER_SIZE) break;
      headerFill = 0;
      if (decided === undefined) {
        decided = isFrameHeader(header) ? 'frames' : 'raw';
        if (decided === 'raw') {
          // Not multiplexed after all: give back what was taken for a header, then the rest as is.
          yield header.slice();
          if (offset < chunk.length) yield chunk.subarray(offset);
          break;
        }
      }
      remaining = payloadSize(header);
    }
  }
  // A stream shorter than one header cannot be multiplexed output: it is raw text.
  if (decided === undefined && headerFill > 0) yield header.slice(0, headerFill);
}
