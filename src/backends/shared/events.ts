// A reconnecting Docker events stream (GET /events, Engine API 1.41) with exponential backoff, a
// resync after every (re)connect and every resyncMs, and a callback per event. It feeds WatchedJobs;
// it never answers a request itself.
import type Docker from 'dockerode';
import type { Logger } from 'pino';

/** The parts of an Engine event we read. */
export interface EngineEvent {
  /** "container", "service", … */
  type: string;
  /** "create", "start", "die", "destroy", "update", "remove", … */
  action: string;
  /** Actor.ID: container or service id. */
  id: string;
  /** Actor.Attributes: the container's labels and name, or the service's name. */
  attributes: Readonly<Record<string, string>>;
}

export interface EventWatchOptions {
  docker: Docker;
  /** Engine-side event filters, e.g. { type: ['container'], label: ['a=b'] }. */
  filters: Record<string, string[]>;
  onEvent: (event: EngineEvent) => void;
  /** A full re-read of our jobs: after every (re)connect and then every resyncMs. */
  resync: () => Promise<void>;
  /** The stream broke (the engine went away, or it ended): stop answering from the view. */
  onDown: () => void;
  log: Logger;
  resyncMs: number;
  /** A cheap engine call (ping). A connection that dies silently (a half-open TCP link, a hung
   *  engine) never ends the stream, so while it is up this runs every heartbeatMs and a failure,
   *  or no answer within heartbeatMs, counts as the stream being down. */
  heartbeat?: () => Promise<void>;
  heartbeatMs?: number;
  /** First reconnect delay; doubles up to maxBackoffMs (milliseconds). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface EventWatch {
  /** Stops the stream and the timers. */
  close(): void;
}

const DEFAULT_INITIAL_BACKOFF_MS = 250;
const DEFAULT_MAX_BACKOFF_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 5_000;

/** dockerode types the events stream as a plain ReadableStream; the real one is a Node stream. */
function destroy(stream: NodeJS.ReadableStream): void {
  const s = stream as NodeJS.ReadableStream & { destroy?: () => void };
  s.destroy?.();
}

function parseEvent(line: string): EngineEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as {
    Type?: unknown;
    Action?: unknown;
    Actor?: { ID?: unknown; Attributes?: unknown };
  };
  if (typeof r.Type !== 'string' || typeof r.Action !== 'string') return undefined;
  const attrs = r.Actor?.Attributes;
  const attributes: Record<string, string> = {};
  if (typeof attrs === 'object' && attrs !== null) {
    for (const [k, v] of Object.entries(attrs)) if (typeof v === 'string') attributes[k] = v;
  }
  const id = typeof r.Actor?.ID === 'string' ? r.Actor.ID : '';
  return { type: r.Type, action: r.Action, id, attributes };
}

/** Starts watching at once (connect, then resync) and keeps reconnecting until close(). */
export function watchEvents(options: EventWatchOptions): EventWatch {
  const initial = options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
  const max = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const log = options.log;
  let closed = false;
  let backoff = initial;
  let stream: NodeJS.ReadableStream | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let resyncing: Promise<void> | undefined;

  /** One resync at a time; a failure means the engine is in trouble, so the stream is restarted. */
  const resync = (): Promise<void> => {
    resyncing ??= options
      .resync()
      .then(() => {
        backoff = initial;
      })
      .catch((err: unknown) => {
        log.warn({ err }, 'job view resync failed; reconnecting the event stream');
        drop();
      })
      .finally(() => {
        resyncing = undefined;
      });
    return resyncing;
  };

  const resyncTimer = setInterval(() => {
    if (stream !== undefined) void resync();
  }, options.resyncMs);
  resyncTimer.unref();

  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  let beating = false;
  const heartbeatTimer = setInterval(() => {
    const beat = options.heartbeat;
    if (beat === undefined || stream === undefined || beating) return;
    const s = stream;
    beating = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${heartbeatMs} ms`)),
        heartbeatMs,
      );
    });
    Promise.race([beat(), late])
      .catch((err: unknown) => {
        if (stream !== s) return;
        log.warn({ err }, 'docker engine heartbeat failed; the job view falls back to the engine');
        drop();
      })
      .finally(() => {
        clearTimeout(timer);
        beating = false;
      });
  }, heartbeatMs);
  heartbeatTimer.unref();

  const scheduleReconnect = (): void => {
    if (closed || retryTimer !== undefined) return;
    const wait = backoff;
    backoff = Math.min(max, backoff * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, wait);
    retryTimer.unref();
  };

  /** The stream is gone (or useless): the view stops answering and a reconnect is scheduled. */
  const drop = (): void => {
    options.onDown();
    const s = stream;
    stream = undefined;
    if (s !== undefined) destroy(s);
    scheduleReconnect();
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    let s: NodeJS.ReadableStream;
    try {
      s = await options.docker.getEvents({ filters: options.filters });
    } catch (err) {
      log.debug({ err }, 'event stream could not be opened');
      options.onDown();
      scheduleReconnect();
      return;
    }
    if (closed) {
      destroy(s);
      return;
    }
    stream = s;
    // Decoded as UTF-8 by the stream, so a character split across chunks stays whole.
    s.setEncoding('utf8');
    let buffered = '';
    s.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const event = line === '' ? undefined : parseEvent(line);
        if (event !== undefined) options.onEvent(event);
      }
    });
    const ended = (err?: unknown): void => {
      if (stream !== s) return;
      if (!closed)
        log.warn({ err }, 'docker event stream lost; the job view falls back to the engine');
      drop();
    };
    s.on('error', ended);
    s.on('end', () => ended());
    s.on('close', () => ended());
    // Connected first, then re-read: nothing that happens after the list can be missed.
    await resync();
  };

  void connect();

  return {
    close() {
      closed = true;
      clearInterval(resyncTimer);
      clearInterval(heartbeatTimer);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      const s = stream;
      stream = undefined;
      if (s !== undefined) destroy(s);
    },
  };
}

/**
 * Per-job single flight with one pending re-run: a burst of events for one job (create, start, die
 * within milliseconds) costs at most two reads, not one per event. The re-run uses the latest
 * read asked for; reads must handle their own errors.
 */
export class Refresher {
  /** Jobs with a read in flight → the read to run once it is done (undefined: none asked). */
  readonly #inFlight = new Map<string, (() => Promise<void>) | undefined>();

  run(name: string, read: () => Promise<void>): void {
    if (this.#inFlight.has(name)) {
      this.#inFlight.set(name, read);
      return;
    }
    this.#inFlight.set(name, undefined);
    void this.#loop(name, read);
  }

  async #loop(name: string, read: () => Promise<void>): Promise<void> {
    let next: (() => Promise<void>) | undefined = read;
    while (next !== undefined) {
      const current: () => Promise<void> = next;
      this.#inFlight.set(name, undefined);
      await current().catch(() => undefined);
      next = this.#inFlight.get(name);
    }
    this.#inFlight.delete(name);
  }
}
