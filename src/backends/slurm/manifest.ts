// A JobSpec → the body of POST /slurm/<v>/job/submit (pure). CPUs are whole in Slurm: millicores
// are rounded up (500 → 1 CPU), and the runtime's --cpus keeps the exact fraction inside them.
import path from 'node:path';
import { InvalidSpecError } from '../../domain/errors.js';
import type { JobSpec } from '../../domain/job.js';
import { batchScript } from './script.js';
import type { ScriptBind } from './script.js';
import type { SlurmBackendConfig } from './settings.js';

/** Slurm refuses a comment longer than this (job_mgr.c's _test_strlen). */
export const MAX_COMMENT = 1024;
/** The environment of the batch script itself (the job's own goes through the runtime). */
const SCRIPT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What identifies our jobs in Slurm: the managed-by marker and the run's nonce. */
export interface JobMark {
  managedBy: string;
  /** Random per create: names the output and metadata files of this run. */
  nonce: string;
  labels: Readonly<Record<string, string>>;
}

export function commentOf(mark: JobMark): string {
  const comment = `managed-by=${mark.managedBy};run=${mark.nonce};labels=${JSON.stringify(mark.labels)}`;
  if (comment.length > MAX_COMMENT) {
    throw new InvalidSpecError(
      `the job's labels do not fit in a Slurm comment (${comment.length} of ${MAX_COMMENT} characters)`,
    );
  }
  return comment;
}

const COMMENT = /^managed-by=([^;]*);run=([0-9a-f]+);labels=(.*)$/s;

/** The mark of one of our jobs, or undefined for a job we did not create (or another instance's). */
export function parseComment(comment: string, managedBy: string): { nonce: string } | undefined {
  const m = COMMENT.exec(comment);
  if (m === null || m[1] !== managedBy || m[2] === undefined) return undefined;
  return { nonce: m[2] };
}

/** The run's files in SLURM_LOG_DIR: output (written by the job) and metadata (by this server). */
export function runFiles(
  logDir: string,
  name: string,
  nonce: string,
): { log: string; meta: string } {
  const base = path.posix.join(logDir, `${name}.${nonce}`);
  return { log: `${base}.log`, meta: `${base}.json` };
}

/** Whole CPUs for Slurm's allocation: millicores rounded up, at least one. */
export function wholeCpus(millicores: number): number {
  return Math.max(1, Math.ceil(millicores / 1000));
}

/** The deadline the service gives (issue 13) as Slurm minutes, rounded up. */
export function timeLimitMinutes(timeoutSeconds: number | undefined): number | undefined {
  return timeoutSeconds === undefined ? undefined : Math.max(1, Math.ceil(timeoutSeconds / 60));
}

function binds(spec: JobSpec): ScriptBind[] {
  return spec.mounts.map((m) => {
    if (m.kind !== 'host') throw new InvalidSpecError(`the slurm backend cannot mount a ${m.kind}`);
    return {
      source: path.posix.join(m.source, m.subPath),
      target: m.containerPath,
      readOnly: m.readOnly,
    };
  });
}

export interface SubmitBody {
  script: string;
  job: Record<string, unknown>;
}

type Settings = Pick<SlurmBackendConfig, 'partition' | 'account' | 'runtime' | 'logDir'>;

export function toSubmitBody(
  spec: JobSpec & { timeoutSeconds?: number },
  cfg: Settings,
  mark: JobMark,
): SubmitBody {
  const { cpuMillicores, memoryMiB, gpus } = spec.resources;
  const script = batchScript({
    jid: spec.name,
    image: spec.image,
    command: spec.command,
    env: spec.env,
    binds: binds(spec),
    runtime: cfg.runtime,
    cpuMillicores,
    memoryMiB,
    gpus,
    ...(spec.shmMiB !== undefined && { shmMiB: spec.shmMiB }),
    ...(spec.user !== undefined && { user: spec.user }),
  });
  const minutes = timeLimitMinutes(spec.timeoutSeconds);
  const job: Record<string, unknown> = {
    name: spec.name,
    comment: commentOf(mark),
    current_working_directory: cfg.logDir,
    standard_output: runFiles(cfg.logDir, spec.name, mark.nonce).log,
    environment: { PATH: SCRIPT_PATH },
    nodes: [1, 1],
    tasks: 1,
    cpus_per_task: wholeCpus(cpuMillicores),
    memory_per_node: memoryMiB,
    // pman runs a job once: a node failure ends it instead of starting it again.
    requeue: false,
    ...(gpus > 0 && { gres: `gpu:${gpus}` }),
    ...(minutes !== undefined && { time_limit: minutes }),
    ...(cfg.partition !== undefined && { partition: cfg.partition }),
    ...(cfg.account !== undefined && { account: cfg.account }),
  };
  return { script, job };
}
