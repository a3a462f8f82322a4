// ?watch=true streams (kubernetes.md §8.5): newline-delimited events, replay, 410 Expired, timeouts, closeWatches().

import type { ServerResponse } from 'node:http';
import type { Predicate } from './selectors.js';
import { failure } from './status.js';
import type { Change, Store } from './store.js';
import type { JsonObject, KubeObject } from './types.js';

export interface WatchRequest {
  /** Store key, e.g. 'batch/jobs'. */
  resource: string;
  kind: string;
  apiVersion: string;
  /** undefined = all namespaces. */
  namespace: string | undefined;
  match: Predicate;
  resourceVersion: string | undefined;
  timeoutSeconds: number | undefined;
  bookmarks: boolean;
}

/** How an expired resourceVersion is answered: an ERROR event in a 200 stream, or HTTP 410 before streaming. */
export type ExpiredForm = 'event' | 'http';

interface OpenWatch {
  end(): void;
}

function expiredStatus(rv: string, oldest: number): JsonObject {
  return failure(410, 'Expired', `too old resource version: ${rv} (${oldest})`).body;
}

export class Watches {
  readonly #open = new Set<OpenWatch>();
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get count(): number {
    return this.#open.size;
  }

  serve(w: WatchRequest, res: ServerResponse, expiredForm: ExpiredForm): void {
    const fromRv =
      w.resourceVersion && w.resourceVersion !== '0' ? Number(w.resourceVersion) : undefined;
    const inScope = (o: KubeObject): boolean =>
      (w.namespace === undefined || o.metadata.namespace === w.namespace) && w.match(o);
    let replay: Change[] = [];
    if (fromRv !== undefined) {
      const since = this.#store.changesSince(w.resource, fromRv);
      if ('expired' in since) {
        const status = expiredStatus(w.resourceVersion ?? '', since.expired);
        if (expiredForm === 'http') {
          res.writeHead(410, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(status));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        res.end(JSON.stringify({ type: 'ERROR', object: status }) + '\n');
        return;
      }
      replay = since.changes;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const send = (type: string, object: KubeObject): void => {
      res.write(JSON.stringify({ type, object }) + '\n');
    };
    if (fromRv === undefined) {
      for (const o of this.#store.list(w.resource, w.namespace).filter(inScope)) send('ADDED', o);
    } else {
      for (const c of replay.filter((c) => inScope(c.object))) send(c.type, c.object);
    }
    const unsubscribe = this.#store.subscribe((c) => {
      if (c.resource === w.resource && inScope(c.object)) send(c.type, c.object);
    });
    let timer: NodeJS.Timeout | undefined;
    const handle: OpenWatch = {
      end: () => {
        if (!this.#open.delete(handle)) return;
        unsubscribe();
        if (timer) clearTimeout(timer);
        if (w.bookmarks && !res.writableEnded) {
          send('BOOKMARK', {
            kind: w.kind,
            apiVersion: w.apiVersion,
            metadata: { resourceVersion: String(this.#store.resourceVersion) },
          });
        }
        if (!res.writableEnded) res.end();
      },
    };
    this.#open.add(handle);
    res.on('close', () => handle.end());
    if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) {
      timer = setTimeout(() => handle.end(), w.timeoutSeconds * 1000);
    }
  }

  /** Ends every open stream cleanly, as an API server restart or a load balancer would. */
  closeAll(): void {
    for (const w of [...this.#open]) w.end();
  }
}
