// The fair queue and retries through the JobService over the memory backend (issue 13): a POST over
// a cap answers notstarted / "queued (position n)", a run's end admits the next, DELETE and cancel
// take a run out of the queue, a new service on the same store resumes it, and a failed attempt
// with `retries` is recorded and run again under the same name.
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory.js';
import type { QueueCaps } from '../../src/domain/queue-order.js';
import type { JobRequest } from '../../src/domain/spec.js';
import { JobService } from '../../src/service/jobs.js';
import { Ledger } from '../../src/store/ledger.js';
import { TEST_STORAGE, holds as until, sampleRequest, testConfig } from '../fixtures.js';

function service(caps: QueueCaps = {}, ledger = Ledger.inMemory(), backend = new MemoryBackend()) {
  const jobs = new JobService({
    backend,
    ledger,
    config: { ...testConfig(), queue: caps },
    storage: TEST_STORAGE,
  });
  jobs.queue.start();
  return { jobs, ledger, backend };
}

function req(jid: string, overrides: Partial<JobRequest> = {}): JobRequest {
  return sampleRequest({ jid, ...overrides });
}

async function names(backend: MemoryBackend): Promise<string[]> {
  return (await backend.list()).map((info) => info.name).sort();
}

describe('the fair queue (JobService)', () => {
  it('without a cap creates at once and queues nothing', async () => {
    const { jobs, backend, ledger } = service();
    for (const jid of ['a', 'b', 'c']) await jobs.create(req(jid));
    expect(await names(backend)).toEqual(['a', 'b', 'c']);
    expect(ledger.queue.entries()).toEqual([]);
  });

  it('answers "queued (position n)" over MAX_RUNNING, and a run\'s end admits the next', async () => {
    const { jobs, backend } = service({ maxRunning: 2 });
    const answers = [];
    for (const jid of ['a', 'b', 'c', 'd']) answers.push(await jobs.create(req(jid)));
    expect(answers.map((a) => [a.status, a.message])).toEqual([
      ['notstarted', 'created'],
      ['notstarted', 'created'],
      ['notstarted', 'queued (position 1)'],
      ['notstarted', 'queued (position 2)'],
    ]);
    expect(await names(backend)).toEqual(['a', 'b']);
    expect((await jobs.read('d')).info.message).toBe('queued (position 2)');
    backend.finish('a', 0);
    await until(async () => (await names(backend)).includes('c'), 'c admitted');
    expect(await names(backend)).toEqual(['a', 'b', 'c']);
    expect((await jobs.read('d')).info.message).toBe('queued (position 1)');
    expect(jobs.queue.places().map((p) => [p.jid, p.position])).toEqual([['d', 1]]);
  });

  it('starts higher priority first, and round-robins across auids', async () => {
    const { jobs, backend, ledger } = service({ maxRunning: 1 });
    await jobs.create(req('blocker'));
    await jobs.create(req('x1', { auid: 'x' }));
    await jobs.create(req('x2', { auid: 'x' }));
    await jobs.create(req('x3', { auid: 'x' }));
    await jobs.create(req('y1', { auid: 'y' }));
    await jobs.create(req('urgent', { auid: 'x', priority: 5 }));
    // x was served last (its urgent run goes first), so y's one run goes before x's next.
    expect(jobs.queue.places().map((p) => p.jid)).toEqual(['urgent', 'y1', 'x1', 'x2', 'x3']);
    const started: string[] = [];
    let current = 'blocker';
    for (let i = 0; i < 5; i++) {
      backend.finish(current, 0);
      const before = started.length;
      await until(
        () =>
          ledger
            .liveRuns()
            .some(
              (r) =>
                r.engine === 'created' &&
                !started.includes(r.jid) &&
                r.jid !== 'blocker' &&
                r.status === 'notstarted',
            ),
        'next admitted',
      );
      const next = ledger
        .liveRuns()
        .find(
          (r) =>
            r.engine === 'created' &&
            r.status === 'notstarted' &&
            !started.includes(r.jid) &&
            r.jid !== 'blocker',
        );
      started.push(next?.jid ?? '?');
      expect(started.length).toBe(before + 1);
      current = next?.jid ?? '?';
    }
    expect(started).toEqual(['urgent', 'y1', 'x1', 'x2', 'x3']);
  });

  it('MAX_RUNNING_PER_AUID: another auid is not held back (no head-of-line blocking)', async () => {
    const { jobs, backend } = service({ maxRunningPerAuid: 1 });
    await jobs.create(req('a1', { auid: 'a' }));
    const a2 = await jobs.create(req('a2', { auid: 'a' }));
    await jobs.create(req('b1', { auid: 'b' }));
    expect(a2.message).toBe('queued (position 1)');
    expect(await names(backend)).toEqual(['a1', 'b1']);
  });

  it('MAX_GPUS: a job asking more than the cap is a 400; one that does not fit now waits without blocking', async () => {
    const { jobs, backend } = service({ maxGpus: 2 });
    await expect(jobs.create(req('huge', { gpuLimit: 3 }))).rejects.toThrow(/MAX_GPUS/);
    await jobs.create(req('g1', { gpuLimit: 1 }));
    const g2 = await jobs.create(req('g2', { gpuLimit: 2 }));
    await jobs.create(req('cpu', { gpuLimit: 0 }));
    expect(g2.message).toBe('queued (position 1)');
    expect(await names(backend)).toEqual(['cpu', 'g1']);
  });

  it('DELETE and cancel take a run out of the queue; it never starts', async () => {
    const { jobs, backend, ledger } = service({ maxRunning: 1 });
    await jobs.create(req('a'));
    await jobs.create(req('b'));
    await jobs.create(req('c'));
    await jobs.remove('b');
    const cancelled = await jobs.cancel('c');
    expect(cancelled.status).toBe('finishedWithError');
    expect(ledger.queue.entries()).toEqual([]);
    backend.finish('a', 0);
    await until(() => ledger.current('a')?.status === 'finishedSuccessfully', 'a recorded');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await names(backend)).toEqual(['a']);
  });

  it('a new service on the same store resumes the queue: every queued run runs once', async () => {
    const ledger = Ledger.inMemory();
    const backend = new MemoryBackend();
    const first = service({ maxRunning: 1 }, ledger, backend);
    await first.jobs.create(req('a'));
    await first.jobs.create(req('b'));
    first.jobs.queue.stop();
    backend.finish('a', 0);
    await until(() => ledger.current('a')?.status === 'finishedSuccessfully', 'a recorded');
    expect(await names(backend)).toEqual(['a']);
    service({ maxRunning: 1 }, ledger, backend);
    await until(async () => (await names(backend)).includes('b'), 'b admitted after restart');
    expect(ledger.runsOf('b')).toHaveLength(1);
  });
});

