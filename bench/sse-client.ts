// A minimal text/event-stream client for the events bench: one plain node:http connection (no
// agent, no pooling), frames split on the blank line, each status frame handed over with the
// moment it arrived (performance.now(), this process's monotonic clock).
import http from 'node:http';

export interface StatusFrame {
  seq: number;
  jid: string;
  status: string;
  /** The event's timestamp (ms since the epoch, the server's wall clock). */
  at: number;
}

export interface SseClient {
  /** Resolves once the server sent its first bytes (the `:ok` comment: the subscription is in place). */
  opened: Promise<void>;
  /** Resolves when the server ends the stream or the connection fails. */
  ended: Promise<void>;
  /** The stream ended before close() was called (the server cut it). */
  readonly dropped: boolean;
  close(): void;
}

export interface SseOptions {
  /** Called with each status frame and the time it was read; omit to count ids only. */
  onStatus?: (frame: StatusFrame, receivedAt: number) => void;
  /** Called with each frame's id (cheap: no JSON parse). */
  onId?: (seq: number, receivedAt: number) => void;
  headers?: Record<string, string>;
}

export function connectSse(baseUrl: string, path: string, options: SseOptions): SseClient {
  const url = new URL(path, baseUrl);
  let opened!: () => void;
  let ended!: () => void;
  const openedP = new Promise<void>((r) => (opened = r));
  const endedFlag = { value: false };
  const endedP = new Promise<void>((r) => (ended = r)).then(() => {
    endedFlag.value = true;
  });
  let pending = '';
  let closing = false;
  const req = http.get(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      agent: false,
      headers: { Accept: 'text/event-stream', ...options.headers },
    },
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        opened();
        pending += chunk;
        let cut = pending.indexOf('\n\n');
        while (cut >= 0) {
          onFrame(pending.slice(0, cut), now, options);
          pending = pending.slice(cut + 2);
          cut = pending.indexOf('\n\n');
        }
      });
      // A reset (the server dropped a client too far behind, or stopped) ends the stream too.
      res.on('error', () => ended());
      res.on('end', () => ended());
      res.on('close', () => ended());
    },
  );
  req.on('error', () => {
    opened();
    ended();
  });
  return {
    opened: openedP,
    ended: endedP,
    get dropped() {
      return !closing && endedFlag.value;
    },
    close: () => {
      closing = true;
      req.destroy();
    },
  };
}

function onFrame(frame: string, now: number, options: SseOptions): void {
  if (!frame.startsWith('id: ')) return;
  const eol = frame.indexOf('\n');
  const seq = Number(frame.slice(4, eol));
  options.onId?.(seq, now);
  if (options.onStatus === undefined || !frame.includes('\nevent: status\n')) return;
  const data = frame.slice(frame.indexOf('\ndata: ') + 7);
  const parsed = JSON.parse(data) as {
    seq: number;
    jid: string;
    status: string;
    timestamp: string;
  };
  options.onStatus(
    { seq: parsed.seq, jid: parsed.jid, status: parsed.status, at: Date.parse(parsed.timestamp) },
    now,
  );
}
