// parseCreateRequest: the create body → CreateRequest, with pman's int() coercion, texts and bundle order (api.md §5).
import { z } from 'zod';
import type { JobRequest } from '../../domain/spec.js';
import type { BackendName } from '../../backends/backend.js';
import { fitsNameRule } from '../../domain/capabilities.js';
import type { JobNameRule } from '../../domain/capabilities.js';
import { InvalidSpecError, ValidationError } from '../../domain/errors.js';
import { normalizeDir, PATH_RULE_TEXT } from '../../domain/paths.js';
import { CALLBACK_URL_FIELD, checkCallbackUrl } from './callback-url.js';
import { FIELD_ORDER, MISSING_ANY_TEXT, MISSING_JSON_TEXT } from './fields.js';
import { parseJobControl } from './job-control.js';
import type { V6Field } from './fields.js';
import { toV6Body } from './legacy.js';
import { pyInt, pyStr } from './pyint.js';
import {
  argvBytes,
  auidProblem,
  COMMAND_TOO_LONG_TEXT,
  dirLengthProblem,
  dirProblem,
  envProblem,
  imageProblem,
  listProblem,
  MAX_ARGS_ITEMS,
  MAX_COMMAND_BYTES,
  MAX_ENTRYPOINT_ITEMS,
  MAX_INT_TEXT_CHARS,
  MAX_PATH_FLAGS_ITEMS,
} from './bounds.js';

/** The validated request; its shape is the domain's (src/domain/spec.ts). */
export type CreateRequest = JobRequest;

export const LIST_TEXT = 'must be a JSON list of strings';
export const EMPTY_ENTRYPOINT_TEXT = '"entrypoint" cannot be empty';
export const BAD_ENV_TEXT = '"env" must be a list of "key=value" strings';

/** jids that are route names under /api/v1/ (issue 11). */
export const RESERVED_JIDS: ReadonlySet<string> = new Set([
  'jobs',
  'history',
  'events',
  'queue',
  'capacity',
  'images',
  'webhooks',
]);

/** The jid rule check alone (used for the bundle's jid entry), exported for reuse.
 *  `jid` is the value after its leading '/' characters were stripped. */
export function jidProblem(
  jid: string,
  jobName: JobNameRule,
  backend: BackendName,
): string | undefined {
  const shown = `invalid job id ${JSON.stringify(jid)}`;
  // Each names a route under /api/v1/ (the list, the history, and those the next issues add), so a
  // job of that name could never be looked up.
  if (RESERVED_JIDS.has(jid)) return `${shown}: "${jid}" is reserved`;
  // Every backend's rule text names the length bound too ("1-63 ..."), so one message serves both checks.
  if (!fitsNameRule(jid, jobName)) {
    return `${shown}: on ${backend} a job id must be ${jobName.rule}`;
  }
  return undefined;
}

const listOfStrings = z.array(z.string({ error: LIST_TEXT }), { error: LIST_TEXT });

/** A list of strings within its bounds (bounds.ts): count, element size, no NUL. */
function boundedList(maxItems: number) {
  return listOfStrings.transform((items, ctx) => {
    const problem = listProblem(items, maxItems);
    if (problem === undefined) return items;
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  });
}

