// Idempotency-Key (issue 13): the same key with the same canonical body gets the first answer
// again (status and body), without a second job; with another body, a 409 naming the fields that
// differ. A key whose first request is still in flight makes the next one wait for it. Keys are
// global (the auth layer has no notion of who a token belongs to) and kept IDEMPOTENCY_TTL_SECONDS.
import { createHash } from 'node:crypto';
import { ConflictError, StoreUnavailableError } from '../domain/errors.js';
import type { JobRequest } from '../domain/spec.js';
import type { Ledger } from '../store/ledger.js';
import type { ExistingJobs, SubmitAnswer } from './existing-job.js';
import { canonicalRequest, differingFields, differsText } from './request-diff.js';

export interface IdempotencyDeps {
  ledger: Ledger;
  existing: ExistingJobs;
  ttlSeconds: number;
  now?: () => number;
  warn?: (message: string, err?: unknown) => void;
}

interface Flight {
  request: string;
  done: Promise<SubmitAnswer>;
}

export class IdempotentSubmit {
  readonly #deps: IdempotencyDeps;
  readonly #now: () => number;
  /** Keys whose first request this process is answering. */
  readonly #flights = new Map<string, Flight>();

  constructor(deps: IdempotencyDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  async submit(key: string, req: JobRequest): Promise<SubmitAnswer> {
    const request = canonicalRequest(req);
    // Everything up to the flight's registration is synchronous: two requests with one key
    // cannot both find it free.
    const flying = this.#flights.get(key);
    if (flying !== undefined) {
      assertSame(key, flying.request, request);
      return flying.done;
    }
    const record = this.#deps.ledger.idempotency.get(key, this.#now());
    if (record !== undefined) {
      assertSame(key, record.request, request);
      if (record.status !== null && record.answer !== null) return replay(record.answer);
    }
    // A record still "in flight" here was cut off by a restart: its create may have happened.
    const done = this.#first(key, req, request, record !== undefined);
    this.#flights.set(key, { request, done });
    try {
      return await done;
    } finally {
      this.#flights.delete(key);
    }
  }

  async #first(
    key: string,
    req: JobRequest,
    request: string,
    cutOff: boolean,
  ): Promise<SubmitAnswer> {
    const { ledger, existing, ttlSeconds } = this.#deps;
    const created = this.#now();
    const fingerprint = createHash('sha256').update(request).digest('hex');
    // Durable before the job is created: a restart in between finds the key in flight.
    await ledger.idempotency
      .begin({
        key,
        jid: req.jid,
        fingerprint,
        request,
        created,
        expires: created + ttlSeconds * 1000,
      })
      .catch((err: unknown) => {
        throw new StoreUnavailableError(
          `the job store cannot record the Idempotency-Key (${err instanceof Error ? err.message : String(err)}); nothing was created — retry later`,
          { cause: err },
        );
      });
    let answer: SubmitAnswer;
    try {
      answer = (cutOff ? await this.#afterCutOff(req) : undefined) ?? (await existing.submit(req));
    } catch (err) {
      // Nothing to replay: a retry with the key tries again.
      await ledger.idempotency.drop(key).catch((dropErr: unknown) => {
        this.#deps.warn?.(`could not free Idempotency-Key ${JSON.stringify(key)}`, dropErr);
      });
      throw err;
    }
    // The job exists whatever happens to this note: a retry that finds the key still "in flight"
    // after a failed note is answered from the jid's run (#afterCutOff).
    await ledger.idempotency
      .complete(key, answer.status, JSON.stringify(answer))
      .catch((err: unknown) => {
        this.#deps.warn?.(
          `could not keep the answer of Idempotency-Key ${JSON.stringify(key)}`,
          err,
        );
      });
    return answer;
  }

  /** The run the cut-off first request made, if it made one: the jid's live run of this body. */
  async #afterCutOff(req: JobRequest): Promise<SubmitAnswer | undefined> {
    const { existing } = this.#deps;
    const run = existing.live(req.jid);
    if (run === undefined || existing.differences(run, req).length > 0) return undefined;
    const { info } = await existing.existing(req.jid);
    return { status: 201, info, logs: '' };
  }
}

function assertSame(key: string, first: string, now: string): void {
  const fields = differingFields(first, now);
  if (fields.length === 0) return;
  throw new ConflictError(
    differsText(`Idempotency-Key ${JSON.stringify(key)} was first used`, fields),
  );
}

function replay(answer: string): SubmitAnswer {
  return JSON.parse(answer) as SubmitAnswer;
}
