// What the job object says about a run the store holds (a finished one, or one still waiting for
// the engine), and the spec an adopted engine object is recorded with.
import { TERMINAL_STATUSES } from '../domain/job.js';
import type { JobInfo, JobSpec, JobStatus } from '../domain/job.js';
import type { LedgerRun } from '../store/ledger.js';

/** The run's JobInfo: RFC 3339 time of its finish, else its start, else its intake. */
export function infoOfRun(run: LedgerRun): JobInfo {
  const at = run.finished ?? run.started ?? run.created;
  const info: JobInfo = {
    name: run.jid,
    image: run.spec.image,
    command: run.spec.command,
    status: run.status,
    message: run.message,
    timestamp: new Date(at).toISOString(),
  };
  if (run.exitCode !== null) info.exitCode = run.exitCode;
  // A service job's object always has its `endpoint` key (issue 15); the job service adds the
  // endpoint itself while the service is ready (services/presented.ts).
  if (run.spec.service !== undefined) info.service = {};
  return info;
}

export type TerminalStatus = 'finishedSuccessfully' | 'finishedWithError';

export function isTerminalStatus(status: JobStatus): status is TerminalStatus {
  return TERMINAL_STATUSES.has(status);
}

export function isTerminal(run: LedgerRun): boolean {
  return isTerminalStatus(run.status);
}

/**
 * The spec recorded for an engine object of ours that has no run (made before the store existed,
 * or by a server that crashed before its intake committed): what the engine shows. It is never
 * created from this spec — the object exists — so the unknown parts stay empty.
 */
export function adoptedSpec(info: JobInfo): JobSpec {
  return {
    name: info.name,
    image: info.image,
    command: info.command,
    env: {},
    resources: { workers: 1, cpuMillicores: 0, memoryMiB: 0, gpus: 0 },
    mounts: [],
    labels: {},
  };
}

/** The fingerprint of an adopted run: no request body is known. */
export const ADOPTED_FINGERPRINT = 'adopted';
