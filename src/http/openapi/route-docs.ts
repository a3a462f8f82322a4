// The description of every route of the table (routes.ts and app.ts), keyed by its Hono path:
// a new route is one entry here. test/http/openapi.test.ts fails while a route of the table has
// none. Bodies are named by the zod schemas of schemas.ts and the create body of request.ts.
import { z } from 'zod';
import { JOB_STATUSES } from '../../domain/job.js';
import type { EVENTS_PARAMETERS } from '../wire/events.js';
import type { HISTORY_PARAMETERS } from '../wire/history.js';
import { DEFAULT_HISTORY_LIMIT } from '../wire/history.js';
import { IDEMPOTENCY_KEY_HEADER } from '../wire/idempotency-key.js';
import { IGNORED_FIELDS_HEADER } from '../wire/ignored-fields.js';
import { PMAN3_FIELDS } from '../wire/legacy.js';
import type { JOBS_PARAMETERS } from '../wire/jobs-query.js';
import { ImageCatalogueSchema, MAX_QUERY_CHARS } from '../wire/images.js';
import type { IMAGES_PARAMETERS } from '../wire/images.js';
import { json } from './describe.js';
import type { Answer, Parameter, RouteDoc } from './describe.js';
import {
  BadRequest,
  Capacity,
  ErrorMessage,
  Health,
  HistoryPage,
  JobHistory,
  JobList,
  JobObject,
  OpenApiDocument,
  Queue,
  ServerInfo,
  ValidationErrors,
  WebhookTargets,
} from './schemas.js';

const API = ['jobs'] as const;
const STREAMS = ['events'] as const;
const HISTORY = ['history'] as const;
const OPS = ['operations'] as const;
const DOCS = ['docs and dashboard'] as const;

const notFound: Answer = {
  description: 'No such job: `{"message": "job \\"<jid>\\" not found"}`.',
  content: json(ErrorMessage),
};
const badQuery: Answer = {
  description: 'A query parameter is unknown or bad: the bundle names it.',
  content: json(ValidationErrors),
};
const unavailable: Answer = {
  description: 'The backend (or the job store) is unreachable or timed out.',
  content: json(ErrorMessage),
  headers: { 'Retry-After': "Seconds to wait (the backend's value, else 5)." },
};
const logText = {
  kind: 'text',
  mediaType: 'text/plain; charset=utf-8',
  description: 'The log text, streamed.',
} as const;

const ignored = {
  [IGNORED_FIELDS_HEADER]:
    'The body fields no version of the create reads (ignored, as pman did), comma-separated; absent when none.',
};

const statusParam: Parameter = {
  description: 'Only jobs in this status; another value is a 400.',
  schema: z.enum(JOB_STATUSES),
};
const tailParam: Parameter = {
  description: 'Only the last N lines (default: all).',
  schema: z.int().min(0),
};
const rfc3339Param = (what: string): Parameter => ({
  description: `${what} (RFC 3339, e.g. 2024-05-07T15:02:11Z).`,
  schema: z.string(),
});

/** The list's query, in JOBS_PARAMETERS' order (the test compares the two). */
const jobsQuery: Record<(typeof JOBS_PARAMETERS)[number], Parameter> = {
  status: statusParam,
  label: {
    description:
      '`key=value`: only jobs whose engine objects carry this label (repeatable: all must match).',
    schema: z.string().regex(/^[^=]+=/),
    repeated: true,
  },
  auid: { description: 'Only jobs submitted with this auid.', schema: z.string().min(1) },
  limit: {
    description: 'Page size, 1-1000 (default: every job in one answer).',
    schema: z.int().min(1).max(1000),
  },
  cursor: { description: 'The `next` of the previous page.', schema: z.string().min(1) },
};

/** The history query, in HISTORY_PARAMETERS' order (the test compares the two). */
const historyQuery: Record<(typeof HISTORY_PARAMETERS)[number], Parameter> = {
  jid: { description: 'Only runs of this job.', schema: z.string().min(1) },
  status: { description: 'Only runs in this status.', schema: z.enum(JOB_STATUSES) },
  auid: { description: 'Only runs submitted with this auid.', schema: z.string().min(1) },
  since: rfc3339Param('Runs created at or after'),
  until: rfc3339Param('Runs created before'),
  limit: {
    description: `Page size (default ${DEFAULT_HISTORY_LIMIT}).`,
    schema: z.int().min(1).max(1000),
  },
  cursor: { description: 'The `next` of the previous page.', schema: z.string().min(1) },
};

