// Deadlines (issue 13): a run that started before a restart and is overdue is stopped as soon as
// the first reconciler pass re-arms it; one within its deadline waits; finished runs get no timer.
import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../src/service/deadlines.js';
import { Ledger } from '../../src/store/ledger.js';
import type { LedgerRun } from '../../src/store/ledger.js';
import { sampleSpec, until } from '../fixtures.js';

const T0 = Date.UTC(2026, 0, 1);

async function startedRun(ledger: Ledger, jid: string, timeoutSeconds?: number): Promise<number> {
  const spec = sampleSpec({ name: jid, ...(timeoutSeconds !== undefined && { timeoutSeconds }) });
  const { runId } = await ledger.intake({ jid, spec, fingerprint: 'f' });
  await ledger.markCreated(runId);
  await ledger.appendEvent(runId, 'started', 'running');
  return runId;
}

describe('Deadlines', () => {
  it('re-arms at start-up: an overdue run is stopped with its message, a young one waits', async () => {
    const ledger = Ledger.inMemory({ now: () => T0 });
    const overdue = await startedRun(ledger, 'late', 3);
    await startedRun(ledger, 'young', 3600);
    await startedRun(ledger, 'none');
    const done = await ledger.intake({
      jid: 'done',
      spec: sampleSpec({ name: 'done', timeoutSeconds: 1 }),
      fingerprint: 'f',
    });
    await ledger.finish(done.runId, {
      status: 'finishedSuccessfully',
      message: 'exited',
      logs: '',
    });
    const stopped: Array<[LedgerRun, string]> = [];
    const deadlines = new Deadlines({
      ledger,
      stop: (run, reason) => {
        stopped.push([run, reason]);
        return Promise.resolve();
      },
      warn: () => undefined,
      // The server came back 10 s after the runs started.
      now: () => T0 + 10_000,
    });
    deadlines.armAll();
    expect(deadlines.armed).toBe(2);
    await until(() => (stopped.length > 0 ? true : undefined), { what: 'the overdue stop' });
    expect(stopped.map(([run, reason]) => [run.id, reason])).toEqual([
      [overdue, 'DeadlineExceeded: ran longer than 3 s'],
    ]);
    deadlines.close();
    expect(deadlines.armed).toBe(0);
  });

  it('JOB_DEADLINE_SECONDS applies to runs without their own timeout', async () => {
    const ledger = Ledger.inMemory({ now: () => T0 });
    await startedRun(ledger, 'a');
    const reasons: string[] = [];
    const deadlines = new Deadlines({
      ledger,
      defaultSeconds: 5,
      stop: (_run, reason) => {
        reasons.push(reason);
        return Promise.resolve();
      },
      warn: () => undefined,
      now: () => T0 + 6_000,
    });
    deadlines.armAll();
    await until(() => (reasons.length > 0 ? true : undefined), { what: 'the stop' });
    expect(reasons).toEqual(['DeadlineExceeded: ran longer than 5 s']);
    deadlines.close();
  });
});
