// Reads a text/event-stream response in tests: frames (id, event, data) and comments as they come,
// each wait bounded so a test fails instead of hanging.
export interface Frame {
  id?: string;
  event: string;
  data: string;
}

export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';
  comments = 0;
  done = false;

  constructor(response: Response) {
    if (response.body === null) throw new Error('no body');
    this.#reader = response.body.getReader();
  }

  /** The next frame; undefined once the stream ended. */
  async next(timeoutMs = 5000): Promise<Frame | undefined> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const frame = parse(block);
        if (frame === undefined) {
          this.comments++;
          continue;
        }
        return frame;
      }
      if (this.done) return undefined;
      const read = await Promise.race([
        this.#reader.read(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no SSE data within ${timeoutMs} ms`)), timeoutMs),
        ),
      ]);
      if (read.done) this.done = true;
      else this.#buffer += this.#decoder.decode(read.value, { stream: true });
    }
  }

  /** The next `n` frames (fails when the stream ends first). */
  async take(n: number, timeoutMs?: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    while (frames.length < n) {
      const frame = await this.next(timeoutMs);
      if (frame === undefined)
        throw new Error(`stream ended after ${frames.length} of ${n} frames`);
      frames.push(frame);
    }
    return frames;
  }

  /** Every frame until the stream ends. */
  async rest(timeoutMs?: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (frame === undefined) return frames;
      frames.push(frame);
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function parse(block: string): Frame | undefined {
  const lines = block.split('\n');
  if (lines.every((line) => line.startsWith(':'))) return undefined;
  const frame: Frame = { event: 'message', data: '' };
  const data: string[] = [];
  for (const line of lines) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') frame.id = value;
    else if (field === 'event') frame.event = value;
    else if (field === 'data') data.push(value);
  }
  frame.data = data.join('\n');
  return frame;
}

export interface StatusData {
  seq: number;
  jid: string;
  run: number;
  status: string;
  message: string;
  timestamp: string;
}

export function statusOf(frame: Frame): StatusData {
  return JSON.parse(frame.data) as StatusData;
}
