// Issue 13 on the real Docker engine, through the real server process: the fair queue (MAX_RUNNING
// never exceeded as `docker ps` sees it; start order by priority, FIFO, round-robin across auids),
// the queue surviving a server SIGKILL (every queued job runs exactly once after the restart), and
// opt-in retries (a script failing twice then succeeding; an exit code outside on_exit_codes).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireEngine } from './engine-available.js';
import { startServer, type ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const engineUp = await requireEngine();
const run = promisify(execFile);
const TERMINAL = new Set(['finishedSuccessfully', 'finishedWithError']);
/** Jobs that wait for the test's go-ahead (a file in their incoming folder), then sleep 1. */
const GATED = 'while [ ! -e /share/incoming/go ]; do sleep 0.1; done; sleep 1';

interface JobJson {
  status: string;
  message: string;
}

describe.skipIf(!engineUp)('the fair queue and retries on the Docker engine', () => {
  const tag = `q-${randomBytes(3).toString('hex')}`;
  let storeBase: string;
  let stateDir: string;
  const jids: string[] = [];
  let server: ServerProcess | undefined;

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      STATE_DIR: stateDir,
      CONTAINER_ENV: 'docker',
      STORAGE_TYPE: 'host',
      STOREBASE: storeBase,
      JOB_LABELS: `pman-queue=${tag}`,
      ...extra,
    };
  }

  async function submit(
    s: ServerProcess,
    id: string,
    script: string,
    extra: Record<string, unknown> = {},
  ): Promise<JobJson> {
    await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
    jids.push(id);
    const res = await fetch(`${s.url}/api/v1/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(shellJobBody(id, script, extra)),
    });
    const body = (await res.json()) as JobJson;
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body;
  }

  async function go(ids: readonly string[]): Promise<void> {
    for (const id of ids) await writeFile(path.join(storeBase, `key-${id}`, 'incoming', 'go'), '');
  }

  async function job(s: ServerProcess, id: string): Promise<JobJson> {
    return (await (await fetch(`${s.url}/api/v1/${id}/`)).json()) as JobJson;
  }

  /** Our running containers, as `docker ps` lists them. */
  async function running(): Promise<number> {
    const { stdout } = await run('docker', ['ps', '-q', '--filter', `label=pman-queue=${tag}`]);
    return stdout.split('\n').filter((line) => line.trim() !== '').length;
  }

  /** Waits (bounded) until every job is terminal; samples `docker ps` every 100 ms meanwhile. */
  async function drain(s: ServerProcess, ids: readonly string[], ms: number): Promise<number> {
    let most = 0;
    const deadline = Date.now() + ms;
    for (;;) {
      most = Math.max(most, await running());
      const states = await Promise.all(ids.map(async (id) => (await job(s, id)).status));
      if (states.every((status) => TERMINAL.has(status))) return most;
      if (Date.now() > deadline) throw new Error(`not all ended: ${states.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** When each job's container started (nanosecond text compares in time order). */
  function startedAt(id: string): string {
    return execFileSync('docker', ['inspect', '-f', '{{.State.StartedAt}}', id]).toString().trim();
  }

  beforeAll(async () => {
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-queue-'));
  });

  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
    for (const id of jids.splice(0)) {
      try {
        execFileSync('docker', ['container', 'rm', '-f', id], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    await rm(storeBase, { recursive: true, force: true });
  });

  it('MAX_RUNNING=2, ten jobs: never more than 2 running; starts by priority, FIFO, round-robin across auids', async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'pman-queue-state-'));
    server = await startServer(env({ MAX_RUNNING: '2' }));
    const s = server;
    const id = (name: string) => `${tag}-${name}`;
    // a1, a2 hold both slots until the go-ahead; the other eight queue behind them.
    const plan: Array<[string, string, number]> = [
      ['a1', 'alice', 0],
      ['a2', 'alice', 0],
      ['a3', 'alice', 0],
      ['a4', 'alice', 0],
      ['a5', 'alice', 0],
      ['b1', 'bob', 0],
      ['b2', 'bob', 0],
      ['b3', 'bob', 0],
      ['b4', 'bob', 0],
      ['b5', 'bob', 1],
    ];
    const answers: JobJson[] = [];
    for (const [name, auid, priority] of plan)
      answers.push(await submit(s, id(name), GATED, { auid, priority }));
    expect(answers.slice(2).every((a) => a.message.startsWith('queued (position'))).toBe(true);
    // bob's priority-1 job first; then the auids take turns (alice was served last before it),
    // each auid's jobs in the order they came.
    const expected = ['a1', 'a2', 'b5', 'a3', 'b1', 'a4', 'b2', 'a5', 'b3', 'b4'].map(id);
    const listed = (await (await fetch(`${s.url}/api/v1/queue/`)).json()) as {
      queue: Array<{ jid: string; position: number }>;
      running: number;
    };
    expect(listed.running).toBe(2);
    const answered = answers.map((a) => a.message).join(' | ');
    expect(
      listed.queue.map((q) => q.jid),
      `${answered}\n${s.output().slice(-4000)}`,
    ).toEqual(expected.slice(2));
    expect(listed.queue.map((q) => q.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await job(s, id('b4'))).message).toBe('queued (position 8)');

    await go(plan.map(([name]) => id(name)));
    const most = await drain(s, expected, 90_000);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    for (const jid of expected) expect((await job(s, jid)).status).toBe('finishedSuccessfully');
    // Two jobs admitted by one pick may start in either order; a job two places later starts
    // only after a slot freed, so after both.
    const starts = expected.map(startedAt);
    for (let p = 0; p < starts.length; p++)
      for (let q = p + 2; q < starts.length; q++)
        expect(starts[p]! < starts[q]!, `${expected[p]} before ${expected[q]}`).toBe(true);
  });

  it('SIGKILL with 5 jobs queued, restart: all 10 run, each exactly once', async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'pman-queue-state-'));
    const since = Math.floor(Date.now() / 1000) - 1;
    const first = await startServer(env({ MAX_RUNNING: '5' }));
    server = first;
    const ids = Array.from({ length: 10 }, (_, i) => `${tag}-k${i}`);
    for (const jid of ids) await submit(first, jid, GATED, { auid: `u${ids.indexOf(jid) % 2}` });
    const listed = (await (await fetch(`${first.url}/api/v1/queue/`)).json()) as {
      queue: unknown[];
    };
    expect(listed.queue).toHaveLength(5);
    await first.stop('SIGKILL');
    await go(ids);
    const second = await startServer(env({ MAX_RUNNING: '5' }));
    server = second;
    const most = await drain(second, ids, 90_000);
    expect(most).toBeLessThanOrEqual(5);
    for (const jid of ids) {
      const end = await job(second, jid);
      const runs = await (await fetch(`${second.url}/api/v1/history/${jid}/`)).text();
      expect(end.status, `${JSON.stringify(end)}\n${runs}\n${second.output()}`).toBe(
        'finishedSuccessfully',
      );
      const history = (await (await fetch(`${second.url}/api/v1/history/${jid}/`)).json()) as {
        runs: unknown[];
      };
      expect(history.runs).toHaveLength(1);
    }
    // Every container the engine created for these jobs, since the test began: one per jid.
    const { stdout } = await run('docker', [
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.ceil(Date.now() / 1000)),
      '--filter',
      'event=create',
      '--filter',
      `label=pman-queue=${tag}`,
      '--format',
      '{{.Actor.Attributes.name}}',
    ]);
    const created = stdout.split('\n').filter((name) => ids.includes(name.trim()));
    expect(created.sort()).toEqual([...ids].sort());
  });

  it('retries {limit: 2}: a script failing twice then succeeding ends finishedSuccessfully with three attempts; an exit code outside on_exit_codes is not retried', async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'pman-queue-state-'));
    server = await startServer(env());
    const s = server;
    const flaky = `${tag}-flaky`;
    const other = `${tag}-other`;
    // Counts its attempts in its output folder, which the attempts share.
    const script =
      'n=$(cat /share/outgoing/count 2>/dev/null || echo 0); n=$((n+1)); ' +
      'echo $n > /share/outgoing/count; echo "attempt $n"; [ "$n" -ge 3 ]';
    await submit(s, flaky, script, { retries: { limit: 2, backoff_seconds: 1 } });
    await submit(s, other, 'echo nope; exit 3', {
      retries: { limit: 2, backoff_seconds: 1, on_exit_codes: [1, 2] },
    });
    await drain(s, [flaky, other], 90_000);
    const done = await job(s, flaky);
    const seen = await (await fetch(`${s.url}/api/v1/history/${flaky}/`)).text();
    expect(done.status, `${JSON.stringify(done)}\n${seen}`).toBe('finishedSuccessfully');
    expect(done.message).toMatch(/attempt 3 of 3/);
    const history = (await (await fetch(`${s.url}/api/v1/history/${flaky}/`)).json()) as {
      runs: Array<{ attempts: Array<{ attempt: number; status: string; exit_code: number }> }>;
    };
    expect(history.runs).toHaveLength(1);
    expect(history.runs[0]?.attempts.map((a) => [a.attempt, a.status, a.exit_code])).toEqual([
      [1, 'finishedWithError', 1],
      [2, 'finishedWithError', 1],
      [3, 'finishedSuccessfully', 0],
    ]);
    for (const n of [1, 2, 3]) {
      const log = await fetch(`${s.url}/api/v1/history/${flaky}/1/attempts/${n}/logs/`);
      expect(await log.text()).toContain(`attempt ${n}`);
    }
    const refused = await job(s, other);
    expect(refused.status).toBe('finishedWithError');
    const its = (await (await fetch(`${s.url}/api/v1/history/${other}/`)).json()) as {
      runs: Array<{ attempts: unknown[] }>;
    };
    expect(its.runs[0]?.attempts).toHaveLength(1);
  });
});
