// EXISTING_JOB (issue 13): what a POST of a jid that already names a job gets. `conflict` is
// pman's 409 (the create as it always was); `return` answers 200 with the job when the body is
// the same; `rerun-failed` (as pfcon does since 2026) returns a running or succeeded job and runs
// a failed or `undefined` one again as a new run. A different body is a 409 naming its fields.
import type { ExistingJobMode } from '../config/submit.js';
import { ConflictError } from '../domain/errors.js';
import type { JobInfo } from '../domain/job.js';
import type { JobRequest } from '../domain/spec.js';
import type { Ledger, LedgerRun } from '../store/ledger.js';
import { fingerprintOf } from './fingerprint.js';
import type { JobService } from './jobs.js';
import { canonicalRequest, differingFields, differsText } from './request-diff.js';

/** A create's answer: 201 for a new run, 200 for a job that already was. */
export interface SubmitAnswer {
  status: 200 | 201;
  info: JobInfo;
  logs: string;
}

export interface ExistingJobDeps {
  jobs: Pick<JobService, 'create' | 'read' | 'remove'>;
  ledger: Ledger;
  mode: ExistingJobMode;
  warn?: (message: string, err?: unknown) => void;
}

/** Statuses rerun-failed runs again. */
const RERUN: ReadonlySet<string> = new Set(['finishedWithError', 'undefined']);

export class ExistingJobs {
  readonly #deps: ExistingJobDeps;
  /** Per jid, the submit in progress: in the return modes, one at a time, so 20 identical POSTs
   *  make one job and the 19 others find it. */
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(deps: ExistingJobDeps) {
    this.#deps = deps;
  }

  get mode(): ExistingJobMode {
    return this.#deps.mode;
  }

  async submit(req: JobRequest): Promise<SubmitAnswer> {
    // conflict: the create as it always was (concurrent duplicates: one 201, the rest 409).
    if (this.#deps.mode === 'conflict') return this.create(req);
    return this.#oneAtATime(req.jid, () => this.#submitExisting(req));
  }

  /** A new run; its canonical request is kept so a later POST can be told what differs. */
  async create(req: JobRequest): Promise<SubmitAnswer> {
    const info = await this.#deps.jobs.create(req);
    const run = this.live(req.jid);
    if (run !== undefined) {
      await this.#deps.ledger.idempotency
        .putRequest(run.id, canonicalRequest(req))
        .catch((err: unknown) =>
          this.#deps.warn?.(`could not keep the request of "${req.jid}"`, err),
        );
    }
    return { status: 201, info, logs: '' };
  }

  /** The jid's run while it names a job (not removed by DELETE). */
  live(jid: string): LedgerRun | undefined {
    const run = this.#deps.ledger.current(jid);
    return run === undefined || run.removed !== null ? undefined : run;
  }

  /** The wire names of the fields `req` differs in from the run's request; [] when the same.
   *  A run made before its request was kept compares by fingerprint (then no names: ['*']). */
  differences(run: LedgerRun, req: JobRequest): string[] {
    const stored = this.#deps.ledger.idempotency.requestOf(run.id);
    if (stored !== undefined) return differingFields(stored, canonicalRequest(req));
    return run.fingerprint === fingerprintOf(req) ? [] : ['*'];
  }

  /** The job as a GET answers it, with status 200. */
  async existing(jid: string): Promise<SubmitAnswer> {
    const { info, logs } = await this.#deps.jobs.read(jid);
    return { status: 200, info, logs };
  }

  async #submitExisting(req: JobRequest): Promise<SubmitAnswer> {
    const run = this.live(req.jid);
    if (run === undefined) return this.create(req);
    const current = await this.existing(req.jid);
    if (this.#deps.mode === 'rerun-failed' && RERUN.has(current.info.status)) {
      // As DELETE would: the engine objects go, the run stays in the history.
      await this.#deps.jobs.remove(req.jid);
      if (this.live(req.jid) === undefined) return this.create(req);
      // REMOVE_JOBS=no: nothing is removed, so the jid stays taken (pman's 409).
      throw new ConflictError(
        `job "${req.jid}" already exists and failed; REMOVE_JOBS=no keeps it, so it is not run again`,
      );
    }
    const fields = this.differences(run, req);
    if (fields.length > 0) throw differs(req.jid, fields);
    return current;
  }

  async #oneAtATime<T>(jid: string, body: () => Promise<T>): Promise<T> {
    const before = this.#chains.get(jid) ?? Promise.resolve();
    const mine = before.then(body, body);
    const settled = mine.catch(() => undefined);
    this.#chains.set(jid, settled);
    try {
      return await mine;
    } finally {
      if (this.#chains.get(jid) === settled) this.#chains.delete(jid);
    }
  }
}

/** 409: the jid names a job made from another body. */
export function differs(jid: string, fields: readonly string[]): ConflictError {
  const named = fields.filter((f) => f !== '*');
  return new ConflictError(differsText(`job "${jid}" already exists`, named));
}
