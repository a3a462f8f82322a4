// The route handlers (api.md §2, §4, §8, §11, §12): parse, call, serialize — errors go to onError.
import type { Context } from 'hono';
import type { Backend } from '../backends/backend.js';
import type { Config } from '../config.js';
import { readJsonObject } from './body.js';
import type { JobFlows } from './jobs.js';
import { parseStatusFilter, parseTail } from './jobs.js';
import type { RouteName } from './paths.js';
import { jsonResponse, toWire, toWireSummary } from './response.js';

export type Method = 'GET' | 'POST' | 'DELETE';
export type Handler = (c: Context, jid: string) => Promise<Response>;

export interface RouteDeps {
  backend: Backend;
  config: Config;
  flows: JobFlows;
}

/** First value per key, as Werkzeug's request.args.get() reads it. */
export function firstQueryValues(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URL(url).searchParams) if (!(key in out)) out[key] = value;
  return out;
}

/** Handlers per route and method; HEAD runs GET (Hono drops the body). */
export function routes({
  backend,
  config,
  flows,
}: RouteDeps): Record<RouteName, Partial<Record<Method, Handler>>> {
  const indent = config.mode === 'development' ? 4 : undefined;
  const json = (status: number, value: unknown) => jsonResponse(status, value, indent);
  const query = (c: Context) => firstQueryValues(c.req.url);
  return {
    root: {
      GET: () =>
        Promise.resolve(
          json(200, {
            server_version: config.serverVersion,
            container_env: config.containerEnv,
            storage_type: config.storageType,
          }),
        ),
      POST: async (c) => {
        const body = await readJsonObject(c.req.raw);
        const info = await flows.create(body, query(c));
        return json(201, toWire(info, '', backend.cmdStyle));
      },
    },
    job: {
      GET: async (_c, jid) => {
        const { info, logs } = await flows.read(jid);
        return json(200, toWire(info, logs, backend.cmdStyle));
      },
      DELETE: async (_c, jid) => {
        await flows.remove(jid);
        return new Response(null, { status: 204 });
      },
    },
    jobs: {
      GET: async (c) => {
        const jobs = await flows.list(parseStatusFilter(query(c).status));
        return json(200, { jobs: jobs.map((info) => toWireSummary(info, backend.cmdStyle)) });
      },
    },
    logs: {
      GET: async (c, jid) => {
        const tail = parseTail(query(c).tail);
        const headers = { 'Content-Type': 'text/plain; charset=utf-8' };
        // HEAD must not open a log stream that nobody would ever read or close.
        if (c.req.method === 'HEAD') await flows.assertKnown(jid);
        const body = c.req.method === 'HEAD' ? null : await flows.openLogs(jid, tail);
        return new Response(body, { status: 200, headers });
      },
    },
    health: {
      GET: async () => json(200, { status: 'ok', backend: await flows.backendHealth() }),
    },
    ready: {
      GET: async () => {
        await flows.assertBackendReady();
        return json(200, { status: 'ok', backend: 'ok' });
      },
    },
  };
}
