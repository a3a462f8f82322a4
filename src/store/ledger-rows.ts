// A runs row read back as a LedgerRun (zod: a row this code did not write is an error, not a guess).
import { z } from 'zod';
import { JOB_STATUSES } from '../domain/job.js';
import type { JobSpec, JobStatus } from '../domain/job.js';
import { parseJobSpec } from './job-spec.js';

export interface LedgerRun {
  /** The run's id in the store (what the write calls take). */
  id: number;
  jid: string;
  /** Its number among the runs of its jid: 1, 2, … */
  run: number;
  spec: JobSpec;
  fingerprint: string;
  auid: string | null;
  /** Times: milliseconds since the epoch (UTC). */
  created: number;
  started: number | null;
  finished: number | null;
  status: JobStatus;
  message: string;
  exitCode: number | null;
  removed: number | null;
  /** 'pending' until the engine holds the run's object. */
  engine: 'pending' | 'created';
  /** Why the service stopped it (cancel, deadline): its end's message; null when it did not. */
  stopReason: string | null;
}

/** The columns a LedgerRun is read from (never SELECT *: the archive's columns stay out). */
export const RUN_COLUMNS =
  'id, jid, run_no, spec, fingerprint, auid, created, started, finished, status, message, exit_code, removed, engine, stop_reason';

const int = z.number().int();
const RunRow = z.object({
  id: int,
  jid: z.string(),
  run_no: int,
  spec: z.string(),
  fingerprint: z.string(),
  auid: z.string().nullable(),
  created: int,
  started: int.nullable(),
  finished: int.nullable(),
  status: z.enum(JOB_STATUSES),
  message: z.string(),
  exit_code: int.nullable(),
  removed: int.nullable(),
  engine: z.enum(['pending', 'created']),
  stop_reason: z.string().nullable(),
});

export function toLedgerRun(row: unknown): LedgerRun {
  const r = RunRow.parse(row);
  let spec: JobSpec;
  try {
    spec = parseJobSpec(r.spec);
  } catch (err) {
    throw new TypeError(`run ${r.id} (${r.jid} #${r.run_no}) holds no valid job spec`, {
      cause: err,
    });
  }
  return {
    id: r.id,
    jid: r.jid,
    run: r.run_no,
    spec,
    fingerprint: r.fingerprint,
    auid: r.auid,
    created: r.created,
    started: r.started,
    finished: r.finished,
    status: r.status,
    message: r.message,
    exitCode: r.exit_code,
    removed: r.removed,
    engine: r.engine,
    stopReason: r.stop_reason,
  };
}
