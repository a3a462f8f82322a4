// Engine error translation (shared/engine-client.ts) and engine facts → capabilities (docker/ and
// swarm/capacity.ts).
import { describe, expect, it } from 'vitest';
import {
  capacityFromInfo,
  dockerCapabilities,
  parseInfo,
} from '../../src/backends/docker/capacity.js';
import { DOCKER_JOB_NAME } from '../../src/backends/docker/job-name.js';
import { capacityFromNodes } from '../../src/backends/swarm/capacity.js';
import {
  engineCall,
  engineMessage,
  toDomainError,
} from '../../src/backends/shared/engine-client.js';
import {
  BackendRefusedError,
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
} from '../../src/domain/errors.js';

/** What docker-modem rejects with when the engine answers an error status. */
function modemError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });
}

describe('toDomainError', () => {
  it('maps engine statuses to domain errors, keeping the cause', () => {
    const notFound = modemError(404, 'No such container: x');
    const mapped = toDomainError(notFound, { name: 'x' });
    expect(mapped).toBeInstanceOf(NotFoundError);
    expect(mapped.message).toBe('job "x" not found');
    expect(mapped.cause).toBe(notFound);
    expect(toDomainError(modemError(409, 'Conflict'), { name: 'x' })).toBeInstanceOf(ConflictError);
    expect(toDomainError(modemError(401, 'nope'))).toBeInstanceOf(BackendRefusedError);
    expect(toDomainError(modemError(503, 'busy'))).toBeInstanceOf(BackendUnavailableError);
    expect(toDomainError(modemError(429, 'slow down'))).toBeInstanceOf(BackendUnavailableError);
  });

  it('a 400 is the spec’s fault only on spec calls', () => {
    const err = modemError(400, 'invalid mount config');
    const spec = toDomainError(err, { specCall: true });
    expect(spec).toBeInstanceOf(InvalidSpecError);
    expect(spec.message).toBe('invalid mount config');
    expect(toDomainError(err)).toBeInstanceOf(BackendUnavailableError);
  });

  it('an engine 500 about the spec on create/start is a 400; other 500s are 503', () => {
    const gpu = modemError(500, 'could not select device driver "" with capabilities: [[gpu]]');
    expect(toDomainError(gpu, { specCall: true })).toBeInstanceOf(InvalidSpecError);
    expect(toDomainError(modemError(500, 'disk I/O error'), { specCall: true })).toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it('connection failures and timeouts are BackendUnavailableError', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), {
      code: 'ECONNREFUSED',
    });
    const mapped = toDomainError(refused);
    expect(mapped).toBeInstanceOf(BackendUnavailableError);
    expect(mapped.message).toBe('docker engine unreachable: ECONNREFUSED');
    expect(toDomainError(new DOMException('aborted', 'AbortError'))).toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it('passes domain errors through unchanged', () => {
    const err = new ConflictError('job "x" already exists');
    expect(toDomainError(err)).toBe(err);
  });

  it('engineMessage prefers the engine’s JSON message over docker-modem’s text', () => {
    expect(engineMessage(modemError(500, 'the real reason'))).toBe('the real reason');
    expect(engineMessage(new Error('plain'))).toBe('plain');
  });
});

describe('engineCall', () => {
  it('times out a call that never answers with BackendUnavailableError', async () => {
    const never = new Promise<never>(() => undefined);
    await expect(engineCall(20, {}, () => never)).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('hands the call an abort signal and translates its failure', async () => {
    let seen: AbortSignal | undefined;
    const result = await engineCall(1000, {}, (signal) => {
      seen = signal;
      return Promise.resolve(42);
    });
    expect(result).toBe(42);
    expect(seen).toBeInstanceOf(AbortSignal);
    await expect(
      engineCall(1000, { name: 'j' }, () => Promise.reject(modemError(404, 'gone'))),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('capabilities from engine facts', () => {
  it('host capacity from /info: NCPU × 1000 millicores, MemTotal in whole MiB', () => {
    expect(capacityFromInfo({ NCPU: 2, MemTotal: 25_276_063_744 })).toEqual({
      cpuMillicores: 2000,
      memoryMiB: 24_105,
    });
    expect(capacityFromInfo({})).toEqual({ cpuMillicores: null, memoryMiB: null });
    expect(parseInfo(undefined)).toEqual({});
    expect(() => parseInfo({ NCPU: 'four' })).toThrow();
  });

  it('docker capabilities; IGNORE_LIMITS removes the CPU and memory bounds', () => {
    const info = { NCPU: 4, MemTotal: 8 * 2 ** 30 };
    expect(dockerCapabilities(info, { ignoreLimits: false })).toEqual({
      maxWorkers: 1,
      gpus: true,
      maxCpuMillicores: 4000,
      maxMemoryMiB: 8192,
      runAsUser: true,
      mountKinds: ['host'],
      jobName: DOCKER_JOB_NAME,
      services: { nodePort: false },
    });
    expect(dockerCapabilities(info, { ignoreLimits: true })).toMatchObject({
      maxCpuMillicores: null,
      maxMemoryMiB: null,
    });
  });

  it('the docker job-name rule is the engine’s container-name rule', () => {
    for (const ok of ['chris-jid-42', 'a1', 'A_b.c-d', '0x'])
      expect(DOCKER_JOB_NAME.pattern.test(ok)).toBe(true);
    for (const bad of ['a', '-a', '_a', 'Bad Name!', 'a/b', '', 'é1']) {
      expect(DOCKER_JOB_NAME.pattern.test(bad)).toBe(false);
    }
    expect(DOCKER_JOB_NAME.maxLength).toBe(63);
  });

  it('swarm: the biggest ready, active node in each dimension', () => {
    const node = (state: string, cpus: number, gib: number, availability = 'active') => ({
      Status: { State: state },
      Spec: { Availability: availability },
      Description: { Resources: { NanoCPUs: cpus * 1e9, MemoryBytes: gib * 2 ** 30 } },
    });
    expect(
      capacityFromNodes([
        node('ready', 2, 16),
        node('ready', 8, 4),
        node('down', 64, 512),
        node('ready', 32, 256, 'drain'),
      ]),
    ).toEqual({ maxCpuMillicores: 8000, maxMemoryMiB: 16_384 });
    expect(capacityFromNodes([])).toEqual({ maxCpuMillicores: null, maxMemoryMiB: null });
  });
});
