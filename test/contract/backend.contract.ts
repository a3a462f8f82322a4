// The conformance suite: the executable specification of a Backend (architecture.md §10).
// Every backend runs it: memory in-process, Kubernetes/OpenShift against the fake API, Docker and
// Swarm against an engine fake and the real engine. Fakes are *told* the outcome; real backends
// are *waited on*. No case may pass by construction: what a fake was told is never the evidence.
import { statusOf, logsOf } from '../fixtures.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import {
  INCOMING,
  OUTGOING,
  TERMINAL_STATUSES,
  type JobSpec,
  type Mount,
} from '../../src/domain/job.js';

export type Outcome = { exitCode: number; logs?: string } | 'oom';

export interface Harness {
  backend: Backend;
  /** An image with /bin/sh (busybox) that the backend can run. */
  image: string;
  /** Mounts for a new job; real engines create fresh dirs under a temporary storeBase. */
  mounts(name: string): Promise<Mount[]>;
  /**
   * Fakes: force the outcome now. Real engines: wait (bounded) until the job is terminal.
   * A fake hands `logs` to the backend the way its engine would deliver them — for the
   * unicode-logs case that means split inside a character across chunks, so the case checks the
   * backend's decoding rather than an echo; a fake that cannot must skip unicode-logs and say why.
   */
  finish(name: string, outcome: Outcome): Promise<void>;
  /**
   * Fakes: what the backend asked the engine or API to run for this job, as the fake received it
   * (a fake cannot run a command, so env and mount cases check this instead of logs the harness
   * itself handed to the fake). Real engines omit it: their jobs really run.
   */
  recorded?(name: string): Promise<RecordedJob>;
  /** Real engines: read a file the job wrote to its output dir. Omitted where not observable. */
  readOutput?(name: string, file: string): Promise<string>;
  /**
   * The `stop` case (issue 13). Fakes: the job runs now, having printed `logs`. Real engines omit
   * it: the suite waits until the job runs and its log shows `logs`.
   */
  running?(name: string, logs: string): Promise<void>;
  /** Fakes: let the engine or API carry out a stop the backend asked for. Real engines omit it:
   *  the suite waits until the job is terminal. */
  stopped?(name: string): Promise<void>;
  /** Remove everything this harness created, even after failures. */
  cleanup(): Promise<void>;
}

/** A job as the fake engine or API received it, in backend-neutral terms. */
export interface RecordedJob {
  command: string[];
  env: Record<string, string>;
  mounts: Array<{ target: string; readOnly: boolean; subPath: string }>;
}

export type CaseName =
  | 'create'
  | 'conflict'
  | 'unknown'
  | 'delete'
  | 'list'
  | 'success'
  | 'failure'
  | 'oom'
  | 'logs-bounded'
  | 'env'
  | 'unicode-logs'
  | 'mounts'
  | 'stop';

export interface SuiteOptions {
  /** Cases this backend cannot run, each with the reason (printed as the skip message). */
  skip?: Partial<Record<CaseName, string>>;
}

/** Unique, valid on every backend's name rule: lower-case letters, digits, '-'. */
export function runPrefix(tag: string): string {
  return `ct-${tag}-${randomBytes(3).toString('hex')}`;
}

