// JobService over the job ledger: durable intake before the answer, the one duplicate check, the
// engine-down path, finished runs answered from the store, history after DELETE, the reconciler,
// and the health probes' timeout.
import { describe, expect, it, vi } from 'vitest';
import type { Backend, JobRead } from '../../src/backends/backend.js';
import { MemoryBackend } from '../../src/backends/memory.js';
import {
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
  StoreUnavailableError,
  TooManyRequestsError,
} from '../../src/domain/errors.js';
import type { JobInfo, LogLimits } from '../../src/domain/job.js';
import type { JobRequest } from '../../src/domain/spec.js';
import { assertBackendReady, backendHealth } from '../../src/service/health.js';
import { JobService } from '../../src/service/jobs.js';
import type { JobSettings } from '../../src/service/jobs.js';
import { VANISHED_TEXT } from '../../src/service/run-recorder.js';
import { StoreFullError } from '../../src/store/errors.js';
import { Ledger } from '../../src/store/ledger.js';
import { TEST_STORAGE, sampleRequest, testConfig } from '../fixtures.js';

function request(jid = 'chris-jid-7'): JobRequest {
  return sampleRequest({ jid });
}

function service(backend: Backend = new MemoryBackend(), config: Partial<JobSettings> = {}) {
  const ledger = Ledger.inMemory();
  const jobs = new JobService({
    backend,
    ledger,
    config: { ...testConfig(), ...config },
    storage: TEST_STORAGE,
  });
  return { jobs, ledger, backend };
}

