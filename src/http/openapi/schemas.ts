// The zod schemas of what the server answers (api.md §4, §8, §12, §13 and the issue 11/12 routes).
// /openapi.json is generated from them, and the HTTP tests check real responses against that
// document, so a serializer in src/http/wire/ that drifts from them fails a test. Where a
// serializer has a precise TypeScript type, `satisfies z.ZodType<…>` ties the two at compile time.
import { z } from 'zod';
import { JOB_STATUSES } from '../../domain/job.js';
import type { WireAttempt, WireRun } from '../wire/history-response.js';
import type { WireQueue } from '../wire/queue.js';
import type { WireWebhookTarget } from '../wire/webhooks.js';
import type { WireJobSummary } from '../wire/response.js';

const status = z.enum(JOB_STATUSES).meta({
  description:
    "pman's five statuses, spelled as pman sent them (lower-case `notstarted`). CUBE cancels a run on `undefined`.",
});

const rfc3339 = z.string().meta({ description: 'RFC 3339, UTC, ending in `Z`.' });

const summaryShape = {
  jid: z.string().meta({ description: 'The job id, leading `/` stripped.' }),
  image: z.string().meta({ description: 'The image as requested.' }),
  cmd: z.string().meta({
    description:
      'The command, informational: shell-quoted on docker/podman, joined with spaces elsewhere (pman).',
  }),
  status,
  message: z
    .string()
    .meta({ description: 'A short state or failure reason (`exited with code 3`).' }),
  timestamp: rfc3339.meta({
    description: 'Finish time once terminal, else start time once started, else creation time.',
  }),
  endpoint: z.string().nullable().optional().meta({
    description:
      'Service jobs only (issue 15): where the service answers, e.g. `http://127.0.0.1:49153`; null until its health check passed and once it ended. Batch jobs have no such key.',
  }),
};

/** A list entry of GET /api/v1/jobs/: the job object without `logs`. */
export const JobSummary = z
  .strictObject(summaryShape)
  .meta({ id: 'JobSummary' }) satisfies z.ZodType<WireJobSummary>;

/** The 7-key job object of POST /api/v1/ (201) and GET /api/v1/<jid>/ (api.md §8). */
export const JobObject = z
  .strictObject({
    ...summaryShape,
    logs: z.string().meta({
      description:
        'The log tail (JOB_LOGS_TAIL lines, at most JOB_LOGS_MAX_BYTES); `""` in a create answer.',
    }),
  })
  .meta({ id: 'JobObject' });

export const JobList = z
  .strictObject({
    jobs: z.array(JobSummary),
    next: z.string().optional().meta({
      description: 'With `limit=`: the `cursor` of the next page; absent on the last.',
    }),
  })
  .meta({ id: 'JobList' });

export const ServerInfo = z
  .strictObject({
    server_version: z.string(),
    container_env: z.enum(['docker', 'swarm', 'kubernetes', 'openshift', 'memory']).meta({
      description: 'The backend after alias resolution (`podman` answers `docker`).',
    }),
    storage_type: z.enum(['host', 'docker_local_volume', 'kubernetes_pvc']),
  })
  .meta({ id: 'ServerInfo' });

export const Health = z
  .strictObject({
    status: z.literal('ok'),
    backend: z.string().meta({ description: '`ok`, or `unavailable` (the reason is logged).' }),
  })
  .meta({ id: 'Health' });

/** Every error but field validation (api.md §13). */
export const ErrorMessage = z
  .strictObject({ message: z.string() })
  .meta({ id: 'ErrorMessage', description: 'Every error body: exactly `{"message": <string>}`.' });

/** pman's validation bundle: one entry per bad field, in pman's field order (api.md §5.4). */
export const ValidationErrors = z.strictObject({ message: z.record(z.string(), z.string()) }).meta({
  id: 'ValidationErrors',
  description:
    'Field validation: `{"message": {"<field>": "<text>", …}}`, fields in pman\'s order (jid, args, args_path_flags, auid, number_of_workers, cpu_limit, memory_limit, gpu_limit, image, entrypoint, type, input_dir, output_dir), or the query parameter at fault.',
});

/** A 400 is either shape: a bundle for field errors, a plain string for the semantic ones. */
export const BadRequest = z.union([ValidationErrors, ErrorMessage]).meta({ id: 'BadRequest' });

