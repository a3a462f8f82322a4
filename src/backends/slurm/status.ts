// What slurmrestd says about a job → the pman status (api.md §9), and the shapes of the answers
// this backend reads (zod: a foreign shape is an error, caught by the recorded-response test).
import { z } from 'zod';
import type { JobInfo, JobStatus } from '../../domain/job.js';

/**
 * Every job state slurmrestd spells (22.05 job_state_string and its flag states; newer versions
 * list the base state first in an array). A state added upstream and missing here is reported as
 * `undefined` with its name, never guessed.
 */
export const SLURM_STATES = {
  PENDING: 'notstarted',
  CONFIGURING: 'notstarted',
  REQUEUED: 'notstarted',
  REQUEUE_HOLD: 'notstarted',
  REQUEUE_FED: 'notstarted',
  RESV_DEL_HOLD: 'notstarted',
  POWER_UP_NODE: 'notstarted',
  RUNNING: 'started',
  SUSPENDED: 'started',
  STOPPED: 'started',
  RESIZING: 'started',
  SIGNALING: 'started',
  // The script has ended but the node still cleans up: the log may still grow, so not final yet.
  COMPLETING: 'started',
  STAGE_OUT: 'started',
  UPDATE_DB: 'started',
  COMPLETED: 'finishedSuccessfully',
  FAILED: 'finishedWithError',
  CANCELLED: 'finishedWithError',
  TIMEOUT: 'finishedWithError',
  OUT_OF_MEMORY: 'finishedWithError',
  NODE_FAIL: 'finishedWithError',
  PREEMPTED: 'finishedWithError',
  BOOT_FAIL: 'finishedWithError',
  DEADLINE: 'finishedWithError',
  SPECIAL_EXIT: 'finishedWithError',
  REVOKED: 'finishedWithError',
  LAUNCH_FAILED: 'finishedWithError',
} as const satisfies Record<string, JobStatus>;

export type SlurmState = keyof typeof SLURM_STATES;

/** A number, or the {set, infinite, number} shape of the versions after 0.0.38. */
const slurmNumber = z.preprocess((v) => {
  if (typeof v === 'object' && v !== null && 'number' in v) {
    const o = v as { set?: boolean; number?: unknown };
    return o.set === false ? 0 : o.number;
  }
  return v ?? 0;
}, z.number());

/** 0.0.38: the raw wait status; later: {status, return_code, signal}. */
const exitCodeSchema = z.union([
  z.number().transform((raw) => ({ code: (raw >> 8) & 0xff, signal: raw & 0x7f })),
  z
    .object({
      return_code: slurmNumber.optional(),
      signal: z.object({ id: slurmNumber.optional() }).optional(),
    })
    .transform((o) => ({ code: o.return_code ?? 0, signal: o.signal?.id ?? 0 })),
]);

const jobSchema = z.object({
  job_id: z.number(),
  name: z.string(),
  comment: z
    .string()
    .nullish()
    .transform((c) => c ?? ''),
  job_state: z
    .union([z.string(), z.array(z.string())])
    .transform((s) => (Array.isArray(s) ? (s[0] ?? '') : s)),
  state_reason: z
    .string()
    .nullish()
    .transform((r) => r ?? ''),
  state_description: z
    .string()
    .nullish()
    .transform((r) => r ?? ''),
  exit_code: exitCodeSchema.nullish(),
  submit_time: slurmNumber,
  start_time: slurmNumber,
  end_time: slurmNumber,
});

export type SlurmJob = z.infer<typeof jobSchema>;

const nodeSchema = z.object({
  name: z.string(),
  cpus: slurmNumber,
  real_memory: slurmNumber,
  gres: z
    .string()
    .nullish()
    .transform((g) => g ?? ''),
  state: z
    .union([z.string(), z.array(z.string())])
    .transform((s) => (Array.isArray(s) ? s.join('+') : s)),
});

export type SlurmNode = z.infer<typeof nodeSchema>;

export const jobsAnswerSchema = z.object({ jobs: z.array(jobSchema) });
export const nodesAnswerSchema = z.object({ nodes: z.array(nodeSchema) });
export const partitionsAnswerSchema = z.object({
  partitions: z.array(z.object({ name: z.string() })),
});
export const submitAnswerSchema = z.object({ job_id: z.number().optional() });

function isState(state: string): state is SlurmState {
  return Object.hasOwn(SLURM_STATES, state);
}

/** The exit code a shell would report: the code, or 128 + the signal that ended the script. */
export function exitCodeOf(job: SlurmJob): number | undefined {
  if (job.exit_code === undefined || job.exit_code === null) return undefined;
  const { code, signal } = job.exit_code;
  return signal !== 0 ? 128 + signal : code;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** Slurm's "no particular reason" words, left out of messages. */
const NO_REASON = new Set(['', 'None', 'NonZeroExitCode']);

function reasonSuffix(job: SlurmJob): string {
  const parts = [job.state_reason, job.state_description].filter((p) => !NO_REASON.has(p));
  return parts.length > 0 ? ` (${parts.join(': ')})` : '';
}

function message(job: SlurmJob, state: SlurmState, exitCode: number | undefined): string {
  const reason = reasonSuffix(job);
  const exit = exitCode === undefined ? '' : ` (exit code ${exitCode})`;
  if (state === 'PENDING') return `pending${reason === '' ? ' (None)' : reason}`;
  if (state === 'RUNNING') return 'running';
  if (state === 'COMPLETED') return `completed${exit}`;
  // 137: the runtime's container was killed, which its memory limit does on overrun.
  if (state === 'FAILED' && exitCode === 137) {
    return `failed (exit code 137: killed, out of memory?)${reason}`;
  }
  if (state === 'FAILED') return `failed${exit}${reason}`;
  if (state === 'OUT_OF_MEMORY') return `out of memory (OOM)${exit}`;
  if (state === 'TIMEOUT') return `time limit reached (TIMEOUT)${exit}`;
  if (state === 'CANCELLED') return `cancelled${reason}`;
  return `${state.toLowerCase()}${reason}`;
}

/** The job as pman reports it; image and command come from the run's metadata file. */
export function fromSlurmJob(
  job: SlurmJob,
  meta: { image: string; command: readonly string[] },
): JobInfo {
  const base = { name: job.name, image: meta.image, command: meta.command };
  const state = job.job_state;
  if (!isState(state)) {
    const timestamp = iso(job.end_time > 0 ? job.end_time : job.submit_time);
    return { ...base, status: 'undefined', message: state === '' ? 'unknown' : state, timestamp };
  }
  const status = SLURM_STATES[state];
  const terminal = status === 'finishedSuccessfully' || status === 'finishedWithError';
  const exitCode = terminal ? exitCodeOf(job) : undefined;
  const when =
    terminal && job.end_time > 0
      ? job.end_time
      : status === 'started' && job.start_time > 0
        ? job.start_time
        : job.submit_time;
  return {
    ...base,
    status,
    message: message(job, state, exitCode),
    timestamp: iso(when),
    ...(exitCode !== undefined && { exitCode }),
  };
}

/** The largest node's GPUs from its gres string ("gpu:2", "gpu:a100:4(S:0-1),shard:8"). */
export function gpusOf(gres: string): number {
  let total = 0;
  for (const item of gres.split(',')) {
    const m = /^gpu(?::[^:(]+)?:(\d+)/.exec(item.trim());
    if (m?.[1] !== undefined) total += Number(m[1]);
  }
  return total;
}
