// The issue-13 create fields (timeout_seconds, priority, retries, labels): JSON-body only, never in
// pman's bundle order (pman had none of them), checked together once pman's own fields passed.
import { z } from 'zod';
import type { JobRequest } from '../../domain/spec.js';
import { ValidationError } from '../../domain/errors.js';
import { labelKeyProblem, labelValueProblem } from '../../config/syntax.js';
import { serviceSchema, toServiceSpec } from './service.js';

export const MAX_TIMEOUT_SECONDS = 31_536_000;
export const MAX_LABELS = 32;
export const MAX_RETRY_LIMIT = 20;
export const MAX_BACKOFF_SECONDS = 86_400;
export const DEFAULT_BACKOFF_SECONDS = 10;
export const MAX_EXIT_CODES = 64;

/** The wire names of these fields, in the order their problems are listed. */
export { JOB_CONTROL_FIELDS } from '../../domain/request-fields.js';
import type { JOB_CONTROL_FIELDS } from '../../domain/request-fields.js';

/**
 * Keys a request may not set: our managed-by labels (list() and a restarted server find jobs by
 * them) and the ones Kubernetes' Job controller puts on the pods it makes (a clash is refused there).
 */
const RESERVED_LABEL_KEYS: ReadonlySet<string> = new Set([
  'org.chrisproject.managed-by',
  'app.kubernetes.io/managed-by',
  'job-name',
  'controller-uid',
]);
const RESERVED_LABEL_PREFIXES = ['batch.kubernetes.io/'] as const;

function int(min: number, max: number) {
  return z
    .number({ error: 'must be an integer' })
    .int({ error: 'must be an integer' })
    .min(min, { error: (i) => `must be at least ${min}, got ${String(i.input)}` })
    .max(max, { error: (i) => `must be at most ${max}, got ${String(i.input)}` });
}

const timeoutSchema = int(1, MAX_TIMEOUT_SECONDS);
const prioritySchema = int(-1000, 1000);

const retriesSchema = z
  .object(
    {
      limit: int(0, MAX_RETRY_LIMIT),
      backoff_seconds: z
        .number({ error: 'must be a number' })
        .min(0, { error: (i) => `must be at least 0, got ${String(i.input)}` })
        .max(MAX_BACKOFF_SECONDS, {
          error: (i) => `must be at most ${MAX_BACKOFF_SECONDS}, got ${String(i.input)}`,
        })
        .optional(),
      on_exit_codes: z
        .array(int(1, 255), { error: 'must be a list of integers' })
        .min(1, { error: 'must not be empty (leave it out to retry any failure)' })
        .max(MAX_EXIT_CODES, { error: `must have at most ${MAX_EXIT_CODES} entries` })
        .optional(),
    },
    { error: 'must be an object such as {"limit": 2}' },
  )
  .strict();

/** The shape of labels for the OpenAPI document; the syntax checks are labelsProblem's. */
const labelsShape = z.record(z.string(), z.string()).meta({
  description: `Kubernetes label syntax, at most ${MAX_LABELS} pairs; JOB_LABELS and pman's own keys cannot be set`,
});

/** The schemas that validate each field (labels: its shape), for the OpenAPI document. */
export const JOB_CONTROL_SCHEMAS = {
  timeout_seconds: timeoutSchema.meta({ description: 'stop the run after this many seconds' }),
  priority: prioritySchema.meta({ description: 'higher starts first from the queue; default 0' }),
  retries: retriesSchema.meta({ description: 'opt-in retries of a failed attempt' }),
  labels: labelsShape,
  service: serviceSchema,
} satisfies Record<(typeof JOB_CONTROL_FIELDS)[number], z.ZodType>;

/** Why a labels object cannot be used, or undefined. */
export function labelsProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return 'must be an object of "key": "value" strings';
  const entries = Object.entries(raw);
  if (entries.length > MAX_LABELS)
    return `must have at most ${MAX_LABELS} labels, got ${entries.length}`;
  for (const [key, value] of entries) {
    if (typeof value !== 'string') return `label "${key}" must have a string value`;
    const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
    if (problem !== undefined) return problem;
    if (RESERVED_LABEL_KEYS.has(key) || RESERVED_LABEL_PREFIXES.some((p) => key.startsWith(p)))
      return `label key "${key}" is reserved for pman's own use`;
  }
  return undefined;
}

/** Every issue's text, with its path ("limit: …") so the client sees which member is at fault. */
function issueText(error: z.ZodError): string {
  const texts = error.issues.map((issue) => {
    // An unknown member of retries (a typo such as backof_seconds): name it.
    if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.join(', ')}`;
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  return texts.length === 0 ? 'is invalid' : texts.join('; ');
}

type JobControl = Pick<
  JobRequest,
  'timeoutSeconds' | 'priority' | 'retries' | 'labels' | 'service'
>;

/** Reads the five fields from the body; null or absent → not set. Throws ValidationError
 *  bundling every bad one under its wire name. */
export function parseJobControl(body: Record<string, unknown>): JobControl {
  const out: JobControl = {};
  const errors: Record<string, string> = {};
  const present = (field: string): unknown => {
    const value = body[field];
    return value === null ? undefined : value;
  };

  const timeout = present('timeout_seconds');
  if (timeout !== undefined) {
    const r = timeoutSchema.safeParse(timeout);
    if (r.success) out.timeoutSeconds = r.data;
    else errors.timeout_seconds = issueText(r.error);
  }
  const priority = present('priority');
  if (priority !== undefined) {
    const r = prioritySchema.safeParse(priority);
    if (r.success) out.priority = r.data;
    else errors.priority = issueText(r.error);
  }
  const retries = present('retries');
  if (retries !== undefined) {
    const r = retriesSchema.safeParse(retries);
    if (r.success) {
      const { limit, backoff_seconds, on_exit_codes } = r.data;
      out.retries = {
        limit,
        backoffSeconds: backoff_seconds ?? DEFAULT_BACKOFF_SECONDS,
        ...(on_exit_codes !== undefined && { onExitCodes: [...new Set(on_exit_codes)] }),
      };
    } else errors.retries = issueText(r.error);
  }
  const labels = present('labels');
  if (labels !== undefined) {
    const problem = labelsProblem(labels);
    // labelsProblem checked it is a record of strings.
    if (problem === undefined) out.labels = { ...(labels as Record<string, string>) };
    else errors.labels = problem;
  }
  const service = present('service');
  if (service !== undefined) {
    const r = serviceSchema.safeParse(service);
    if (r.success) out.service = toServiceSpec(r.data);
    else errors.service = issueText(r.error);
  }
  // A service is restarted by its engine and kept until DELETE: attempts do not apply to it.
  if (out.service !== undefined && out.retries !== undefined && errors.retries === undefined) {
    errors.retries =
      'cannot be combined with service: a service is restarted by its engine and runs until DELETE or cancel';
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  return out;
}