/** The catalogue's query, in IMAGES_PARAMETERS' order. */
const imagesQuery: Record<(typeof IMAGES_PARAMETERS)[number], Parameter> = {
  q: {
    description: 'Only images whose reference or OCI title contains this text (any case).',
    schema: z.string().min(1).max(MAX_QUERY_CHARS),
  },
};

const eventsQuery: Record<(typeof EVENTS_PARAMETERS)[number], Parameter> = {
  since: {
    description: 'Replay the stored events after this sequence number, then go on live.',
    schema: z.int().min(0),
  },
  jid: { description: 'Only these jobs (repeatable).', schema: z.string().min(1), repeated: true },
  status: {
    description: 'Only these statuses (repeatable).',
    schema: z.enum(JOB_STATUSES),
    repeated: true,
  },
};

const SSE_STATUS =
  'Server-sent events. Each status change: `id: <seq>`, `event: status`, `data:` a JSON StatusEvent (seq, jid, run, status, message, timestamp). A `since` outside the kept events starts with `event: reset`, `data: {"oldest": <seq|null>, "last": <seq>}`. A `:` comment every 15 s without events.';

export interface DocContext {
  /** The create body's JSON Schema (body.ts), for the configured backend's jid rule. */
  createBody: Record<string, unknown>;
}

