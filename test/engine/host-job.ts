// What the docker and swarm suites both need on the real engine: a job whose incoming/outgoing are
// bind mounts of a real storeBase, and a bounded wait for it to finish.
import { statusOf } from '../fixtures.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Backend } from '../../src/backends/backend.js';
import { INCOMING, OUTGOING, TERMINAL_STATUSES } from '../../src/domain/job.js';
import type { JobInfo, JobSpec } from '../../src/domain/job.js';
import { until } from '../contract/backend.contract.js';

export interface HostJob {
  storeBase: string;
  name: string;
  image: string;
  command: string[];
  labels: Record<string, string>;
  /** The one file pfcon would have put into incoming. */
  input: { file: string; content: string };
}

/**
 * Creates `storeBase/<name>/incoming` (with the input file) and `.../outgoing`, and returns the
 * spec that mounts them read-only and read-write; `extra` replaces fields of it.
 */
export async function hostJobSpec(job: HostJob, extra: Partial<JobSpec> = {}): Promise<JobSpec> {
  const { storeBase, name } = job;
  await mkdir(path.join(storeBase, name, 'incoming'), { recursive: true });
  await mkdir(path.join(storeBase, name, 'outgoing'), { recursive: true });
  await writeFile(path.join(storeBase, name, 'incoming', job.input.file), job.input.content);
  return {
    name,
    image: job.image,
    command: job.command,
    env: {},
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 64, gpus: 0 },
    mounts: [
      {
        kind: 'host',
        source: storeBase,
        subPath: `${name}/incoming`,
        containerPath: INCOMING,
        readOnly: true,
      },
      {
        kind: 'host',
        source: storeBase,
        subPath: `${name}/outgoing`,
        containerPath: OUTGOING,
        readOnly: false,
      },
    ],
    labels: job.labels,
    ...extra,
  };
}

/** Polls the job's status (one read) until the job is in a terminal status, at most `ms`. */
export function untilFinished(backend: Backend, name: string, ms = 60_000): Promise<JobInfo> {
  return until(
    `${name} to finish`,
    () => statusOf(backend, name),
    (i) => TERMINAL_STATUSES.has(i.status),
    ms,
  );
}
