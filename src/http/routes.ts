// The route table (api.md §2): each route once — its name, path pattern and handlers per method.
// Dispatch (app.ts), Allow (router.ts), the token rule (auth-guard) and the 308s (path-rules) all
// derive from it, so a new route is one entry here. Handlers parse, call the JobService, serialize.
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import type { Config } from '../config/config.js';
import { BackendUnavailableError } from '../domain/errors.js';
import { EventStreams } from '../service/event-streams.js';
import { capacityReport } from '../service/capacity.js';
import { DEFAULT_CANCEL_GRACE_SECONDS } from '../config/control.js';
import { toWireCapacity } from './wire/capacity.js';
import type { Metrics } from '../service/metrics.js';
import type { StreamSettings } from '../service/event-streams.js';
import type { JobService } from '../service/jobs.js';
import type { Ledger } from '../store/ledger.js';
import type { HttpContext, Route } from './router.js';
import { boundLogText } from '../domain/logs.js';
import { eventsRoute, followedLogs, jobEventsRoute } from './event-routes.js';
import { imagesRoute } from './images-route.js';
import { metricsRoute } from './metrics-route.js';
import { submitHandler } from './submit-route.js';
import { listJobs } from '../service/job-list.js';
import { parseJobsQuery } from './wire/jobs-query.js';
import { parseFollow, rejectUnknown } from './wire/events.js';
import { parseHistoryQuery, parseRunNumber } from './wire/history.js';
import { toWireHistoryPage, toWireRunWithAttempts } from './wire/history-response.js';
import { firstQueryValues, parseTail } from './wire/query.js';
import { cmdStyleFor, indentFor, jsonResponse, toWire, toWireSummary } from './wire/response.js';
import { toWireWebhooks } from './wire/webhooks.js';
import { assertNoQueueParameters, toWireQueue } from './wire/queue.js';

export interface RouteDeps {
  backend: Backend;
  config: Config;
  jobs: JobService;
  /** The job ledger: its event hub drives the push routes (issue 12). */
  ledger: Ledger;
  /** The push routes' bounds (tests shrink them). */
  streams?: StreamSettings;
  log: Logger;
  /** GET /metrics's registry (issue 14); absent: no /metrics route. */
  metrics?: Metrics;
}

/** No byte cap on a run's archived log: it was bounded when archived (LOG_ARCHIVE_MAX_BYTES). */
const ALL = Number.MAX_SAFE_INTEGER;

/** What the open probes say about a backend that does not answer (the reason is logged). */
export const BACKEND_DOWN_TEXT = 'unavailable';

/**
 * Where two patterns match one path, the earlier entry wins: `jobs` and the history routes must
 * precede `:jid` (/api/v1/history/logs/ is the history of a job "logs", not the logs of "history").
 */