export function routeDocs(ctx: DocContext): Readonly<Record<string, RouteDoc>> {
  return {
    '/api/v1/': {
      methods: {
        GET: {
          summary: 'Server info',
          description: 'pfcon polls it at start-up. No backend call.',
          tags: API,
          answers: {
            200: { description: 'The three keys, in this order.', content: json(ServerInfo) },
          },
        },
        POST: {
          summary: 'Create a job',
          description: `pman's create (api.md §5). Older shapes are accepted and mapped: pman 3 (string fields ${PMAN3_FIELDS.map((f) => `\`${f}\``).join(', ')} and no \`entrypoint\`) and pman 4/5 (\`entrypoint\` but neither \`input_dir\` nor \`output_dir\`: both become \`key-<jid>/incoming\`, \`key-<jid>/outgoing\`). Checks, in order: body format (415/413/400), field validation (one 400 bundle, pman's field order), empty entrypoint, bad env, backend capabilities (plain-string 400s), duplicate jid (409).`,
          tags: API,
          headers: {
            [IDEMPOTENCY_KEY_HEADER]: {
              description:
                'A retry with the same key and request gets the first answer again (status and body) without a second job; with another request, 409 naming the differing fields.',
              schema: z.string().min(1).max(255),
            },
          },
          body: {
            description:
              'The job, as pfcon 5.2+ sends it. `Content-Type: application/json` (or `application/<x>+json`), at most 1 MiB.',
            jsonSchema: ctx.createBody,
          },
          answers: {
            201: {
              description: 'Accepted: the job object, `status` `notstarted`, `logs` `""`.',
              content: json(JobObject),
              headers: ignored,
            },
            200: {
              description:
                'The job already exists with the same request (EXISTING_JOB=return or rerun-failed): the job as a GET shows it.',
              content: json(JobObject),
              headers: ignored,
            },
            400: {
              description:
                'Bad JSON or a non-object body, or field errors (the bundle `{"message": {"<field>": "<text>"}}`), or a plain-string semantic error (`"entrypoint" cannot be empty`, the env text, a capability problem, an image that cannot be pulled).',
              content: json(BadRequest),
            },
            403: { description: 'The image is not allowed here.', content: json(ErrorMessage) },
            409: {
              description:
                '`job "<jid>" already exists`, or the Idempotency-Key / EXISTING_JOB request differs (the fields are named).',
              content: json(ErrorMessage),
              headers: ignored,
            },
            429: {
              description: 'Too many creates waiting (MAX_WAITING_CREATES).',
              content: json(ErrorMessage),
              headers: { 'Retry-After': 'Seconds to wait.' },
            },
            413: { description: 'Body over 1 MiB.', content: json(ErrorMessage) },
            415: {
              description: "Body not declared as JSON (pman's text).",
              content: json(ErrorMessage),
            },
            503: unavailable,
          },
        },
      },
    },
    '/api/v1/jobs/': {
      methods: {
        GET: {
          summary: 'List jobs',
          description: 'The jobs this service created, without logs, sorted by jid.',
          tags: API,
          query: jobsQuery,
          answers: {
            200: { description: 'The list.', content: json(JobList) },
            400: badQuery,
            503: unavailable,
          },
        },
      },
    },
    '/api/v1/:jid/': {
      methods: {
        GET: {
          summary: 'Job status and log tail',
          description: 'What pfcon polls. Terminal statuses are final until DELETE.',
          tags: API,
          answers: {
            200: { description: 'The job object.', content: json(JobObject) },
            404: notFound,
            503: unavailable,
          },
        },
        DELETE: {
          summary: 'Remove a job',
          description:
            'Stops it if it runs and removes it from the backend; its history stays. With `REMOVE_JOBS=no`: 204 without looking.',
          tags: API,
          answers: { 204: { description: 'Removed; no body.' }, 404: notFound, 503: unavailable },
        },
      },
    },
    '/api/v1/:jid/cancel/': {
      methods: {
        POST: {
          summary: 'Cancel a job',
          description:
            'Stops it without removing it: SIGTERM, SIGKILL after CANCEL_GRACE_SECONDS; it ends `finishedWithError` with its logs and history kept. One not started yet ends at once. No body.',
          tags: API,
          answers: {
            202: {
              description: 'The job as it is now (`message` says the signal was sent).',
              content: json(JobObject),
            },
            400: { description: 'The backend cannot stop jobs.', content: json(ErrorMessage) },
            404: notFound,
            409: { description: 'The job has already ended.', content: json(ErrorMessage) },
            503: unavailable,
          },
        },
      },
    },
    '/api/v1/:jid/logs/': {
      methods: {
        GET: {
          summary: 'Full log',
          description:
            'Streamed, never buffered whole. `?follow=1`: then new output until the job ends (chunked).',
          tags: API,
          query: {
            tail: tailParam,
            follow: {
              description: '1/true/yes: follow until the job ends; 0/false/no: plain.',
              schema: z.enum(['1', '0', 'true', 'false', 'yes', 'no']),
            },
          },
          answers: {
            200: { description: 'The log.', content: logText },
            400: badQuery,
            404: notFound,
            503: unavailable,
          },
        },
      },
    },
    '/api/v1/:jid/events/': {
      methods: {
        GET: {
          summary: "One job's events and log lines",
          description:
            'The jid\'s latest run: status events and `event: log` lines from the start, then live; then `event: end`, `data: {"jid", "run", "status", "exit_code"}`, and the stream closes. No query parameters.',
          tags: STREAMS,
          answers: {
            200: {
              description: 'The stream.',
              content: { kind: 'sse', description: 'status, log and end events' },
            },
            400: badQuery,
            404: notFound,
          },
        },
      },
    },
    '/api/v1/events/': {
      methods: {
        GET: {
          summary: "Every run's status changes",
          tags: STREAMS,
          query: eventsQuery,
          headers: {
            'Last-Event-ID': {
              description: 'Where a reconnecting client stopped; wins over `since`.',
              schema: z.string(),
            },
          },
          answers: {
            200: { description: 'The stream.', content: { kind: 'sse', description: SSE_STATUS } },
            400: badQuery,
          },
        },
      },
    },
    '/api/v1/webhooks/': {
      methods: {
        GET: {
          summary: 'Webhook delivery state',
          description:
            "Per target: pending deliveries, the oldest one's age, the last error, delivered and failed counts.",
          tags: OPS,
          answers: { 200: { description: 'The targets.', content: json(WebhookTargets) } },
        },
      },
    },
    '/api/v1/history/:jid/:run/attempts/:attempt/logs/': {
      pathParams: {
        run: { description: 'The run number: 1, 2, …', schema: z.int().min(1) },
        attempt: { description: 'The attempt number: 1, 2, …', schema: z.int().min(1) },
      },
      methods: {
        GET: {
          summary: "An attempt's captured log",
          description: 'A run retried (`retries`) keeps the log of each earlier attempt.',
          tags: HISTORY,
          query: { tail: tailParam },
          answers: {
            200: { description: 'The log.', content: logText },
            400: badQuery,
            404: notFound,
          },
        },
      },
    },
    '/api/v1/capacity/': {
      methods: {
        GET: {
          summary: 'Capacity',
          description:
            "The backend's nodes (CPU millicores, memory MiB, GPUs) and their total, what runs and waits, and the caps in force.",
          tags: OPS,
          answers: {
            200: { description: 'The report.', content: json(Capacity) },
            400: badQuery,
            503: unavailable,
          },
        },
      },
    },
    '/api/v1/images/': {
      methods: {
        GET: {
          summary: 'Image catalogue',
          description:
            'The images this server will run (issue 15): each IMAGE_ALLOWLIST line (an exact reference, a repository or a `*` pattern) and, on docker and podman, each local tag the list admits, with size, creation time and its OCI labels (`org.opencontainers.image.title`, `.description`, `.version`). Without IMAGE_ALLOWLIST any image may run: `allowlist` is null and the local tags are listed as what is at hand. Other backends list only the allow-list (`local_images_unavailable` says so). Sorted by reference.',
          tags: OPS,
          query: imagesQuery,
          answers: {
            200: { description: 'The catalogue.', content: json(ImageCatalogueSchema) },
            400: badQuery,
            503: unavailable,
          },
        },
      },
    },
    '/api/v1/queue/': {
      methods: {
        GET: {
          summary: 'The queue',
          description:
            'The queued runs in the order they will start (position 1 first), how many admitted runs are going, and the caps in force (MAX_RUNNING, MAX_RUNNING_PER_AUID, MAX_GPUS). No query parameters.',
          tags: OPS,
          answers: { 200: { description: 'The queue.', content: json(Queue) }, 400: badQuery },
        },
      },
    },
    '/api/v1/history/': {
      methods: {
        GET: {
          summary: 'Runs, newest first',
          description: 'Also runs removed by DELETE. Paged by `cursor`.',
          tags: HISTORY,
          query: historyQuery,
          answers: { 200: { description: 'A page.', content: json(HistoryPage) }, 400: badQuery },
        },
      },
    },
    '/api/v1/history/:jid/': {
      methods: {
        GET: {
          summary: 'Every run of a job',
          tags: HISTORY,
          answers: { 200: { description: 'The runs, oldest first.', content: json(JobHistory) } },
        },
      },
    },
    '/api/v1/history/:jid/:run/logs/': {
      pathParams: { run: { description: 'The run number: 1, 2, …', schema: z.int().min(1) } },
      methods: {
        GET: {
          summary: "A run's captured log",
          tags: HISTORY,
          query: { tail: tailParam },
          answers: {
            200: { description: 'The log.', content: logText },
            400: badQuery,
            404: notFound,
          },
        },
      },
    },
    '/health': {
      methods: {
        GET: {
          summary: 'Liveness',
          description:
            'Never behind auth; 200 while the process serves, saying whether the backend answers.',
          tags: OPS,
          answers: { 200: { description: 'Serving.', content: json(Health) } },
        },
      },
    },
    '/health/ready': {
      methods: {
        GET: {
          summary: 'Readiness',
          description: 'Never behind auth; 503 while the backend does not answer.',
          tags: OPS,
          answers: {
            200: { description: 'The backend answers.', content: json(Health) },
            503: {
              ...unavailable,
              description: 'The backend does not answer: `{"message": "unavailable"}`.',
            },
          },
        },
      },
    },
    '/metrics': {
      methods: {
        GET: {
          summary: 'Prometheus metrics',
          description:
            'The Prometheus text format. Not behind the API token; with METRICS_TOKEN set it needs `Authorization: Bearer <METRICS_TOKEN>`. The metric names are listed in the README.',
          tags: OPS,
          answers: {
            200: {
              description: 'The scrape.',
              content: { kind: 'text', mediaType: 'text/plain; version=0.0.4; charset=utf-8' },
            },
            401: {
              description: 'METRICS_TOKEN is set and the request does not carry it.',
              content: json(ErrorMessage),
              headers: { 'WWW-Authenticate': '`Bearer`.' },
            },
          },
        },
      },
    },
    '/openapi.json': {
      methods: {
        GET: {
          summary: 'This document',
          description:
            'OpenAPI 3.1, generated from the zod schemas that validate requests and describe answers.',
          tags: DOCS,
          answers: {
            200: {
              description: 'The document.',
              content: json(OpenApiDocument),
            },
          },
        },
      },
    },
    '/docs': {
      methods: {
        GET: {
          summary: 'API reference',
          description:
            "This document rendered by Swagger UI, served from the package's own files (no CDN).",
          tags: DOCS,
          answers: { 200: { description: 'The page.', content: { kind: 'html' } } },
        },
      },
    },
    '/docs/:file': {
      pathParams: { file: { description: 'An asset of the reference page.', schema: z.string() } },
      methods: {
        GET: {
          summary: 'API reference assets',
          tags: DOCS,
          answers: {
            200: { description: 'The file.', content: { kind: 'static' } },
            404: { description: 'No such asset.', content: json(ErrorMessage) },
          },
        },
      },
    },
    '/ui/': {
      methods: {
        GET: {
          summary: 'Dashboard',
          description:
            "Jobs with status and age (live from the event stream), a job's log following live, the queue and capacity.",
          tags: DOCS,
          answers: { 200: { description: 'The page.', content: { kind: 'html' } } },
        },
      },
    },
    '/ui/:file': {
      pathParams: { file: { description: 'An asset of the dashboard.', schema: z.string() } },
      methods: {
        GET: {
          summary: 'Dashboard assets',
          tags: DOCS,
          answers: {
            200: { description: 'The file.', content: { kind: 'static' } },
            404: { description: 'No such asset.', content: json(ErrorMessage) },
          },
        },
      },
    },
  };
}
