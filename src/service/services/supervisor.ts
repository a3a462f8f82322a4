// ServiceSupervisor (issue 15): decides when a service job is ready. For every service run the
// engine holds that has not passed its health check, about once a second: one look at the backend,
// then its own verdict (Kubernetes: the readiness probe, `info.service.healthy`) or, when it has
// none, a probe of the endpoint it reported (probe.ts). A pass is noted in the store (it stays
// ready across restarts) and recorded through the recorder, so the event stream, webhooks and
// history see notstarted → started even if nobody GETs. A service not ready
// SERVICE_START_TIMEOUT_SECONDS after the backend first reported it is stopped as deadlines stop a
// run, with the reason its end carries.
import type { Backend, JobRead } from '../../backends/backend.js';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobInfo } from '../../domain/job.js';
import type { Ledger, LedgerRun } from '../../store/ledger.js';
import type { RunRecorder } from '../run-recorder.js';
import { presentService } from './presented.js';
import type { Readiness } from './presented.js';
import { probe as probeEndpoint } from './probe.js';
import type { ProbeResult } from './probe.js';

/** Between two checks of a waiting service. */
export const SERVICE_CHECK_PERIOD_MS = 1_000;
/** Checks under way at once (each holds a backend read and a probe of up to 2 s). */
export const SERVICE_CHECK_CONCURRENCY = 8;
/**
 * pman's own check must pass twice, this far apart, with no engine restart in between. One pass
 * proves little: a published port's proxy (Docker, Swarm host mode) may accept and hold a
 * connection for a container that has just crashed, and a crash-looping server can answer once.
 */
export const SERVICE_CONFIRM_MS = 1_000;
/** Why a service whose check passed only once is not ready (the start timeout's reason). */
const CONFIRMING_TEXT = 'its check passed once but not again';

/** The message a service not ready in time ends with. */
export function notHealthyText(seconds: number, reason: string, backendMessage: string): string {
  // What the backend says only when it adds something ("restarting after exit code 1 …").
  const plain = backendMessage === '' || backendMessage === 'running';
  const said = plain || reason.includes(backendMessage) ? '' : ` (${backendMessage})`;
  return `service not healthy after ${seconds} s: ${reason}${said}`;
}

export interface SupervisorDeps {
  ledger: Ledger;
  backend: Backend;
  recorder: RunRecorder;
  /** SERVICE_START_TIMEOUT_SECONDS. */
  startTimeoutSeconds: number;
  /** Stops the run with the reason (the deadlines' path: cancel.ts). */
  stop: (run: LedgerRun, reason: string) => Promise<unknown>;
  /** The engine holds no object of the run yet (queued, pending, being created). */
  notCreated: (run: LedgerRun) => boolean;
  warn: (message: string, err?: unknown) => void;
  /** The health check (tests inject one); default probe.ts. */
  probe?: (endpoint: string, healthPath: string | undefined) => Promise<ProbeResult>;
  now?: () => number;
  periodMs?: number;
}