export function routeTable(deps: RouteDeps): readonly Route[] {
  const { backend, config, jobs, log } = deps;
  const streams = new EventStreams({ ledger: deps.ledger, backend, jobs }, deps.streams);
  const cmdStyle = cmdStyleFor(backend.name);
  const serviceStateOf = (runId: number) => deps.ledger.services.get(runId);
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
        // Idempotency-Key, EXISTING_JOB and Pman-Ignored-Fields (issue 13): submit-route.ts.
        POST: submitHandler({
          backend,
          config,
          jobs,
          ledger: deps.ledger,
          warn: (message, err) => log.warn({ err }, message),
        }),
      },
    },
    {
      name: 'jobs',
      path: '/api/v1/jobs/',
      handlers: {
        GET: async (c) => {
          const page = await listJobs(jobs, deps.ledger, parseJobsQuery(c.req.url));
          const found = page.jobs.map((info) => toWireSummary(info, cmdStyle));
          return json(200, { jobs: found, ...(page.next !== undefined && { next: page.next }) });
        },
      },
    },
    {
      name: 'history',
      path: '/api/v1/history/',
      handlers: {
        GET: (c) => {
          const page = jobs.history(parseHistoryQuery(c.req.url));
          return Promise.resolve(
            json(200, toWireHistoryPage(page.runs, page.next, cmdStyle, serviceStateOf)),
          );
        },
      },
    },
    {
      name: 'job-history',
      path: '/api/v1/history/:jid/',
      handlers: {
        GET: (c) => {
          const runs = jobs
            .historyOf(jid(c))
            .map((run) =>
              toWireRunWithAttempts(run, deps.ledger.attempts.of(run.id), cmdStyle, serviceStateOf),
            );
          return Promise.resolve(json(200, { jid: jid(c), runs }));
        },
      },
    },
    {
      name: 'run-logs',
      path: '/api/v1/history/:jid/:run/logs/',
      handlers: {
        GET: (c) => {
          rejectUnknown(new URL(c.req.url).searchParams, ['tail']);
          const tail = parseTail(query(c).tail);
          const logs = jobs.runLog(jid(c), parseRunNumber(c.req.param('run')));
          const body = tail === undefined ? logs : boundLogText(logs, { tail, maxBytes: ALL });
          return Promise.resolve(new Response(body, { status: 200, headers: text }));
        },
      },
    },
    {
      name: 'attempt-logs',
      path: '/api/v1/history/:jid/:run/attempts/:attempt/logs/',
      handlers: {
        GET: (c) => {
          rejectUnknown(new URL(c.req.url).searchParams, ['tail']);
          const tail = parseTail(query(c).tail);
          const run = parseRunNumber(c.req.param('run'));
          const attempt = parseRunNumber(c.req.param('attempt'), 'attempt');
          const logs = jobs.attemptLog(jid(c), run, attempt);
          const body = tail === undefined ? logs : boundLogText(logs, { tail, maxBytes: ALL });
          return Promise.resolve(new Response(body, { status: 200, headers: text }));
        },
      },
    },
    {
      name: 'webhooks',
      path: '/api/v1/webhooks/',
      handlers: {
        GET: () => {
          const targets = deps.ledger.outbox.status();
          const body = toWireWebhooks(targets, config.webhooks?.url, Date.now());
          return Promise.resolve(json(200, body));
        },
      },
    },
    {
      name: 'queue',
      path: '/api/v1/queue/',
      handlers: {
        GET: (c) => {
          assertNoQueueParameters(c.req.url);
          const { queue } = jobs;
          return Promise.resolve(
            json(200, toWireQueue(queue.places(), queue.running(), queue.caps)),
          );
        },
      },
    },
    {
      // Issue 13: the backend's nodes, what runs and waits, the caps in force.
      name: 'capacity',
      path: '/api/v1/capacity/',
      handlers: {
        GET: async (c) => {
          rejectUnknown(new URL(c.req.url).searchParams, []);
          const report = await capacityReport({
            backend,
            ledger: deps.ledger,
            caps: config.queue ?? {},
            cancelGraceSeconds: config.control?.cancelGraceSeconds ?? DEFAULT_CANCEL_GRACE_SECONDS,
            jobDeadlineSeconds: config.control?.jobDeadlineSeconds,
          });
          return json(200, toWireCapacity(report));
        },
      },
    },
    // Issue 15: the images this server will run (before `:jid`, like every named route).
    imagesRoute(backend, config.imageAllowlist, json),
    eventsRoute(streams),
    jobEventsRoute(streams),
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
      // Issue 13: stop without removing; 202 with the job as it is now (SIGTERM sent).
      name: 'cancel',
      path: '/api/v1/:jid/cancel/',
      handlers: {
        POST: async (c) => {
          // A parameter here would be a misunderstanding (e.g. ?grace=): refused, never ignored.
          rejectUnknown(new URL(c.req.url).searchParams, []);
          return json(202, toWire(await jobs.cancel(jid(c)), '', cmdStyle));
        },
      },
    },
    {
      name: 'logs',
      path: '/api/v1/:jid/logs/',
      handlers: {
        GET: async (c) => {
          rejectUnknown(new URL(c.req.url).searchParams, ['tail', 'follow']);
          const tail = parseTail(query(c).tail);
          if (parseFollow(query(c).follow) && c.req.method !== 'HEAD')
            return followedLogs(streams, jid(c), tail);
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
    ...(deps.metrics === undefined ? [] : [metricsRoute(deps.metrics, config.metrics?.token)]),
  ];
}
