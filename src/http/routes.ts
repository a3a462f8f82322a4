// The route handlers (api.md §2, §4, §8, §11, §12): parse, call, serialize — errors go to onError.
import type { Context } from 'hono';
import type { Backend } from '../backends/backend.js';
import type { Config } from '../config/config.js';
import { readJsonObject } from './wire/body.js';
import type { JobService } from '../service/jobs.js';
import { firstQueryValues, parseStatusFilter, parseTail } from './wire/query.js';
import { parseCreateRequest } from './wire/request.js';
import type { RouteName } from './middleware/path-rules.js';
import { cmdStyleFor, jsonResponse, toWire, toWireSummary } from './wire/response.js';

export type Method = 'GET' | 'POST' | 'DELETE';
export type Handler = (c: Context, jid: string) => Promise<Response>;

export interface RouteDeps {
  backend: Backend;
  config: Config;
  jobs: JobService;
}

/** Handlers per route and method; HEAD runs GET (Hono drops the body). */
export function routes({
  backend,
  config,
  jobs,
}: RouteDeps): Record<RouteName, Partial<Record<Method, Handler>>> {
  const indent = config.mode === 'development' ? 4 : undefined;
  const cmdStyle = cmdStyleFor(backend.name);
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
        const rule = backend.capabilities.jobName;
        const info = await jobs.create(parseCreateRequest(body, query(c), rule, backend.name));
        return json(201, toWire(info, '', cmdStyle));
      },
    },
    job: {
      GET: async (_c, jid) => {
        const { info, logs } = await jobs.read(jid);
        return json(200, toWire(info, logs, cmdStyle));
      },
      DELETE: async (_c, jid) => {
        await jobs.remove(jid);
        return new Response(null, { status: 204 });
      },
    },
    jobs: {
      GET: async (c) => {
        const found = await jobs.list(parseStatusFilter(query(c).status));
        return json(200, { jobs: found.map((info) => toWireSummary(info, cmdStyle)) });
      },
    },
    logs: {
      GET: async (c, jid) => {
        const tail = parseTail(query(c).tail);
        const headers = { 'Content-Type': 'text/plain; charset=utf-8' };
        // HEAD must not open a log stream that nobody would ever read or close.
        if (c.req.method === 'HEAD') await jobs.assertKnown(jid);
        const body = c.req.method === 'HEAD' ? null : await jobs.openLogs(jid, tail);
        return new Response(body, { status: 200, headers });
      },
    },
    health: {
      GET: async () => json(200, { status: 'ok', backend: await jobs.backendHealth() }),
    },
    ready: {
      GET: async () => {
        await jobs.assertBackendReady();
        return json(200, { status: 'ok', backend: 'ok' });
      },
    },
  };
}