export const Run = z
  .strictObject({
    jid: z.string(),
    run: z.int().min(1),
    status,
    message: z.string(),
    exit_code: z.int().nullable(),
    image: z.string(),
    cmd: z.string(),
    auid: z.string().nullable(),
    created: rfc3339,
    started: rfc3339.nullable(),
    finished: rfc3339.nullable(),
    removed: rfc3339.nullable(),
    service: z
      .strictObject({
        port: z.int().min(1).max(65_535),
        health_path: z.string().nullable(),
        type: z.enum(['ClusterIP', 'NodePort']),
        endpoint: z.string().nullable().meta({
          description: 'Where it was reached once healthy; kept after the end, for the record.',
        }),
        ready: rfc3339.nullable().meta({ description: 'When it first passed its health check.' }),
        last_check: z.string().nullable().meta({
          description: 'The last failed health check while it waited (or when it was given up).',
        }),
      })
      .optional()
      .meta({ description: 'Service runs only (issue 15).' }),
  })
  .meta({ id: 'Run' }) satisfies z.ZodType<WireRun>;

export const HistoryPage = z
  .strictObject({
    runs: z.array(Run),
    next: z
      .string()
      .nullable()
      .meta({ description: "The next page's `cursor`; null on the last." }),
  })
  .meta({ id: 'HistoryPage' });

/** One attempt of a run (issue 13); the last is the run itself. */
export const Attempt = z
  .strictObject({
    attempt: z.int().min(1),
    status,
    message: z.string(),
    exit_code: z.int().nullable(),
    started: rfc3339.nullable(),
    finished: rfc3339.nullable(),
  })
  .meta({ id: 'Attempt' }) satisfies z.ZodType<WireAttempt>;

export const RunWithAttempts = z
  .strictObject({ ...Run.shape, attempts: z.array(Attempt).min(1) })
  .meta({ id: 'RunWithAttempts' });

export const JobHistory = z
  .strictObject({ jid: z.string(), runs: z.array(RunWithAttempts) })
  .meta({ id: 'JobHistory' });

export const WebhookTargets = z
  .strictObject({
    targets: z.array(
      z.strictObject({
        url: z.string(),
        pending: z.int().min(0),
        oldest_pending_age_seconds: z.int().min(0).nullable(),
        last_error: z.string().nullable(),
        last_error_at: rfc3339.nullable(),
        delivered: z.int().min(0),
        failed: z.int().min(0),
      }) satisfies z.ZodType<WireWebhookTarget>,
    ),
  })
  .meta({ id: 'WebhookTargets' });

/** The `data` of an SSE `event: status` (README "Events and live logs"). */
export const StatusEvent = z
  .strictObject({
    seq: z.int().min(1),
    jid: z.string(),
    run: z.int().min(1),
    status,
    message: z.string(),
    timestamp: rfc3339,
  })
  .meta({ id: 'StatusEvent' });

/** /openapi.json itself: only its frame (the OpenAPI schema is the validator's business). */
export const OpenApiDocument = z
  .looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({}), paths: z.looseObject({}) })
  .meta({ id: 'OpenApiDocument' });

const cap = z.int().min(0).nullable().meta({ description: 'null: unlimited.' });

/** GET /api/v1/queue/ (issue 13). */
export const Queue = z
  .strictObject({
    queue: z.array(
      z.strictObject({
        position: z.int().min(1),
        jid: z.string(),
        run: z.int().min(1),
        auid: z.string().nullable(),
        priority: z.int(),
        gpus: z.int().min(0),
        created: rfc3339,
        not_before: rfc3339.nullable().meta({
          description:
            'A retry waiting out its backoff starts no earlier; null for a run over a cap.',
        }),
      }),
    ),
    running: z.int().min(0),
    caps: z.strictObject({ max_running: cap, max_running_per_auid: cap, max_gpus: cap }),
  })
  .meta({ id: 'Queue' }) satisfies z.ZodType<WireQueue>;

const resources = {
  cpu_millicores: z.number().min(0),
  memory_mib: z.number().min(0),
  gpus: z.int().min(0),
};

/** GET /api/v1/capacity/ (issue 13). */
export const Capacity = z
  .strictObject({
    container_env: z.string(),
    nodes: z
      .array(z.strictObject({ name: z.string(), ...resources }))
      .nullable()
      .meta({ description: 'null when the backend could not say (`nodes_unavailable` says why).' }),
    nodes_unavailable: z.string().optional(),
    total: z.strictObject(resources).nullable(),
    running: z.int().min(0),
    running_gpus: z.int().min(0),
    queued: z.int().min(0),
    caps: z.strictObject({
      max_running: cap,
      max_running_per_auid: cap,
      max_gpus: cap,
      cancel_grace_seconds: z.number().min(0),
      job_deadline_seconds: z.number().min(0).nullable(),
    }),
  })
  .meta({ id: 'Capacity' });
