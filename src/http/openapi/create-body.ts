// The create body's fields, taken from the schemas the request is validated with: pman's fields
// (request.ts fieldDefs, for the configured backend's jid rule) and issue 13's (job-control.ts).
// `env` and `callback_url` are checked by plain functions (parseEnv, checkCallbackUrl): their
// shapes are stated here, their rules in the descriptions.
import { z } from 'zod';
import type { BackendName } from '../../backends/backend.js';
import type { JobNameRule } from '../../domain/capabilities.js';
import { CALLBACK_URL_FIELD } from '../wire/callback-url.js';
import { FIELD_ORDER } from '../wire/fields.js';
import { JOB_CONTROL_SCHEMAS } from '../wire/job-control.js';
import { fieldDefs, RESERVED_JIDS } from '../wire/request.js';
import { bodyJsonSchema } from './body.js';
import type { BodyField } from './body.js';

const OTHER_FIELDS: readonly BodyField[] = [
  {
    name: 'env',
    schema: z.array(z.string()).meta({
      description:
        'The job\'s environment: `"KEY=value"` strings, split at the first `=`; the key must not be empty. Default `[]`.',
    }),
    required: false,
    location: 'json',
  },
  {
    name: CALLBACK_URL_FIELD,
    schema: z.string().meta({
      description:
        "An http(s) URL the server POSTs the job's status changes to; its host must be one of WEBHOOK_ALLOWED_HOSTS.",
    }),
    required: false,
    location: 'json',
  },
];

/** The body's fields in pman's order, then env, callback_url and the issue-13 fields. */
export function createBodyFields(jobName: JobNameRule, backend: BackendName): BodyField[] {
  const defs = fieldDefs(jobName, backend);
  const pman: BodyField[] = FIELD_ORDER.map((name) => {
    const def: { location: 'json' | 'default'; fallback?: unknown; schema: z.ZodType } = defs[name];
    return {
      name,
      schema: def.schema,
      required: def.fallback === undefined,
      location: def.location,
      ...(name === 'jid' && {
        note: `On ${backend} a job id must be ${jobName.rule}; reserved: ${[...RESERVED_JIDS].join(', ')}.`,
      }),
    };
  });
  const control: BodyField[] = Object.entries(JOB_CONTROL_SCHEMAS).map(([name, schema]) => ({
    name,
    schema,
    required: false,
    location: 'json',
  }));
  return [...pman, ...OTHER_FIELDS, ...control];
}

export function createBodySchema(
  jobName: JobNameRule,
  backend: BackendName,
): Record<string, unknown> {
  return bodyJsonSchema(createBodyFields(jobName, backend));
}