/** A check that returns the bundle text of a problem, as a zod transform. */
function within<T>(check: (value: T) => string | undefined) {
  return (value: T, ctx: z.RefinementCtx<T>): T => {
    const problem = check(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    return value;
  };
}

const aString = z.string({ error: 'must be a string' });

/** Python int() (pman's `type=int`), then our lower bound. */
function integer(field: V6Field, min: number) {
  return z
    .unknown()
    .transform((value, ctx) => {
      // Python's own cap on int() of a string (4300 digits); past it the conversion costs real
      // time, and no value that long fits a safe integer unless it is padding: out of range.
      if (typeof value === 'string' && value.length > MAX_INT_TEXT_CHARS) {
        ctx.addIssue({ code: 'custom', message: `${field} is out of range` });
        return z.NEVER;
      }
      const result = pyInt(value);
      if (result.ok) return result.value;
      ctx.addIssue({
        code: 'custom',
        message: result.reason === 'range' ? `${field} is out of range` : result.message,
      });
      return z.NEVER;
    })
    .pipe(
      z.number().min(min, {
        error: (issue) => `${field} must be at least ${min}, got ${String(issue.input)}`,
      }),
    );
}

function jidSchema(jobName: JobNameRule, backend: BackendName) {
  return z
    .union([z.string(), z.int()], { error: 'must be a string or an integer' })
    .transform((value, ctx) => {
      // pman stripped leading '/' from every jid (a jid can reach a URL as %2F...).
      const jid = String(value).replace(/^\/+/, '');
      const problem = jidProblem(jid, jobName, backend);
      if (problem === undefined) return jid;
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    });
}

const dir = aString.transform((value, ctx) => {
  // Length first: a 10 000-character dir is refused before any work on it.
  const problem = dirLengthProblem(value);
  const normalized = problem === undefined ? normalizeDir(value) : undefined;
  const text = problem ?? (normalized === undefined ? PATH_RULE_TEXT : dirProblem(normalized));
  if (text === undefined && normalized !== undefined) return normalized;
  ctx.addIssue({ code: 'custom', message: text ?? PATH_RULE_TEXT });
  return z.NEVER;
});

/** Where a field is read from: JSON-only fields come from the body alone. */
type Location = 'json' | 'default';

interface FieldDef<T> {
  location: Location;
  /** undefined: required; otherwise the value used when the field is missing. */
  fallback?: () => T;
  schema: z.ZodType<T>;
}

/** Building the zod schemas costs more than a whole parse; a backend's rule never changes. */
type FieldDefs = ReturnType<typeof fieldDefs>;
const defsCache = new WeakMap<JobNameRule, Map<BackendName, FieldDefs>>();

function cachedFieldDefs(jobName: JobNameRule, backend: BackendName) {
  let byBackend = defsCache.get(jobName);
  if (byBackend === undefined)
    defsCache.set(jobName, (byBackend = new Map<BackendName, FieldDefs>()));
  let defs = byBackend.get(backend);
  if (defs === undefined) byBackend.set(backend, (defs = fieldDefs(jobName, backend)));
  return defs;
}

/** Exported for the OpenAPI document (src/http/openapi/), which describes the body from these. */
export function fieldDefs(jobName: JobNameRule, backend: BackendName) {
  return {
    jid: { location: 'default', schema: jidSchema(jobName, backend) },
    args: { location: 'json', schema: boundedList(MAX_ARGS_ITEMS) },
    args_path_flags: {
      location: 'json',
      fallback: () => [],
      schema: boundedList(MAX_PATH_FLAGS_ITEMS),
    },
    // auid is accepted and ignored (the owner's user name). pman's parser took str() of anything;
    // a number still is, but an object, list or boolean is a client's mistake, not a user name.
    auid: {
      location: 'default',
      schema: z
        .union([z.string(), z.number()], { error: 'must be a string' })
        .transform(pyStr)
        .transform(within(auidProblem)),
    },
    number_of_workers: { location: 'default', schema: integer('number_of_workers', 1) },
    cpu_limit: { location: 'default', schema: integer('cpu_limit', 1) },
    memory_limit: { location: 'default', schema: integer('memory_limit', 1) },
    gpu_limit: { location: 'default', schema: integer('gpu_limit', 0) },
    image: {
      location: 'default',
      schema: aString
        .min(1, { error: 'must not be empty' })
        .regex(/^\S+$/, { error: 'must not contain whitespace' })
        // Control characters cannot even be put into the engine's URL (a TypeError, so a 500).
        .regex(/^\P{Cc}+$/u, { error: 'must not contain control characters' })
        .transform(within(imageProblem)),
    },
    entrypoint: { location: 'json', schema: boundedList(MAX_ENTRYPOINT_ITEMS) },
    type: {
      location: 'default',
      schema: z.enum(['ds', 'fs', 'ts'], {
        error: (issue) => `${pyStr(issue.input)} is not a valid choice`,
      }),
    },
    input_dir: { location: 'default', schema: dir },
    output_dir: { location: 'default', schema: dir },
  } satisfies { [F in V6Field]: FieldDef<unknown> };
}

type Parsed<D> = {
  [F in keyof D]: D[F] extends { schema: infer S extends z.ZodType } ? z.output<S> : never;
};

/** body: the decoded JSON object; query: the query string (first value per key).
 *  Applies legacy mapping (§5.5) first, then validation in pman's order (§5.4 steps 2-5).
 *  Throws ValidationError (bundle, fields in pman's order), or InvalidSpecError for the plain-string cases
 *  ("\"entrypoint\" cannot be empty", "\"env\" must be a list of \"key=value\" strings").
 *  callbackHosts: WEBHOOK_ALLOWED_HOSTS; a callback_url (JSON body only) must name one of them. */
export function parseCreateRequest(
  body: Record<string, unknown>,
  query: Record<string, string>,
  jobName: JobNameRule,
  backend: BackendName,
  callbackHosts: readonly string[] = [],
): CreateRequest {
  const mapping = toV6Body(body, query);
  const v6 = mapping.body;
  const defs = cachedFieldDefs(jobName, backend);

  const values: Partial<Record<V6Field, unknown>> = {};
  const errors = new Map<V6Field, string>();
  for (const field of FIELD_ORDER) {
    const def: FieldDef<unknown> = defs[field];
    const raw = read(v6, query, field, def.location);
    if (raw === undefined) {
      if (def.fallback !== undefined) values[field] = def.fallback();
      else errors.set(field, def.location === 'json' ? MISSING_JSON_TEXT : MISSING_ANY_TEXT);
      continue;
    }
    const result = def.schema.safeParse(raw);
    if (result.success) values[field] = result.data;
    else errors.set(field, result.error.issues[0]?.message ?? 'is invalid');
  }
  commandSizeProblem(values, errors);

  const bundle: Record<string, string> = {};
  const derived: Record<string, string> = {};
  for (const field of FIELD_ORDER) {
    const legacy = mapping.problems.filter((p) => p.slot === field);
    if (legacy.length > 0) {
      for (const p of legacy) bundle[p.name] = p.text;
      continue;
    }
    const text = errors.get(field);
    if (text === undefined) continue;
    // A field an old shape's field stands in for is reported under the name the client sent.
    const name = mapping.names[field] ?? field;
    if (mapping.derived.includes(field)) derived[name] = text;
    else bundle[name] = text;
  }
  if (Object.keys(bundle).length > 0) throw new ValidationError(bundle);
  if (Object.keys(derived).length > 0) throw new ValidationError(derived);

  const req = values as Parsed<ReturnType<typeof fieldDefs>>;
  if (req.entrypoint.length === 0) throw new InvalidSpecError(EMPTY_ENTRYPOINT_TEXT);
  const env = parseEnv(v6.env);
  const envText = envProblem(env);
  // env is not one of pman's parser fields: its bundle comes once every one of them is valid.
  if (envText !== undefined) throw new ValidationError({ env: envText });
  const callbackUrl = readCallbackUrl(body, callbackHosts);
  // Issue 13's fields (JSON body only), once every pman field is valid, as callback_url.
  const control = parseJobControl(body);
  return {
    jid: req.jid,
    args: req.args,
    argsPathFlags: req.args_path_flags,
    auid: req.auid,
    numberOfWorkers: req.number_of_workers,
    cpuLimit: req.cpu_limit,
    memoryLimit: req.memory_limit,
    gpuLimit: req.gpu_limit,
    image: req.image,
    entrypoint: req.entrypoint,
    type: req.type,
    env,
    inputDir: req.input_dir,
    outputDir: req.output_dir,
    ...(callbackUrl !== undefined && { callbackUrl }),
    ...control,
  };
}

/** callback_url, last (not one of pman's fields): absent or null → none; refused → a 400 naming it. */
function readCallbackUrl(
  body: Record<string, unknown>,
  allowedHosts: readonly string[],
): string | undefined {
  const raw = body[CALLBACK_URL_FIELD];
  if (raw === undefined || raw === null) return undefined;
  const result = checkCallbackUrl(raw, allowedHosts);
  if (!result.ok) throw new ValidationError({ [CALLBACK_URL_FIELD]: result.problem });
  return result.url;
}

/** entrypoint and args together must fit the command cap; the entry goes to entrypoint when it
 *  alone is too long, else to args (whose items pushed it over). */
function commandSizeProblem(
  values: Partial<Record<V6Field, unknown>>,
  errors: Map<V6Field, string>,
): void {
  // Only a field that passed its schema has a value, and both schemas make lists of strings.
  const entrypoint = values.entrypoint as readonly string[] | undefined;
  const args = values.args as readonly string[] | undefined;
  if (entrypoint === undefined || args === undefined) return;
  const entryBytes = argvBytes(entrypoint);
  if (entryBytes > MAX_COMMAND_BYTES) errors.set('entrypoint', COMMAND_TOO_LONG_TEXT);
  else if (entryBytes + argvBytes(args) > MAX_COMMAND_BYTES) {
    errors.set('args', COMMAND_TOO_LONG_TEXT);
  }
}

/** A field's raw value; null counts as missing (pman let null through, ours refuses it as missing). */
function read(
  body: Record<string, unknown>,
  query: Record<string, string>,
  field: string,
  location: Location,
): unknown {
  const fromBody = body[field];
  if (fromBody !== undefined && fromBody !== null) return fromBody;
  return location === 'default' ? query[field] : undefined;
}

/** env: a JSON list of "KEY=value" strings, split at the first '='; missing or null → []. */
function parseEnv(raw: unknown): Array<[string, string]> {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new InvalidSpecError(BAD_ENV_TEXT);
  return raw.map((item: unknown): [string, string] => {
    if (typeof item !== 'string') throw new InvalidSpecError(BAD_ENV_TEXT);
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InvalidSpecError(BAD_ENV_TEXT);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}
