// JobService on its own: the one duplicate check, the one writer of records, the record-only log
// stream, and the health probes' timeout.
import { describe, expect, it, vi } from 'vitest';
import type { Backend, JobRead } from '../../src/backends/backend.js';
import { MemoryBackend } from '../../src/backends/memory.js';
import {
  BackendUnavailableError,
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
} from '../../src/domain/errors.js';
import type { LogLimits } from '../../src/domain/job.js';
import type { JobRequest } from '../../src/domain/spec.js';
import { assertBackendReady, backendHealth } from '../../src/service/health.js';
import { JobService } from '../../src/service/jobs.js';
import { JobRecords } from '../../src/service/records.js';
import { TEST_STORAGE, sampleRequest, testConfig } from '../fixtures.js';

function request(jid = 'chris-jid-7'): JobRequest {
  return sampleRequest({ jid });
}

async function service(backend: Backend = new MemoryBackend()) {
  const records = await JobRecords.open();
  const jobs = new JobService({ backend, records, config: testConfig(), storage: TEST_STORAGE });
  return { jobs, records, backend };
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('JobService.create: one duplicate check', () => {
  it('does not read the backend before creating: the backend answers for the jobs it holds', async () => {
    const backend = new MemoryBackend();
    const read = vi.spyOn(backend, 'read');
    const { jobs } = await service(backend);
    expect(await jobs.create(request())).toMatchObject({
      name: 'chris-jid-7',
      status: 'notstarted',
    });
    expect(read).not.toHaveBeenCalled();
  });

  it("turns the backend's own ConflictError into the wire's text", async () => {
    const backend = new MemoryBackend();
    const { jobs } = await service(backend);
    await jobs.create(request());
    const again = jobs.create(request());
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toThrow('job "chris-jid-7" already exists');
  });

  it('refuses a jid known only from a record without calling the backend', async () => {
    const backend = new MemoryBackend();
    const create = vi.spyOn(backend, 'create');
    const { jobs, records } = await service(backend);
    const info = { name: 'chris-jid-7', image: 'busybox', command: ['true'] };
    await records.pin('chris-jid-7', {
      info: { ...info, status: 'finishedSuccessfully', message: 'exited', timestamp: 'x' },
      logs: '',
      at: '2026-01-01T00:00:00.000Z',
    });
    await expect(jobs.create(request())).rejects.toThrow('job "chris-jid-7" already exists');
    expect(create).not.toHaveBeenCalled();
  });

  it('lets one of many concurrent creates of a jid reach the backend', async () => {
    const backend = new MemoryBackend();
    const create = vi.spyOn(backend, 'create');
    const { jobs } = await service(backend);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => jobs.create(request())),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refusals = results.flatMap((r): unknown[] => (r.status === 'rejected' ? [r.reason] : []));
    expect(refusals).toHaveLength(4);
    for (const reason of refusals) expect(reason).toBeInstanceOf(ConflictError);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('releases the claim when the backend refuses, so a retry reaches the backend again', async () => {
    const backend = new MemoryBackend();
    const { jobs } = await service(backend);
    backend.setOutage('down');
    await expect(jobs.create(request())).rejects.toBeInstanceOf(BackendUnavailableError);
    backend.setOutage(undefined);
    await expect(jobs.create(request())).resolves.toMatchObject({ name: 'chris-jid-7' });
  });
});

describe('JobService: the only writer of records', () => {
  it('pins the first terminal read; later reads answer the pinned status', async () => {
    const backend = new MemoryBackend();
    const { jobs, records } = await service(backend);
    await jobs.create(request());
    backend.finish('chris-jid-7', 3, 'bye\n');
    expect((await jobs.read('chris-jid-7')).info.status).toBe('finishedWithError');
    expect(records.has('chris-jid-7')).toBe(true);
    expect(await records.logs('chris-jid-7')).toBe('bye\n');
    backend.vanish('chris-jid-7');
    expect(await jobs.read('chris-jid-7')).toMatchObject({
      info: { status: 'finishedWithError', message: 'exited with code 3' },
      logs: 'bye\n',
    });
  });

  it("pins what a backend's terminal watch hands over, with the configured log bounds", async () => {
    const memory = new MemoryBackend();
    let limits: LogLimits | undefined;
    let listener: ((snapshot: JobRead) => void) | undefined;
    const backend: Backend = Object.assign(memory, {
      watchTerminal(l: LogLimits, f: (snapshot: JobRead) => void) {
        limits = l;
        listener = f;
      },
    });
    const { records } = await service(backend);
    expect(limits).toEqual({ tail: 1000, maxBytes: 1024 * 1024 });
    const info = { name: 'k', image: 'busybox', command: ['true'], timestamp: 'x' };
    listener?.({
      info: { ...info, status: 'finishedSuccessfully', message: 'done' },
      logs: 'ok\n',
    });
    await vi.waitFor(() => expect(records.has('k')).toBe(true));
    expect(await records.logs('k')).toBe('ok\n');
  });
});

describe('JobService.openLogs', () => {
  it("streams a record-only job's captured logs, tail applied", async () => {
    const backend = new MemoryBackend();
    const { jobs } = await service(backend);
    await jobs.create(request());
    backend.finish('chris-jid-7', 0, 'one\ntwo\nthree\n');
    await jobs.read('chris-jid-7');
    backend.vanish('chris-jid-7');
    expect(await text(await jobs.openLogs('chris-jid-7', 2))).toBe('two\nthree\n');
  });

  it('answers NotFoundError, before any stream starts, for a job nobody knows', async () => {
    const { jobs } = await service();
    await expect(jobs.openLogs('nobody', undefined)).rejects.toThrow('job "nobody" not found');
    await expect(jobs.openLogs('nobody', undefined)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("streams the backend's chunks as they are", async () => {
    const backend = new MemoryBackend();
    const { jobs } = await service(backend);
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
    // The first create hangs in the backend (as on a slow engine or a pull wait).
    vi.spyOn(backend, 'create').mockImplementationOnce(async (spec) => {
      await gate;
      return create(spec);
    });
    const records = await JobRecords.open();
    const jobs = new JobService({
      backend,
      records,
      config: { ...testConfig(), maxConcurrentCreates: 1, maxWaitingCreates: 1 },
      storage: TEST_STORAGE,
    });
    const first = jobs.create(request('chris-jid-1'));
    const waiting = jobs.create(request('chris-jid-2'));
    const refused = jobs.create(request('chris-jid-3'));
    await expect(refused).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(refused).rejects.toThrow('1 creates are running and 1 are waiting; retry shortly');
    expect(backend.specOf('chris-jid-2')).toBeUndefined(); // still waiting for the slot
    release();
    await expect(first).resolves.toMatchObject({ name: 'chris-jid-1' });
    await expect(waiting).resolves.toMatchObject({ name: 'chris-jid-2' });
    await expect(jobs.create(request('chris-jid-3'))).resolves.toMatchObject({
      name: 'chris-jid-3',
    });
  });
});

describe('JobService: a DELETE wins over a terminal read still in flight', () => {
  it('does not pin a job that was removed while its read was under way', async () => {
    const backend = new MemoryBackend();
    const { jobs, records } = await service(backend);
    await jobs.create(request('chris-jid-9'));
    backend.finish('chris-jid-9', 0, 'done\n');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const read = backend.read.bind(backend);
    vi.spyOn(backend, 'read').mockImplementationOnce(async (name, options) => {
      const snapshot = await read(name, options);
      await gate; // the engine answered; the answer is still on its way back
      return snapshot;
    });
    const reading = jobs.read('chris-jid-9');
    await jobs.remove('chris-jid-9');
    release();
    expect((await reading).info.status).toBe('finishedSuccessfully');
    expect(records.has('chris-jid-9')).toBe(false);
  });
});
