// The service supervisor (issue 15) with a fake probe and clock: the backend's own verdict
// (Kubernetes `healthy`) is taken without probing, a probe otherwise; a ready service is never
// checked again; the start timeout counts from the backend's first report, kept in the store, so a
// restarted server stops an overdue service at once with the reason.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory.js';
import type { LedgerRun } from '../../src/store/ledger.js';
import { Ledger } from '../../src/store/ledger.js';
import { RunRecorder } from '../../src/service/run-recorder.js';
import { notHealthyText, ServiceSupervisor } from '../../src/service/services/supervisor.js';
import type { ProbeResult } from '../../src/service/services/probe.js';
import { sampleSpec } from '../fixtures.js';

const LIMITS = { tail: 100, maxBytes: 10_000 };

interface Harness {
  supervisor: ServiceSupervisor;
  probes: string[];
  stopped: Array<[string, string]>;
  clock: { now: number };
}

function harness(
  ledger: Ledger,
  backend: MemoryBackend,
  verdict: () => ProbeResult,
  clock = { now: 1_000_000 },
): Harness {
  const recorder = new RunRecorder({
    ledger,
    backend,
    archive: LIMITS,
    present: (run, info) => supervisor.present(run, info),
  });
  const probes: string[] = [];
  const stopped: Array<[string, string]> = [];
  const supervisor: ServiceSupervisor = new ServiceSupervisor({
    ledger,
    backend,
    recorder,
    startTimeoutSeconds: 60,
    stop: (run: LedgerRun, reason: string) => {
      stopped.push([run.jid, reason]);
      return Promise.resolve();
    },
    notCreated: (run) => run.engine === 'pending',
    warn: () => undefined,
    probe: (endpoint, path) => {
      probes.push(`${endpoint}${path ?? ''}`);
      return Promise.resolve(verdict());
    },
    now: () => clock.now,
  });
  return { supervisor, probes, stopped, clock };
}

async function serviceRun(
  ledger: Ledger,
  backend: MemoryBackend,
  jid: string,
  healthPath?: string,
) {
  const spec = sampleSpec({
    name: jid,
    service: { port: 8080, exposure: 'ClusterIP', ...(healthPath !== undefined && { healthPath }) },
  });
  const { runId } = await ledger.intake({ jid, spec, fingerprint: 'f' });
  await backend.create(spec);
  await ledger.markCreated(runId);
  return runId;
}

/** A service run the engine runs, under a supervisor whose own check always passes. */
async function runningService(jid: string) {
  const ledger = Ledger.inMemory();
  const backend = new MemoryBackend();
  const h = harness(ledger, backend, () => ({ ok: true }));
  const runId = await serviceRun(ledger, backend, jid);
  backend.start(jid);
  return { ledger, backend, h, runId };
}

/**
 * One period on the fake clock, then real event-loop turns (the store commits on setImmediate)
 * until `done` holds — bounded, so a round that never gets there fails instead of hanging.
 */
