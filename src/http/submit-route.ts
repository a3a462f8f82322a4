// POST /api/v1/ (issue 13 additions around the create): Idempotency-Key replays, EXISTING_JOB's
// answers for a jid that already names a job, and Pman-Ignored-Fields on every answer whose body
// could be read (201, 200, 409, 400 alike).
import type { Backend } from '../backends/backend.js';
import type { Config } from '../config/config.js';
import { DEFAULT_IDEMPOTENCY_TTL_SECONDS } from '../config/submit.js';
import { ExistingJobs } from '../service/existing-job.js';
import { IdempotentSubmit } from '../service/idempotency.js';
import type { JobService } from '../service/jobs.js';
import type { Ledger } from '../store/ledger.js';
import { toErrorAnswer } from './on-error.js';
import type { HttpContext } from './router.js';
import { readJsonObject } from './wire/body.js';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from './wire/idempotency-key.js';
import { ignoredFieldsHeader } from './wire/ignored-fields.js';
import { firstQueryValues } from './wire/query.js';
import { parseCreateRequest } from './wire/request.js';
import { cmdStyleFor, indentFor, jsonResponse, toWire } from './wire/response.js';

export interface SubmitRouteDeps {
  backend: Backend;
  config: Config;
  jobs: JobService;
  ledger: Ledger;
  warn?: (message: string, err?: unknown) => void;
}

/** The POST handler of /api/v1/. */
export function submitHandler(deps: SubmitRouteDeps): (c: HttpContext) => Promise<Response> {
  const { backend, config, jobs, ledger, warn } = deps;
  const existing = new ExistingJobs({
    jobs,
    ledger,
    mode: config.submit?.existingJob ?? 'conflict',
    ...(warn !== undefined && { warn }),
  });
  const keyed = new IdempotentSubmit({
    ledger,
    existing,
    ttlSeconds: config.submit?.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    ...(warn !== undefined && { warn }),
  });
  const indent = indentFor(config.mode);
  const cmdStyle = cmdStyleFor(backend.name);
  return async (c) => {
    const body = await readJsonObject(c.req.raw);
    const named = ignoredFieldsHeader(body);
    try {
      const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_KEY_HEADER));
      const rule = backend.capabilities.jobName;
      const hosts = config.webhooks?.allowedHosts;
      const query = firstQueryValues(c.req.url);
      const req = parseCreateRequest(body, query, rule, backend.name, hosts);
      const answer = key === undefined ? await existing.submit(req) : await keyed.submit(key, req);
      return jsonResponse(answer.status, toWire(answer.info, answer.logs, cmdStyle), indent, named);
    } catch (err) {
      // The header rides on the client's own mistakes (4xx); a 5xx goes to onError as ever.
      const answer = Object.keys(named).length === 0 ? undefined : toErrorAnswer(err);
      if (answer === undefined || answer.status >= 500) throw err;
      return jsonResponse(answer.status, { message: answer.message }, indent, {
        ...answer.headers,
        ...named,
      });
    }
  };
}
