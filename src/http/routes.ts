// The route table (api.md §2): each route once — its name, path pattern and handlers per method.
// Dispatch (app.ts), Allow (router.ts), the token rule (auth-guard) and the 308s (path-rules) all
// derive from it, so a new route is one entry here. Handlers parse, call the JobService, serialize.
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import type { Config } from '../config/config.js';
import { BackendUnavailableError } from '../domain/errors.js';
import type { JobService } from '../service/jobs.js';
import type { HttpContext, Route } from './router.js';
import { readJsonObject } from './wire/body.js';
import { firstQueryValues, parseStatusFilter, parseTail } from './wire/query.js';
import { parseCreateRequest } from './wire/request.js';
import { cmdStyleFor, indentFor, jsonResponse, toWire, toWireSummary } from './wire/response.js';

export interface RouteDeps {
  backend: Backend;
  config: Config;
  jobs: JobService;
  log: Logger;
}

/** What the open probes say about a backend that does not answer (the reason is logged). */
export const BACKEND_DOWN_TEXT = 'unavailable';

/** Where two patterns match one path, the earlier entry wins: `jobs` must precede `:jid`. */
export function routeTable({ backend, config, jobs, log }: RouteDeps): readonly Route[] {
  const cmdStyle = cmdStyleFor(backend.name);
  const json = (status: number, value: unknown) =>
    jsonResponse(status, value, indentFor(config.mode));
  const query = (c: HttpContext) => firstQueryValues(c.req.url);
  const jid = (c: HttpContext) => c.var.match.jid ?? '';
  const text = { 'Content-Type': 'text/plain; charset=utf-8' };
  return [
    {
      name: 'root',
      path: '/api/v1/',
      handlers: {
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
    },
    {
      name: 'jobs',
      path: '/api/v1/jobs/',
      handlers: {
        GET: async (c) => {
          const found = await jobs.list(parseStatusFilter(query(c).status));
          return json(200, { jobs: found.map((info) => toWireSummary(info, cmdStyle)) });
        },
      },
    },
    {
      name: 'job',
      path: '/api/v1/:jid/',
      handlers: {
        GET: async (c) => {
          const { info, logs } = await jobs.read(jid(c));
          return json(200, toWire(info, logs, cmdStyle));
        },
        DELETE: async (c) => {
          await jobs.remove(jid(c));
          return new Response(null, { status: 204 });
        },
      },
    },
    {
      name: 'logs',
      path: '/api/v1/:jid/logs/',
      handlers: {
        GET: async (c) => {
          const tail = parseTail(query(c).tail);
          // HEAD runs this too, and must not open a log stream that nobody would read or close.
          if (c.req.method === 'HEAD') await jobs.assertKnown(jid(c));
          const body = c.req.method === 'HEAD' ? null : await jobs.openLogs(jid(c), tail);
          return new Response(body, { status: 200, headers: text });
        },
      },
    },
    {
      name: 'health',
      path: '/health',
      open: true,
      handlers: {
        GET: async () => {
          const health = await jobs.backendHealth();
          if (health === 'ok') return json(200, { status: 'ok', backend: 'ok' });
          // Open to anyone (probes): the backend's text (socket paths, hosts) stays in the log.
          log.warn({ reason: health }, 'health: backend unavailable');
          return json(200, { status: 'ok', backend: BACKEND_DOWN_TEXT });
        },
      },
    },
    {
      name: 'ready',
      path: '/health/ready',
      open: true,
      handlers: {
        GET: async () => {
          try {
            await jobs.assertBackendReady();
          } catch (err) {
            if (!(err instanceof BackendUnavailableError)) throw err;
            log.warn({ reason: err.message }, 'readiness: backend unavailable');
            const { retryAfterSeconds } = err;
            throw new BackendUnavailableError(BACKEND_DOWN_TEXT, { retryAfterSeconds });
          }
          return json(200, { status: 'ok', backend: 'ok' });
        },
      },
    },
  ];
}