async function round(done: () => boolean): Promise<void> {
  await vi.advanceTimersByTimeAsync(1_000);
  for (let turn = 0; turn < 1_000 && !done(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(done()).toBe(true);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ServiceSupervisor', () => {
  it("takes the backend's own verdict without probing; false keeps it waiting", async () => {
    const { ledger, backend, h, runId } = await runningService('k1');
    backend.setService('k1', { healthy: false });
    await h.supervisor.tick();
    expect(ledger.current('k1')).toMatchObject({
      status: 'notstarted',
      message: 'waiting for health check',
    });
    expect(ledger.services.get(runId)?.lastCheck).toBe('readiness probe not passing');
    backend.setService('k1', { healthy: true });
    await h.supervisor.tick();
    expect(ledger.current('k1')).toMatchObject({ status: 'started', message: 'running' });
    expect(h.probes).toEqual([]);
    expect(h.supervisor.waiting()).toEqual([]);
  });

  it('probes the endpoint with the health path until it passes, then never again', async () => {
    const ledger = Ledger.inMemory();
    const backend = new MemoryBackend();
    let result: ProbeResult = { ok: false, reason: 'connection refused' };
    const h = harness(ledger, backend, () => result);
    await serviceRun(ledger, backend, 'd1', '/healthz');
    // Not started at the engine yet: nothing to probe.
    await h.supervisor.tick();
    expect(h.probes).toEqual([]);
    backend.start('d1');
    await h.supervisor.tick();
    expect(h.probes).toEqual(['http://127.0.0.1:8080/healthz']);
    expect(ledger.current('d1')?.status).toBe('notstarted');
    result = { ok: true };
    // One pass is not enough: a second one a period later, with no restart between, is.
    await h.supervisor.tick();
    expect(ledger.current('d1')?.status).toBe('notstarted');
    h.clock.now += 1_000;
    await h.supervisor.tick();
    expect(ledger.current('d1')?.status).toBe('started');
    await h.supervisor.tick();
    expect(h.probes).toHaveLength(3);
    expect(h.stopped).toEqual([]);
  });

  it('one pass is not enough: a restart between two passes starts the confirmation again', async () => {
    const { ledger, backend, h } = await runningService('c1');
    await h.supervisor.tick();
    expect(ledger.current('c1')?.status).toBe('notstarted');
    // The server crashed and the engine restarted it: the earlier pass proves nothing.
    backend.restart('c1', 1);
    h.clock.now += 1_000;
    await h.supervisor.tick();
    expect(ledger.current('c1')?.status).toBe('notstarted');
    // Too soon after the new first pass.
    h.clock.now += 500;
    await h.supervisor.tick();
    expect(ledger.current('c1')?.status).toBe('notstarted');
    h.clock.now += 500;
    await h.supervisor.tick();
    expect(ledger.current('c1')?.status).toBe('started');
  });

  it('a crash loop whose every start answers once still ends at the start timeout', async () => {
    const { ledger, backend, h } = await runningService('c2');
    for (let second = 0; second <= 60; second++) {
      await h.supervisor.tick();
      backend.restart('c2', 1);
      h.clock.now += 1_000;
    }
    expect(ledger.current('c2')?.status).toBe('notstarted');
    expect(h.stopped).toHaveLength(1);
    expect(h.stopped[0]?.[1]).toMatch(
      /^service not healthy after 60 s: its check passed once but not again \(restarting after exit code 1/,
    );
  });

  it('stops a service not ready in time, counting from the stored first report across a restart', async () => {
    const ledger = Ledger.inMemory();
    const backend = new MemoryBackend();
    const failing = (): ProbeResult => ({ ok: false, reason: 'connection refused' });
    const first = harness(ledger, backend, failing);
    const runId = await serviceRun(ledger, backend, 't1');
    backend.start('t1');
    await first.supervisor.tick();
    const since = ledger.services.get(runId)?.since;
    expect(since).toBe(first.clock.now);
    first.clock.now += 59_000;
    await first.supervisor.tick();
    expect(first.stopped).toEqual([]);
    first.supervisor.close();
    // A new server process, 61 s after the first report: stopped at its first check.
    const second = harness(ledger, backend, failing, { now: (since ?? 0) + 61_000 });
    backend.restart('t1', 1);
    await second.supervisor.tick();
    expect(ledger.services.get(runId)?.since).toBe(since);
    expect(second.stopped).toEqual([
      [
        't1',
        'service not healthy after 60 s: connection refused (restarting after exit code 1 (1 restarts))',
      ],
    ]);
  });

  it('runs rounds only while a service waits: idle without one, woken by a look at one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const ledger = Ledger.inMemory();
    const backend = new MemoryBackend();
    let result: ProbeResult = { ok: false, reason: 'connection refused' };
    const h = harness(ledger, backend, () => result);
    h.supervisor.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(0);
    const runId = await serviceRun(ledger, backend, 'w1');
    backend.start('w1');
    const run = ledger.current('w1');
    if (run === undefined) throw new Error('no run');
    // A look at it (a GET, a watch snapshot) wakes the rounds.
    h.supervisor.present(run, (await backend.read('w1')).info);
    expect(vi.getTimerCount()).toBe(1);
    // Each round ends with the next one armed.
    const armed = (): boolean => vi.getTimerCount() === 1;
    await round(() => h.probes.length === 1 && armed());
    await round(() => h.probes.length === 2 && armed());
    result = { ok: true };
    await round(() => h.probes.length === 3 && armed());
    expect(ledger.services.get(runId)?.readyAt).toBeNull();
    h.clock.now += 1_000;
    await round(() => ledger.services.get(runId)?.readyAt != null && armed());
    // Ready: the next round finds nobody waiting, and the timer goes.
    await round(() => vi.getTimerCount() === 0);
    expect(h.probes).toHaveLength(4);
    h.supervisor.close();
  });

  it('notHealthyText leaves out a plain "running"', () => {
    expect(notHealthyText(120, 'connection refused', 'running')).toBe(
      'service not healthy after 120 s: connection refused',
    );
    expect(notHealthyText(5, 'not started', 'pulling image')).toBe(
      'service not healthy after 5 s: not started (pulling image)',
    );
  });
});