export function describeBackend(
  title: string,
  setup: () => Promise<Harness>,
  opts: SuiteOptions = {},
): void {
  describe(`conformance: ${title}`, () => {
    let h: Harness;
    const prefix = runPrefix(
      title
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')
        .slice(0, 8),
    );
    let counter = 0;
    const nextName = (): string => `${prefix}-${++counter}`;

    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    async function spec(
      name: string,
      script: string,
      extra: Partial<JobSpec> = {},
    ): Promise<JobSpec> {
      return {
        name,
        image: h.image,
        command: ['/bin/sh', '-c', script],
        env: {},
        resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
        mounts: await h.mounts(name),
        // The backend adds its own managed-by label; list() must find the job by it.
        labels: { 'pman-conformance': prefix },
        ...extra,
      };
    }

    /** The spec's mount at `target`, which every harness provides. */
    function mountAt(s: JobSpec, target: Mount['containerPath']): Mount {
      const mount = s.mounts.find((m) => m.containerPath === target);
      if (mount === undefined) throw new Error(`the harness gave no mount at ${target}`);
      return mount;
    }

    const test = (name: CaseName, label: string, fn: () => Promise<void>): void => {
      const reason = opts.skip?.[name];
      if (reason !== undefined) it.skip(`${label} (skipped: ${reason})`, fn);
      else it(label, fn);
    };

    test(
      'create',
      'create answers notstarted and get shows the same name, image and command',
      async () => {
        const name = nextName();
        const s = await spec(name, 'sleep 2; echo done');
        const created = await h.backend.create(s);
        expect(created).toMatchObject({ name, image: s.image, status: 'notstarted' });
        expect(created.command).toEqual(s.command);
        expect(created.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        const got = await statusOf(h.backend, name);
        expect(got).toMatchObject({ name, image: s.image });
        expect(got.command).toEqual(s.command);
        expect(['notstarted', 'started', 'finishedSuccessfully']).toContain(got.status);
        if (h.recorded !== undefined) {
          // What the engine was asked to run, not what the backend says it asked.
          expect((await h.recorded(name)).command).toEqual(s.command);
        }
        await h.backend.delete(name);
      },
    );

    test(
      'conflict',
      'creating a name twice is a ConflictError and leaves the first job alone',
      async () => {
        const name = nextName();
        await h.backend.create(await spec(name, 'sleep 5'));
        await expect(h.backend.create(await spec(name, 'exit 7'))).rejects.toBeInstanceOf(
          ConflictError,
        );
        const got = await statusOf(h.backend, name);
        expect(got.command).toEqual(['/bin/sh', '-c', 'sleep 5']);
        await h.backend.delete(name);
      },
    );

    test('unknown', 'get, logs and delete of an unknown name are NotFoundError', async () => {
      const name = `${prefix}-never`;
      await expect(statusOf(h.backend, name)).rejects.toBeInstanceOf(NotFoundError);
      await expect(logsOf(h.backend, name, { tail: 10, maxBytes: 1000 })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(h.backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    });

    test('delete', 'delete removes the job: get and delete then answer NotFoundError', async () => {
      const name = nextName();
      await h.backend.create(await spec(name, 'sleep 30'));
      await h.backend.delete(name);
      await expect(statusOf(h.backend, name)).rejects.toBeInstanceOf(NotFoundError);
      await expect(h.backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    });

    test('list', 'list contains our jobs', async () => {
      const name = nextName();
      await h.backend.create(await spec(name, 'sleep 5'));
      const names = (await h.backend.list()).map((j) => j.name);
      expect(names).toContain(name);
      await h.backend.delete(name);
      expect((await h.backend.list()).map((j) => j.name)).not.toContain(name);
    });

    test('success', 'exit 0 → finishedSuccessfully, and the status stays final', async () => {
      const name = nextName();
      await h.backend.create(await spec(name, 'echo ok'));
      await h.finish(name, { exitCode: 0, logs: 'ok\n' });
      const got = await statusOf(h.backend, name);
      expect(got.status).toBe('finishedSuccessfully');
      expect(TERMINAL_STATUSES.has((await statusOf(h.backend, name)).status)).toBe(true);
      expect(await logsOf(h.backend, name, { tail: 100, maxBytes: 10_000 })).toContain('ok');
      await h.backend.delete(name);
    });

    test('failure', 'exit ≠ 0 → finishedWithError with the exit code in the message', async () => {
      const name = nextName();
      await h.backend.create(await spec(name, 'echo failing; exit 3'));
      await h.finish(name, { exitCode: 3, logs: 'failing\n' });
      const got = await statusOf(h.backend, name);
      expect(got.status).toBe('finishedWithError');
      expect(got.message).toMatch(/3/);
      await h.backend.delete(name);
    });

    test('oom', 'a job beyond its memory limit → finishedWithError mentioning OOM', async () => {
      const name = nextName();
      const s = await spec(name, 'head -c 512m /dev/zero | tail', {
        resources: { workers: 1, cpuMillicores: 500, memoryMiB: 16, gpus: 0 },
      });
      await h.backend.create(s);
      await h.finish(name, 'oom');
      const got = await statusOf(h.backend, name);
      expect(got.status).toBe('finishedWithError');
      expect(got.message).toMatch(/OOM|out of memory|137/i);
      await h.backend.delete(name);
    });

    test(
      'logs-bounded',
      'logs hold what the job printed, bounded by tail and maxBytes',
      async () => {
        const name = nextName();
        const lines = Array.from({ length: 50 }, (_, i) => `line-${i + 1}`);
        await h.backend.create(
          await spec(name, 'i=1; while [ $i -le 50 ]; do echo line-$i; i=$((i+1)); done'),
        );
        await h.finish(name, { exitCode: 0, logs: lines.map((l) => `${l}\n`).join('') });
        const tail = await logsOf(h.backend, name, { tail: 3, maxBytes: 10_000 });
        expect(tail.replace(/\r/g, '')).toBe('line-48\nline-49\nline-50\n');
        const capped = await logsOf(h.backend, name, { tail: 1000, maxBytes: 20 });
        expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(20);
        expect(capped).toContain('line-50');
        await h.backend.delete(name);
      },
    );

    test('env', 'env reaches the job', async () => {
      const name = nextName();
      const s = await spec(name, 'echo "value=$PMAN_TEST_VALUE"', {
        env: { PMAN_TEST_VALUE: 'a=b c' },
      });
      await h.backend.create(s);
      if (h.recorded !== undefined) {
        // A fake runs nothing: the evidence is the environment the engine or API received.
        expect((await h.recorded(name)).env).toMatchObject({ PMAN_TEST_VALUE: 'a=b c' });
      } else {
        await h.finish(name, { exitCode: 0 });
        expect(await logsOf(h.backend, name, { tail: 10, maxBytes: 1000 })).toContain(
          'value=a=b c',
        );
      }
      await h.backend.delete(name);
    });

    test(
      'unicode-logs',
      'non-ASCII output survives the round trip, and a byte cap cuts between characters',
      async () => {
        const name = nextName();
        const text = 'héllo ✓ 😀\n';
        await h.backend.create(await spec(name, "printf 'héllo ✓ 😀\\n'"));
        await h.finish(name, { exitCode: 0, logs: text });
        const read = async (maxBytes: number): Promise<string> =>
          (await logsOf(h.backend, name, { tail: 10, maxBytes })).replace(/\r/g, '');
        expect(await read(1000)).toContain(text);
        // The line is 16 bytes; its last 7 begin inside '✓', so the cut moves to the next
        // character instead of emitting U+FFFD (api.md §10).
        expect(await read(7)).toBe(' 😀\n');
        await h.backend.delete(name);
      },
    );

    test(
      'stop',
      'stop ends a running job finishedWithError and keeps it with its log; then a no-op; unknown is NotFoundError',
      async () => {
        const stop = h.backend.stop?.bind(h.backend);
        if (stop === undefined)
          throw new Error('the backend has no stop(): implement it (issue 13)');
        const name = nextName();
        await h.backend.create(await spec(name, 'echo started; sleep 600'));
        if (h.running !== undefined) await h.running(name, 'started\n');
        else {
          await until(
            `${name} to run`,
            () => logsOf(h.backend, name, { tail: 10, maxBytes: 1000 }).catch(() => ''),
            (logs) => logs.includes('started'),
            90_000,
          );
        }
        await stop(name, 1);
        if (h.stopped !== undefined) await h.stopped(name);
        else {
          await until(
            `${name} to stop`,
            () => statusOf(h.backend, name),
            (info) => TERMINAL_STATUSES.has(info.status),
            90_000,
          );
        }
        const got = await statusOf(h.backend, name);
        expect(got.status).toBe('finishedWithError');
        // The object and what it printed stay until delete.
        expect(await logsOf(h.backend, name, { tail: 10, maxBytes: 1000 })).toContain('started');
        expect((await h.backend.list()).map((j) => j.name)).toContain(name);
        await stop(name, 1);
        expect((await statusOf(h.backend, name)).status).toBe('finishedWithError');
        await expect(stop(`${prefix}-never`, 1)).rejects.toBeInstanceOf(NotFoundError);
        await h.backend.delete(name);
        await expect(statusOf(h.backend, name)).rejects.toBeInstanceOf(NotFoundError);
      },
    );

    test('mounts', 'the output mount is writable and the input mount read-only', async () => {
      const name = nextName();
      const script =
        'echo out > /share/outgoing/result.txt && ' +
        '(touch /share/incoming/x 2>/dev/null && echo incoming-writable || echo incoming-readonly)';
      const s = await spec(name, script);
      await h.backend.create(s);
      if (h.recorded !== undefined) {
        // A fake runs nothing: the evidence is the mounts the engine or API was asked for.
        const { mounts } = await h.recorded(name);
        expect(mounts).toContainEqual({
          target: INCOMING,
          readOnly: true,
          subPath: mountAt(s, INCOMING).subPath,
        });
        expect(mounts).toContainEqual({
          target: OUTGOING,
          readOnly: false,
          subPath: mountAt(s, OUTGOING).subPath,
        });
      } else {
        await h.finish(name, { exitCode: 0 });
        expect((await statusOf(h.backend, name)).status).toBe('finishedSuccessfully');
        expect(await logsOf(h.backend, name, { tail: 10, maxBytes: 1000 })).toContain(
          'incoming-readonly',
        );
        if (h.readOutput !== undefined) {
          expect((await h.readOutput(name, 'result.txt')).trim()).toBe('out');
        }
      }
      await h.backend.delete(name);
    });
  });
}

/** Bounded polling for real backends: resolves when `pred` holds, rejects after `ms`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  pred: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  let delay = 100;
  for (;;) {
    last = await probe();
    if (pred(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
}