describe('retries (JobService)', () => {
  it('records each failed attempt and runs it again; "attempt 2 of 3"; ends with the third', async () => {
    const { jobs, backend, ledger } = service();
    const retries = { limit: 2, backoffSeconds: 0 };
    await jobs.create(req('r', { retries }));
    backend.start('r');
    backend.finish('r', 1, 'first failed\n');
    await until(() => ledger.attempts.count(ledger.current('r')?.id ?? 0) === 1, 'attempt 1');
    await until(async () => (await backend.list()).some((i) => i.status === 'notstarted'), 'again');
    backend.start('r');
    await until(() => ledger.current('r')?.message === 'attempt 2 of 3', 'attempt 2 running');
    expect((await jobs.read('r')).info.message).toBe('attempt 2 of 3');
    backend.finish('r', 1, 'second failed\n');
    await until(() => ledger.attempts.count(ledger.current('r')?.id ?? 0) === 2, 'attempt 2');
    await until(async () => (await backend.list()).some((i) => i.status === 'notstarted'), 'again');
    backend.start('r');
    backend.finish('r', 0, 'third worked\n');
    await until(() => ledger.current('r')?.status === 'finishedSuccessfully', 'finished');
    const run = ledger.current('r');
    expect(run?.message).toBe('exited (attempt 3 of 3)');
    expect(ledger.runsOf('r')).toHaveLength(1);
    const attempts = ledger.attempts.of(run?.id ?? 0);
    expect(attempts.map((a) => [a.attempt, a.exitCode])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(ledger.attempts.log(run?.id ?? 0, 1)).toBe('first failed\n');
    expect(jobs.attemptLog('r', 1, 2)).toBe('second failed\n');
    expect(jobs.attemptLog('r', 1, 3)).toBe('third worked\n');
  });

  it('does not retry an exit code outside on_exit_codes, nor past the limit', async () => {
    const { jobs, backend, ledger } = service();
    await jobs.create(req('r', { retries: { limit: 3, backoffSeconds: 0, onExitCodes: [2] } }));
    backend.finish('r', 1);
    await until(() => ledger.current('r')?.status === 'finishedWithError', 'finished');
    expect(ledger.attempts.count(ledger.current('r')?.id ?? 0)).toBe(0);
  });

  it('waits out the backoff in the queue (durable), saying why', async () => {
    const { jobs, backend, ledger } = service();
    await jobs.create(req('r', { retries: { limit: 1, backoffSeconds: 3600 } }));
    backend.finish('r', 7, 'boom\n');
    await until(() => ledger.queue.entries().length === 1, 'queued for the retry');
    const read = await jobs.read('r');
    expect(read.info.status).toBe('started');
    expect(read.info.message).toBe('attempt 2 of 2 (retrying in 3600s after exit code 7)');
    expect(read.logs).toBe('boom\n');
    expect(await names(backend)).toEqual([]);
    expect(jobs.queue.places()[0]?.notBefore).toBeGreaterThan(Date.now());
  });

  it('a stopped queue admits nothing, not even a retry whose backoff runs out', async () => {
    // A run's end wakes the queue: a stopped one (shutdown) used to re-arm its backoff timer and
    // create the retry, racing the next process for it.
    const { jobs, backend, ledger } = service();
    await jobs.create(req('r', { retries: { limit: 1, backoffSeconds: 0.05 } }));
    jobs.queue.stop();
    backend.finish('r', 1, 'boom\n');
    await until(() => ledger.queue.entries().length === 1, 'queued for the retry');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await names(backend)).toEqual([]);
    expect(ledger.queue.entries()).toHaveLength(1);
  });

  it('a restart during the backoff still retries, once', async () => {
    const ledger = Ledger.inMemory();
    const backend = new MemoryBackend();
    const first = service({}, ledger, backend);
    await first.jobs.create(req('r', { retries: { limit: 1, backoffSeconds: 0.2 } }));
    first.jobs.queue.stop();
    backend.finish('r', 1, 'boom\n');
    await until(() => ledger.queue.entries().length === 1, 'queued for the retry');
    expect(await names(backend)).toEqual([]);
    // A new service on the same store (the process restarted): it admits the retry when due.
    service({}, ledger, backend);
    await until(async () => (await names(backend)).includes('r'), 'attempt 2 created');
    backend.finish('r', 0);
    await until(() => ledger.current('r')?.status === 'finishedSuccessfully', 'finished');
    expect(ledger.attempts.count(ledger.current('r')?.id ?? 0)).toBe(1);
    expect(ledger.runsOf('r')).toHaveLength(1);
  });

  it('a cancelled run is never retried', async () => {
    const { jobs, backend, ledger } = service();
    await jobs.create(req('r', { retries: { limit: 3, backoffSeconds: 0 } }));
    backend.start('r');
    await jobs.cancel('r');
    await until(() => ledger.current('r')?.status === 'finishedWithError', 'cancelled');
    expect(ledger.current('r')?.message).toMatch(/^cancelled/);
    expect(ledger.attempts.count(ledger.current('r')?.id ?? 0)).toBe(0);
    expect(ledger.queue.entries()).toEqual([]);
  });

  it('DELETE ends a run without retrying it', async () => {
    const { jobs, backend, ledger } = service();
    await jobs.create(req('r', { retries: { limit: 2, backoffSeconds: 0 } }));
    backend.start('r');
    await jobs.remove('r');
    const run = ledger.runsOf('r')[0];
    expect(run?.status).toBe('finishedWithError');
    expect(ledger.attempts.count(run?.id ?? 0)).toBe(0);
  });
});