/** The reconciler leaves alone runs accepted in the millisecond its list began. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2));
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('JobService.create: durable intake', () => {
  it('records the run (spec, fingerprint, auid) before it answers, and marks it created', async () => {
    const { jobs, ledger } = service();
    expect(await jobs.create(request())).toMatchObject({
      name: 'chris-jid-7',
      status: 'notstarted',
    });
    expect(ledger.current('chris-jid-7')).toBeDefined();
    await tick(); // the "created" note is committed with the next group
    const run = ledger.current('chris-jid-7');
    expect(run).toMatchObject({ jid: 'chris-jid-7', run: 1, auid: 'cube', engine: 'created' });
    expect(run?.spec.image).toBe(request().image);
    expect(run?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives two bodies that differ only in key order the same fingerprint', async () => {
    const a = service();
    const b = service();
    const req = request();
    const reordered = Object.fromEntries(Object.entries(req).reverse()) as unknown as JobRequest;
    await a.jobs.create(req);
    await b.jobs.create(reordered);
    expect(a.ledger.current('chris-jid-7')?.fingerprint).toBe(
      b.ledger.current('chris-jid-7')?.fingerprint,
    );
  });

  it('answers 503 (StoreUnavailableError) when the store cannot take the intake, and creates nothing', async () => {
    const backend = new MemoryBackend();
    const create = vi.spyOn(backend, 'create');
    const { jobs, ledger } = service(backend);
    vi.spyOn(ledger, 'intake').mockRejectedValueOnce(new StoreFullError('/state/pman.db'));
    const refused = jobs.create(request());
    await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(refused).rejects.toThrow('the job store cannot record the job');
    expect(create).not.toHaveBeenCalled();
    expect(ledger.current('chris-jid-7')).toBeUndefined();
    // Room again: the same POST goes through.
    await expect(jobs.create(request())).resolves.toMatchObject({ name: 'chris-jid-7' });
  });
});

describe('JobService.create: one duplicate check', () => {
  it('does not read the backend before creating', async () => {
    const backend = new MemoryBackend();
    const read = vi.spyOn(backend, 'read');
    const { jobs } = service(backend);
    await jobs.create(request());
    expect(read).not.toHaveBeenCalled();
  });

  it('refuses a jid with a live run without calling the backend', async () => {
    const backend = new MemoryBackend();
    const { jobs } = service(backend);
    await jobs.create(request());
    const create = vi.spyOn(backend, 'create');
    const again = jobs.create(request());
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow('job "chris-jid-7" already exists');
    expect(create).not.toHaveBeenCalled();
  });

  it('lets one of many concurrent creates of a jid reach the backend', async () => {
    const backend = new MemoryBackend();
    const create = vi.spyOn(backend, 'create');
    const { jobs } = service(backend);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => jobs.create(request())),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refusals = results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []));
    expect(refusals).toHaveLength(4);
    for (const reason of refusals) expect(reason).toBeInstanceOf(ConflictError);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('an engine refusal is the answer; the run is kept as refused and the jid is free again', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    vi.spyOn(backend, 'create').mockRejectedValueOnce(new InvalidSpecError('no such image'));
    await expect(jobs.create(request())).rejects.toThrow('no such image');
    await expect(jobs.read('chris-jid-7')).rejects.toBeInstanceOf(NotFoundError);
    expect(ledger.runsOf('chris-jid-7')).toMatchObject([
      { run: 1, status: 'finishedWithError', message: 'refused by the engine: no such image' },
    ]);
    await jobs.create(request());
    await tick();
    expect(ledger.current('chris-jid-7')).toMatchObject({ run: 2, engine: 'created' });
  });
});

describe('JobService.create while the engine is down (ACCEPT_WHILE_UNAVAILABLE)', () => {
  it('answers notstarted with a waiting message; the reconciler creates it once the engine is back', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    backend.setOutage('connect ECONNREFUSED');
    const info = await jobs.create(request());
    expect(info).toMatchObject({ status: 'notstarted' });
    expect(info.message).toContain('waiting for the engine');
    expect(ledger.current('chris-jid-7')).toMatchObject({ engine: 'pending' });
    // A GET meanwhile answers from the store.
    expect((await jobs.read('chris-jid-7')).info.message).toContain('waiting for the engine');
    await expect(jobs.reconciler.pass()).rejects.toBeInstanceOf(BackendUnavailableError);
    backend.setOutage(undefined);
    await tick();
    const create = vi.spyOn(backend, 'create');
    expect(await jobs.reconciler.pass()).toMatchObject({ created: 1 });
    expect(await jobs.reconciler.pass()).toMatchObject({ created: 0 });
    expect(create).toHaveBeenCalledTimes(1);
    expect(backend.specOf('chris-jid-7')).toBeDefined();
    expect(ledger.current('chris-jid-7')).toMatchObject({ engine: 'created' });
  });

  it('ends the run finishedWithError when the engine, once back, refuses it', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    backend.setOutage('down');
    await jobs.create(request());
    backend.setOutage(undefined);
    await tick();
    vi.spyOn(backend, 'create').mockRejectedValueOnce(new InvalidSpecError('no such image'));
    await jobs.reconciler.pass();
    expect(ledger.runsOf('chris-jid-7')[0]).toMatchObject({
      status: 'finishedWithError',
      message: 'refused by the engine: no such image',
    });
  });

  it('refuses with 503 when ACCEPT_WHILE_UNAVAILABLE is off, leaving the jid free', async () => {
    const backend = new MemoryBackend();
    const { jobs } = service(backend, { acceptWhileUnavailable: false });
    backend.setOutage('down');
    await expect(jobs.create(request())).rejects.toBeInstanceOf(BackendUnavailableError);
    backend.setOutage(undefined);
    await expect(jobs.create(request())).resolves.toMatchObject({ name: 'chris-jid-7' });
  });
});

describe('JobService: finished runs are the store’s', () => {
  it('records the outcome and complete log once; later reads make no engine call', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    await jobs.create(request());
    backend.finish('chris-jid-7', 3, 'bye\n');
    expect((await jobs.read('chris-jid-7')).info.status).toBe('finishedWithError');
    const run = ledger.current('chris-jid-7');
    expect(run).toMatchObject({ status: 'finishedWithError' });
    expect(ledger.log(run?.id ?? 0)).toBe('bye\n');
    const read = vi.spyOn(backend, 'read');
    backend.vanish('chris-jid-7');
    expect(await jobs.read('chris-jid-7')).toMatchObject({
      info: { status: 'finishedWithError', message: 'exited with code 3' },
      logs: 'bye\n',
    });
    expect(read).not.toHaveBeenCalled();
  });

  it('records what the backend’s watch hands over, asking for the complete log', async () => {
    const memory = new MemoryBackend();
    let limits: LogLimits | undefined;
    let listener: ((snapshot: JobRead) => void) | undefined;
    const backend: Backend = Object.assign(memory, {
      watchJobs(l: LogLimits, f: (snapshot: JobRead) => void) {
        limits = l;
        listener = f;
      },
    });
    const { jobs, ledger } = service(backend);
    expect(limits).toEqual({ tail: Number.MAX_SAFE_INTEGER, maxBytes: 64 * 1024 * 1024 });
    await jobs.create(request('k'));
    const info = {
      name: 'k',
      image: 'busybox',
      command: ['true'],
      timestamp: '2026-01-01T00:00:00Z',
    };
    listener?.({ info: { ...info, status: 'started', message: 'running' }, logs: '' });
    listener?.({
      info: { ...info, status: 'finishedSuccessfully', message: 'done', exitCode: 0 },
      logs: 'ok\n',
    });
    await vi.waitFor(() => expect(ledger.current('k')?.status).toBe('finishedSuccessfully'));
    expect(ledger.current('k')).toMatchObject({ exitCode: 0, message: 'done' });
    expect(ledger.log(ledger.current('k')?.id ?? 0)).toBe('ok\n');
  });

  it('adopts what the watch shows of an engine object the store does not know', async () => {
    const memory = new MemoryBackend();
    let listener: ((snapshot: JobRead) => void) | undefined;
    const backend: Backend = Object.assign(memory, {
      watchJobs(_: LogLimits, f: (snapshot: JobRead) => void) {
        listener = f;
      },
    });
    const { ledger } = service(backend);
    const info = {
      name: 'old',
      image: 'busybox',
      command: ['true'],
      timestamp: '2026-01-01T00:00:00Z',
    };
    listener?.({ info: { ...info, status: 'started', message: 'running' }, logs: '' });
    await vi.waitFor(() => expect(ledger.current('old')).toBeDefined());
    expect(ledger.current('old')).toMatchObject({ status: 'started', engine: 'created' });
  });
});

describe('JobService.remove: history outlives DELETE', () => {
  it('answers 404 after DELETE, keeps the run marked removed, and a new POST is run 2', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    await jobs.create(request());
    backend.finish('chris-jid-7', 0, 'done\n');
    await jobs.read('chris-jid-7');
    await jobs.remove('chris-jid-7');
    await expect(jobs.read('chris-jid-7')).rejects.toBeInstanceOf(NotFoundError);
    await expect(jobs.remove('chris-jid-7')).rejects.toBeInstanceOf(NotFoundError);
    const [first] = jobs.historyOf('chris-jid-7');
    expect(first).toMatchObject({ run: 1, status: 'finishedSuccessfully' });
    expect(first?.removed).not.toBeNull();
    expect(jobs.runLog('chris-jid-7', 1)).toBe('done\n');
    await jobs.create(request());
    expect(ledger.current('chris-jid-7')).toMatchObject({ run: 2, removed: null });
  });

  it('ends a run deleted while running, keeping what it wrote', async () => {
    const backend = new MemoryBackend();
    const { jobs } = service(backend);
    await jobs.create(request());
    backend.start('chris-jid-7', [new TextEncoder().encode('half\n')]);
    await jobs.remove('chris-jid-7');
    expect(jobs.historyOf('chris-jid-7')[0]).toMatchObject({
      status: 'finishedWithError',
      message: 'removed by DELETE while started',
    });
    expect(jobs.runLog('chris-jid-7', 1)).toBe('half\n');
  });

  it('a DELETE the engine cannot take (down) is a 503 that changes nothing', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    await jobs.create(request());
    backend.setOutage('down');
    await expect(jobs.remove('chris-jid-7')).rejects.toBeInstanceOf(BackendUnavailableError);
    backend.setOutage(undefined);
    expect(ledger.current('chris-jid-7')).toMatchObject({ status: 'notstarted', removed: null });
    backend.finish('chris-jid-7', 0, 'fine\n');
    expect((await jobs.read('chris-jid-7')).info.status).toBe('finishedSuccessfully');
  });

  it('a terminal read still in flight does not bring a deleted job back', async () => {
    const backend = new MemoryBackend();
    const { jobs } = service(backend);
    await jobs.create(request('chris-jid-9'));
    backend.finish('chris-jid-9', 0, 'done\n');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const read = backend.read.bind(backend);
    vi.spyOn(backend, 'read').mockImplementationOnce(async (name, options) => {
      const snapshot = await read(name, options);
      await gate;
      return snapshot;
    });
    const reading = jobs.read('chris-jid-9');
    await jobs.remove('chris-jid-9');
    release();
    await reading;
    await expect(jobs.read('chris-jid-9')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('historyOf and runLog answer NotFoundError for what the store does not have', () => {
    const { jobs } = service();
    expect(() => jobs.historyOf('nobody')).toThrow(NotFoundError);
    expect(() => jobs.runLog('nobody', 1)).toThrow(NotFoundError);
  });
});

describe('Reconciler', () => {
  it('ends a created run whose engine object vanished, saying so', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    await jobs.create(request());
    backend.vanish('chris-jid-7');
    await tick();
    expect(await jobs.reconciler.pass()).toMatchObject({ vanished: 1 });
    expect(ledger.current('chris-jid-7')).toMatchObject({
      status: 'finishedWithError',
      message: VANISHED_TEXT,
    });
  });

  it('does not call a run vanished whose object was made after the list was taken', async () => {
    // The list shows nothing (taken before a queued run's object was made); a read finds it.
    class LateListBackend extends MemoryBackend {
      override list(): Promise<JobInfo[]> {
        return Promise.resolve([]);
      }
    }
    const backend = new LateListBackend();
    const { jobs, ledger } = service(backend);
    await jobs.create(request());
    await tick();
    expect(await jobs.reconciler.pass()).toMatchObject({ vanished: 0 });
    expect(ledger.current('chris-jid-7')?.status).toBe('notstarted');
    backend.vanish('chris-jid-7');
    expect(await jobs.reconciler.pass()).toMatchObject({ vanished: 1 });
  });

  it('adopts an engine object of ours with no run, and finishes an interrupted DELETE', async () => {
    const backend = new MemoryBackend();
    const { jobs, ledger } = service(backend);
    await backend.create({ ...sampleSpecFor('stray') });
    expect(await jobs.reconciler.pass()).toMatchObject({ adopted: 1 });
    expect(ledger.current('stray')).toMatchObject({ fingerprint: 'adopted', engine: 'created' });
    // DELETE marked the run removed, then the server died before the engine call.
    await ledger.markRemoved(ledger.current('stray')?.id ?? 0);
    await tick();
    expect(await jobs.reconciler.pass()).toMatchObject({ removed: 1 });
    expect(backend.specOf('stray')).toBeUndefined();
  });
});

function sampleSpecFor(name: string) {
  return {
    name,
    image: 'busybox',
    command: ['true'],
    env: {},
    resources: { workers: 1, cpuMillicores: 1000, memoryMiB: 200, gpus: 0 },
    mounts: [],
    labels: {},
  };
}

describe('JobService.openLogs', () => {
  it("streams a finished run's archived log, tail applied, after the engine object is gone", async () => {
    const backend = new MemoryBackend();
    const { jobs } = service(backend);
    await jobs.create(request());
    backend.finish('chris-jid-7', 0, 'one\ntwo\nthree\n');
    await jobs.read('chris-jid-7');
    backend.vanish('chris-jid-7');
    expect(await text(await jobs.openLogs('chris-jid-7', 2))).toBe('two\nthree\n');
  });

  it('answers NotFoundError, before any stream starts, for a job nobody knows', async () => {
    const { jobs } = service();
    await expect(jobs.openLogs('nobody', undefined)).rejects.toThrow('job "nobody" not found');
  });

  it("streams the backend's chunks as they are", async () => {
    const backend = new MemoryBackend();
    const { jobs } = service(backend);
    await jobs.create(request());
    backend.start('chris-jid-7', [Uint8Array.of(0xc3), Uint8Array.of(0xa9, 0x0a)]);
    expect(await text(await jobs.openLogs('chris-jid-7', undefined))).toBe('é\n');
  });
});

describe('health', () => {
  it('is ok while the backend answers', async () => {
    expect(await backendHealth(new MemoryBackend())).toBe('ok');
  });

  it('refuses readiness when ping does not answer in time, and says so', async () => {
    const silent = { ping: () => new Promise<void>(() => undefined) };
    await expect(assertBackendReady(silent, 20)).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await backendHealth(silent, 20)).toBe('backend did not answer within 0.02 s');
  });

  it('turns any ping failure into BackendUnavailableError with its reason', async () => {
    const broken = { ping: () => Promise.reject(new Error('socket hang up')) };
    await expect(assertBackendReady(broken)).rejects.toThrow(BackendUnavailableError);
    await expect(assertBackendReady(broken)).rejects.toThrow('socket hang up');
  });
});

describe('JobService.create: a cap on creates in flight (issue 10, item 12)', () => {
  it('beyond MAX_CONCURRENT_CREATES a create waits its turn; beyond MAX_WAITING_CREATES it gets 429', async () => {
    const backend = new MemoryBackend();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const create = backend.create.bind(backend);
    vi.spyOn(backend, 'create').mockImplementationOnce(async (spec) => {
      await gate;
      return create(spec);
    });
    const { jobs } = service(backend, { maxConcurrentCreates: 1, maxWaitingCreates: 1 });
    const first = jobs.create(request('chris-jid-1'));
    const waiting = jobs.create(request('chris-jid-2'));
    const refused = jobs.create(request('chris-jid-3'));
    await expect(refused).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(refused).rejects.toThrow('1 creates are running and 1 are waiting; retry shortly');
    expect(backend.specOf('chris-jid-2')).toBeUndefined();
    release();
    await expect(first).resolves.toMatchObject({ name: 'chris-jid-1' });
    await expect(waiting).resolves.toMatchObject({ name: 'chris-jid-2' });
    await expect(jobs.create(request('chris-jid-3'))).resolves.toMatchObject({
      name: 'chris-jid-3',
    });
  });
});

describe('Reconciler scheduling', () => {
  it('a wake never postpones a pass that is already due (a client polling a waiting job)', async () => {
    vi.useFakeTimers();
    try {
      const backend = new MemoryBackend();
      const list = vi.spyOn(backend, 'list');
      const { jobs } = service(backend);
      jobs.reconciler.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(list).toHaveBeenCalledTimes(1);
      jobs.reconciler.wake();
      // Woken again every 300 ms: the pass due 1 s after the first wake still happens.
      for (let i = 0; i < 5; i++) {
        await vi.advanceTimersByTimeAsync(300);
        jobs.reconciler.wake();
      }
      expect(list.mock.calls.length).toBeGreaterThanOrEqual(2);
      jobs.reconciler.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