export class ServiceSupervisor {
  readonly #deps: SupervisorDeps;
  /** Runs whose check is under way: a slow one is never checked twice at once. */
  readonly #checking = new Set<number>();
  /** A run's first passing probe, waiting for its confirmation (SERVICE_CONFIRM_MS). */
  readonly #passed = new Map<number, { at: number; restarts?: number; endpoint?: string }>();
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
  }

  /**
   * Checks from now on, every period while any service waits for its check, until close(). Idle
   * (no timer) while none waits: a look at a waiting service (present()) wakes it again.
   */
  start(): void {
    this.#started = true;
    this.wake();
  }

  /** A service may be waiting: rounds go on until none is. */
  wake(): void {
    if (!this.#started || this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      void this.tick().then((waiting) => {
        this.#timer = undefined;
        if (waiting > 0) this.wake();
      });
    }, this.#deps.periodMs ?? SERVICE_CHECK_PERIOD_MS);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The store's readiness of a run (what presented.ts needs). */
  readiness(run: LedgerRun): Readiness {
    const state = this.#deps.ledger.services.get(run.id);
    return { ready: state?.readyAt != null, endpoint: state?.endpoint ?? undefined };
  }

  /**
   * A service run's JobInfo as answered (presented.ts); anything else unchanged. A ready service
   * the backend now reports at another endpoint has the new one noted.
   */
  present(run: LedgerRun, info: JobInfo): JobInfo {
    if (run.spec.service === undefined) return info;
    const readiness = this.readiness(run);
    const endpoint = info.service?.endpoint;
    if (readiness.ready && endpoint !== undefined && endpoint !== readiness.endpoint) {
      this.#deps.ledger.services.moved(run.id, endpoint).catch((err: unknown) => {
        this.#deps.warn(`could not note the endpoint of service job "${run.jid}"`, err);
      });
    }
    const shown = presentService(info, readiness);
    if (!readiness.ready && !TERMINAL_STATUSES.has(shown.status)) this.wake();
    return shown;
  }

  /** The service runs waiting for their check now. */
  waiting(): LedgerRun[] {
    const { ledger } = this.#deps;
    return ledger
      .active()
      .filter(
        (run) =>
          run.spec.service !== undefined &&
          run.stopReason === null &&
          !ledger.queue.has(run.id) &&
          !this.#deps.notCreated(run) &&
          ledger.services.get(run.id)?.readyAt == null,
      );
  }

  /** One round: every waiting service checked once, a few at a time. Answers how many waited. */
  async tick(): Promise<number> {
    let waiting: LedgerRun[];
    try {
      waiting = this.waiting();
    } catch (err) {
      // A store that cannot be read now (closed at shutdown, an I/O error): idle until woken.
      this.#deps.warn('could not list the service jobs waiting for their health check', err);
      return 0;
    }
    const queue = waiting.filter((run) => !this.#checking.has(run.id));
    const worker = async (): Promise<void> => {
      for (let run = queue.shift(); run !== undefined; run = queue.shift()) {
        if (this.#closed) return;
        this.#checking.add(run.id);
        try {
          await this.check(run);
        } catch (err) {
          this.#deps.warn(`could not check service job "${run.jid}"`, err);
        } finally {
          this.#checking.delete(run.id);
        }
      }
    };
    await Promise.all(Array.from({ length: SERVICE_CHECK_CONCURRENCY }, worker));
    return waiting.length;
  }

  /** One check of one waiting service: recorded, and stopped when its time is up. */
  async check(run: LedgerRun): Promise<void> {
    const { ledger, backend, recorder } = this.#deps;
    const now = this.#deps.now ?? Date.now;
    let read: JobRead;
    try {
      read = await backend.read(run.jid);
    } catch {
      // Gone or unreachable: the reconciler settles it; the timeout counts from the first report.
      return;
    }
    const { info } = read;
    if (TERMINAL_STATUSES.has(info.status)) {
      await recorder.observe(run, read, false);
      return;
    }
    let state = ledger.services.get(run.id);
    if (state === undefined) {
      await ledger.services.seen(run.id, now());
      state = ledger.services.get(run.id);
    }
    const checked = this.#confirmed(run, info, await this.#verdict(run, info), now());
    // A pass still to be confirmed is neither ready nor a failure to note, but the start timeout
    // still runs: a crash loop whose every start answers once must end too.
    const verdict: ProbeResult =
      checked === 'confirming' ? { ok: false, reason: CONFIRMING_TEXT } : checked;
    if (verdict.ok) {
      await ledger.services.ready(run.id, now(), info.service?.endpoint);
    } else if (checked !== 'confirming' && verdict.reason !== state?.lastCheck) {
      await ledger.services.failed(run.id, verdict.reason);
    }
    const fresh = ledger.current(run.jid);
    if (fresh?.id !== run.id) return;
    await recorder.observe(fresh, read, false);
    if (verdict.ok || state === undefined) return;
    const seconds = this.#deps.startTimeoutSeconds;
    if (now() - state.since < seconds * 1000) return;
    const reason = notHealthyText(seconds, verdict.reason, info.message);
    await this.#deps.stop(fresh, reason).catch((err: unknown) => {
      // Tried again by the next round.
      this.#deps.warn(`could not stop service job "${run.jid}" after its start timeout`, err);
    });
  }

  /**
   * pman's own probe passing once is not enough (SERVICE_CONFIRM_MS): 'confirming' until a second
   * pass, a period later, finds the same endpoint and no restart since. The backend's own verdict
   * (Kubernetes' readiness probe has its thresholds) is taken as it is.
   */
  #confirmed(
    run: LedgerRun,
    info: JobInfo,
    verdict: ProbeResult,
    at: number,
  ): ProbeResult | 'confirming' {
    if (!verdict.ok || info.service?.healthy === true) {
      this.#passed.delete(run.id);
      return verdict;
    }
    const seen = { at, restarts: info.service?.restarts, endpoint: info.service?.endpoint };
    const first = this.#passed.get(run.id);
    if (
      first === undefined ||
      first.restarts !== seen.restarts ||
      first.endpoint !== seen.endpoint
    ) {
      this.#passed.set(run.id, seen);
      return 'confirming';
    }
    if (at - first.at < SERVICE_CONFIRM_MS) return 'confirming';
    this.#passed.delete(run.id);
    return verdict;
  }

  async #verdict(run: LedgerRun, info: JobInfo): Promise<ProbeResult> {
    if (info.status !== 'started') return { ok: false, reason: 'not started' };
    const healthy = info.service?.healthy;
    if (healthy === true) return { ok: true };
    if (healthy === false) return { ok: false, reason: 'readiness probe not passing' };
    const endpoint = info.service?.endpoint;
    if (endpoint === undefined) return { ok: false, reason: 'no endpoint yet' };
    const probe = this.#deps.probe ?? probeEndpoint;
    return probe(endpoint, run.spec.service?.healthPath);
  }
}
