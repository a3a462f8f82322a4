// A run on the wire (issue 11): jid, run, status, message, exit_code, image, cmd, auid, created,
// started, finished, removed, in this order; times RFC 3339 UTC or null; cmd as the job object has it.
import { renderCmd } from '../../domain/command.js';
import type { Attempt } from '../../store/attempts.js';
import type { LedgerRun } from '../../store/ledger-rows.js';
import type { ServiceRunState } from '../../store/services.js';
import type { CmdStyle } from './response.js';

export interface WireRun {
  jid: string;
  run: number;
  status: string;
  message: string;
  exit_code: number | null;
  image: string;
  cmd: string;
  auid: string | null;
  created: string;
  started: string | null;
  finished: string | null;
  removed: string | null;
  /** Service runs only (issue 15): what was asked and what the health check found. */
  service?: WireRunService;
}

export interface WireRunService {
  port: number;
  health_path: string | null;
  type: string;
  /** Where it was reached once healthy; kept after the end, for the record. */
  endpoint: string | null;
  /** When it first passed its health check; null if it never did. */
  ready: string | null;
  /** The last failed check's text while it waited (or when it was given up). */
  last_check: string | null;
}

/** A service run's state in the store (absent until the backend first reported the run). */
export type ServiceStateOf = (runId: number) => ServiceRunState | undefined;

function time(ms: number): string {
  return new Date(ms).toISOString();
}

function timeOrNull(ms: number | null): string | null {
  return ms === null ? null : time(ms);
}

export function toWireRun(run: LedgerRun, cmdStyle: CmdStyle, services?: ServiceStateOf): WireRun {
  const wire: WireRun = {
    jid: run.jid,
    run: run.run,
    status: run.status,
    message: run.message,
    exit_code: run.exitCode,
    image: run.spec.image,
    cmd: renderCmd(run.spec.command, cmdStyle),
    auid: run.auid,
    created: time(run.created),
    started: timeOrNull(run.started),
    finished: timeOrNull(run.finished),
    removed: timeOrNull(run.removed),
  };
  const service = run.spec.service;
  if (service === undefined) return wire;
  const state = services?.(run.id);
  wire.service = {
    port: service.port,
    health_path: service.healthPath ?? null,
    type: service.exposure,
    endpoint: state?.endpoint ?? null,
    ready: timeOrNull(state?.readyAt ?? null),
    last_check: state?.lastCheck ?? null,
  };
  return wire;
}

/** GET /api/v1/history/: a page, and the cursor of the next (null on the last page). */
export function toWireHistoryPage(
  runs: readonly LedgerRun[],
  next: string | undefined,
  cmdStyle: CmdStyle,
  services?: ServiceStateOf,
): { runs: WireRun[]; next: string | null } {
  return { runs: runs.map((run) => toWireRun(run, cmdStyle, services)), next: next ?? null };
}

/** One attempt of a run (issue 13): every run has at least one, the last being the run itself. */
export interface WireAttempt {
  attempt: number;
  status: string;
  message: string;
  exit_code: number | null;
  started: string | null;
  finished: string | null;
}

/** A run of GET /api/v1/history/<jid>/: the run and its attempts, oldest first. */
export function toWireRunWithAttempts(
  run: LedgerRun,
  recorded: readonly Attempt[],
  cmdStyle: CmdStyle,
  services?: ServiceStateOf,
): WireRun & { attempts: WireAttempt[] } {
  const attempts: WireAttempt[] = recorded.map((a) => ({
    attempt: a.attempt,
    status: a.status,
    message: a.message,
    exit_code: a.exitCode,
    started: timeOrNull(a.started),
    finished: time(a.finished),
  }));
  const last = recorded.at(-1);
  const terminal = run.status === 'finishedSuccessfully' || run.status === 'finishedWithError';
  attempts.push({
    attempt: recorded.length + 1,
    status: run.status,
    message: run.message,
    exit_code: run.exitCode,
    started: timeOrNull(last === undefined ? run.started : last.retried),
    finished: terminal ? timeOrNull(run.finished) : null,
  });
  return { ...toWireRun(run, cmdStyle, services), attempts };
}
