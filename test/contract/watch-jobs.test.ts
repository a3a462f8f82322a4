// watchJobs (issue 11) on the swarm engine fake and the memory backend: every status change once,
// a terminal snapshot once with its exitCode and log, nothing after our own delete.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, JobRead } from '../../src/backends/backend.js';
import { MemoryBackend } from '../../src/backends/memory.js';
import { TERMINAL_STATUSES, type JobSpec } from '../../src/domain/job.js';
import { startEngineFake, type EngineFake } from '../fakes/engine-api.js';
import { until } from './backend.contract.js';
import { FAKE_IMAGE, openOnFake } from './engine-rig.js';

function spec(name: string): JobSpec {
  return {
    name,
    image: FAKE_IMAGE,
    command: ['/bin/sh', '-c', 'exit 3'],
    env: {},
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 64, gpus: 0 },
    mounts: [],
    labels: {},
  };
}

const LIMITS = { tail: 100, maxBytes: 10_000 };
const terminalOf = (seen: JobRead[]): JobRead[] =>
  seen.filter((x) => TERMINAL_STATUSES.has(x.info.status));

describe('swarm backend: watchJobs on the fake engine', () => {
  let fake: EngineFake;
  let backend: Backend;
  afterEach(async () => {
    await backend.close();
    await fake.close();
  });

  it('exit 3 → one terminal snapshot with exitCode 3 and the log, also when the service goes right after', async () => {
    fake = await startEngineFake();
    fake.images.add(FAKE_IMAGE);
    backend = await openOnFake('swarm', fake);
    const seen: JobRead[] = [];
    backend.watchJobs?.(LIMITS, (x) => seen.push(x));
    await backend.create(spec('s1'));
    expect(seen.map((x) => x.info.status)).toEqual(['notstarted']);
    fake.finish('s1', { exitCode: 3, logs: 'bye\n' });
    await until(
      'the terminal snapshot',
      () => Promise.resolve(terminalOf(seen).length),
      (n) => n > 0,
      5000,
    );
    fake.services.delete('s1');
    const [done] = terminalOf(seen);
    expect(done?.info).toMatchObject({ name: 's1', status: 'finishedWithError', exitCode: 3 });
    // Swarm jobs run with a TTY: lines end with \r\n.
    expect(done?.logs).toBe('bye\r\n');
    expect(seen.slice(0, -1).every((x) => x.logs === '')).toBe(true);
  });
});

describe('memory backend: watchJobs', () => {
  it('start, then exit 3 → started without logs, then one terminal snapshot with exitCode and log', async () => {
    const backend = new MemoryBackend();
    const seen: JobRead[] = [];
    backend.watchJobs(LIMITS, (x) => seen.push(x));
    await backend.create(spec('m1'));
    backend.start('m1', 'hello\n');
    backend.finish('m1', 3, 'hello\nbye\n');
    backend.oom('m1');
    await until(
      'the terminal snapshot',
      () => Promise.resolve(terminalOf(seen).length),
      (n) => n > 0,
      1000,
    );
    expect(seen.map((x) => [x.info.status, x.logs])).toEqual([
      ['started', ''],
      ['finishedWithError', 'hello\nbye\n'],
    ]);
    expect(seen[1]?.info.exitCode).toBe(3);
  });
});
