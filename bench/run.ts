// `npm run bench`: starts the real server on each backend and drives create / status / delete at
// c = 1, 10, 50, next to the same calls made directly with dockerode; RSS idle and with 10 000
// jobs and submits/s on the in-process fake (memory) backend; the status GET of a finished job
// against a bare node:http ceiling; the job store (history, RSS, durable submits); where a Swarm
// create spends its time. Every ratio is against a baseline measured in the same run.
// Writes results/<name>.json and .md.
// The event stream (issue 12): 500 SSE clients' latency, replay, RSS per client, against polling.
// Flags: --backends memory,docker,swarm   --scenarios ops,finished,store,swarm-profile,events
//        --name latest   --seconds 3 (per timed run)   --history-runs 100000
//        --tree <dir> (measure another checkout's server, e.g. a `git archive` of a baseline)
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { dockerOps, removeLabelled, specOf, swarmOps } from './engine.js';
import { benchFinished } from './finished.js';
import { toServiceSpec } from '../src/backends/swarm/manifest.js';
import { benchEvents } from './events.js';
import { benchStore } from './store.js';
import { profileSwarmCreate } from './swarm-profile.js';
import type { DirectOps, JobShape } from './engine.js';
import { drive, httpClient } from './load.js';
import type { Summary } from './load.js';
import { toMarkdown } from './report.js';
import type { BenchResult, OpResult } from './report.js';
import { ROOT, prepareEntry, startServer } from './server.js';
import type { Entry, RunningServer } from './server.js';

const IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';
const COMMAND = ['/bin/sh', '-c', 'echo bench job; exec sleep 600'];
const CONCURRENCIES = [1, 10, 50] as const;
/** Engine jobs created per concurrency (each side): enough for stable percentiles, few enough for 2 cores. */
const CREATES: Record<(typeof CONCURRENCIES)[number], number> = { 1: 10, 10: 30, 50: 50 };
const FAKE_JOBS = 10_000;
const RUNNING_WAIT_MS = 120_000;
/** Run notes collected along the way (jobs that never started, skipped backends). */
const notes: string[] = [];

type BackendKind = 'memory' | 'docker' | 'swarm';
type Scenario = 'ops' | 'finished' | 'store' | 'swarm-profile' | 'events';
const SCENARIOS: readonly Scenario[] = ['ops', 'finished', 'store', 'swarm-profile', 'events'];

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const run = `bench-${randomBytes(3).toString('hex')}`;
const runLabel = `pman-bench=${run}`;
const backends = flag('backends', 'memory,docker,swarm').split(',') as BackendKind[];
const resultName = flag('name', 'latest');
const statusMs = Number(flag('seconds', '3')) * 1000;
const scenarios = flag('scenarios', SCENARIOS.join(',')).split(',') as Scenario[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}"`);
const historyRuns = Number(flag('history-runs', '100000'));
const tree = path.resolve(flag('tree', ROOT));
/** A fresh STATE_DIR per server: the store is on by default and must never land in the checkout. */
let stateDirs = 0;

function body(jid: string): Record<string, unknown> {
  return {
    jid,
    args: [],
    auid: 'bench',
    number_of_workers: 1,
    cpu_limit: 100,
    memory_limit: 50,
    gpu_limit: 0,
    image: IMAGE,
    entrypoint: COMMAND,
    type: 'fs',
    env: [],
    input_dir: 'bench/in',
    output_dir: 'bench/out',
  };
}

async function serverOps(
  server: RunningServer,
  backend: BackendKind,
  c: number,
  names: string[],
): Promise<{ create: Summary; status: Summary; delete: Summary }> {
  const client = httpClient(server.url, c);
  try {
    const create = await drive(c, names.length, async (i) => {
      const res = await client.request('POST', '/api/v1/', body(names[i] ?? ''));
      return res.status === 201;
    });
    // CUBE polls jobs that run: measure status once they left notstarted (swarm tasks take a moment).
    if (backend !== 'memory') await untilRunning(client, names);
    const status = await drive(
      c,
      names.length,
      async (i) => (await client.request('GET', `/api/v1/${names[i]}/`)).status === 200,
      statusMs,
    );
    const del = await drive(c, names.length, async (i) => {
      const res = await client.request('DELETE', `/api/v1/${names[i]}/`);
      return res.status === 204 || res.status === 200;
    });
    return { create, status, delete: del };
  } finally {
    client.close();
  }
}

/** Bounded wait until no job answers notstarted; a job still waiting is reported, not fatal. */
async function untilRunning(client: ReturnType<typeof httpClient>, names: string[]): Promise<void> {
  const deadline = Date.now() + RUNNING_WAIT_MS;
  let waiting = names;
  while (waiting.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    for (const name of waiting) {
      const res = await client.request('GET', `/api/v1/${name}/`);
      if (res.status !== 200 || res.body.includes('"notstarted"')) still.push(name);
    }
    waiting = still;
    if (waiting.length > 0) await delay(500);
  }
  if (waiting.length > 0)
    notes.push(
      `${waiting.length} job(s) still notstarted after ${RUNNING_WAIT_MS / 1000} s: ${waiting[0]}`,
    );
}

async function directOps(
  ops: DirectOps,
  c: number,
  names: string[],
): Promise<{ create: Summary; status: Summary; delete: Summary }> {
  const ok = (p: Promise<void>): Promise<boolean> => p.then(() => true);
  const create = await drive(c, names.length, (i) => ok(ops.create(names[i] ?? '')));
  const status = await drive(c, names.length, (i) => ok(ops.status(names[i] ?? '')), statusMs);
  const del = await drive(c, names.length, (i) => ok(ops.delete(names[i] ?? '')));
  return { create, status, delete: del };
}

async function benchEngine(
  kind: 'docker' | 'swarm',
  entry: Entry,
  docker: Docker,
  storeBase: string,
  result: BenchResult,
): Promise<void> {
  const server = await startServer(entry, env(kind, storeBase));
  try {
    result.rss.push({ backend: kind, idleMiB: await server.rssMiB() });
    const shape = shapeOf(storeBase);
    const ops = kind === 'docker' ? dockerOps(docker, shape) : swarmOps(docker, shape);
    for (const c of CONCURRENCIES) {
      const n = CREATES[c];
      const ours = Array.from({ length: n }, (_, i) => `${run}-${kind.slice(0, 2)}-c${c}-${i}`);
      const direct = ours.map((name) => `${name}-d`);
      process.stderr.write(`${kind} c=${c}: server…`);
      const s = await serverOps(server, kind, c, ours);
      process.stderr.write(' direct…');
      const d = await directOps(ops, c, direct);
      process.stderr.write(
        ` done (status ${s.status.throughput} req/s vs ${d.status.throughput})\n`,
      );
      for (const op of ['create', 'status', 'delete'] as const) {
        result.ops.push({ backend: kind, op, concurrency: c, server: s[op], direct: d[op] });
      }
    }
  } finally {
    await server.stop();
  }
}

function shapeOf(storeBase: string): JobShape {
  return { image: IMAGE, command: COMMAND, storeBase, labels: { 'pman-bench': run } };
}

async function benchFake(entry: Entry, storeBase: string, result: BenchResult): Promise<void> {
  const server = await startServer(entry, env('memory', storeBase));
  try {
    const idle = await server.rssMiB();
    for (const c of CONCURRENCIES) {
      const names = Array.from({ length: 500 }, (_, i) => `${run}-m-c${c}-${i}`);
      const s = await serverOps(server, 'memory', c, names);
      for (const op of ['create', 'status', 'delete'] as const) {
        result.ops.push({
          backend: 'memory',
          op,
          concurrency: c,
          server: s[op],
        } satisfies OpResult);
      }
    }
    const client = httpClient(server.url, 50);
    try {
      const names = Array.from({ length: FAKE_JOBS }, (_, i) => `${run}-scale-${i}`);
      const summary = await drive(50, names.length, async (i) => {
        return (await client.request('POST', '/api/v1/', body(names[i] ?? ''))).status === 201;
      });
      result.fake = { submits: FAKE_JOBS, concurrency: 50, summary };
      // Every job read once, so whatever per-job state a GET builds is there too.
      await drive(
        10,
        names.length,
        async (i) => (await client.request('GET', `/api/v1/${names[i]}/`)).status === 200,
      );
      result.rss.push({
        backend: 'memory',
        idleMiB: idle,
        withJobsMiB: await server.rssMiB(),
        jobs: FAKE_JOBS,
      });
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
}

function env(kind: BackendKind, storeBase: string): Record<string, string> {
  return {
    STATE_DIR: path.join(storeBase, `state-${++stateDirs}`),
    CONTAINER_ENV: kind,
    STORAGE_TYPE: 'host',
    STOREBASE: storeBase,
    JOB_LABELS: runLabel,
    IMAGE_PULL_WAIT_SECONDS: '10',
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const storeBase = await mkdtemp(path.join(os.tmpdir(), `${run}-`));
  await mkdir(path.join(storeBase, 'bench/in'), { recursive: true });
  await mkdir(path.join(storeBase, 'bench/out'), { recursive: true });
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const version = await docker.version().catch(() => undefined);
  const cpus = os.cpus();
  const result: BenchResult = {
    when: new Date().toISOString(),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      ...(version !== undefined && { engine: `${version.Version} (API ${version.ApiVersion})` }),
    },
    serverEntry: 'tsx',
    ops: [],
    rss: [],
    notes: [
      'status = GET /api/v1/<jid>/ (status and log tail) on running jobs; direct status = container inspect (docker) or service inspect + task list (swarm).',
      'RSS with jobs: the memory backend holding every job in the server process.',
    ],
  };
  const cleanup = async (): Promise<void> => {
    if (version !== undefined) await removeLabelled(docker, runLabel).catch(() => 0);
    await rm(storeBase, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    void cleanup().finally(() => process.exit(130));
  });
  try {
    process.stderr.write(`building the server${tree === ROOT ? '' : ` of ${tree}`}…\n`);
    const entry = await prepareEntry(tree);
    result.serverEntry = entry.kind;
    if (tree !== ROOT) result.notes.push(`server measured: the tree at ${tree}`);
    const engineKinds = backends.filter((k): k is 'docker' | 'swarm' => k !== 'memory');
    if (version === undefined && engineKinds.length > 0)
      result.notes.push(`${engineKinds.join(', ')}: skipped, no engine at /var/run/docker.sock`);
    const engines = version === undefined ? [] : engineKinds;
    if (scenarios.includes('ops')) {
      for (const kind of backends) {
        if (kind === 'memory') await benchFake(entry, storeBase, result);
        else if (engines.includes(kind)) await benchEngine(kind, entry, docker, storeBase, result);
      }
    }
    if (scenarios.includes('finished')) {
      // The memory backend's jobs never end by themselves: the finished GET needs an engine.
      for (const kind of engines) {
        process.stderr.write(`${kind}: status GET of a finished job vs the node:http ceiling…\n`);
        const server = await startServer(entry, env(kind, storeBase));
        try {
          const jid = `${run}-${kind.slice(0, 2)}-fin`;
          const finished = await benchFinished({
            server,
            backend: kind,
            jid,
            body: { ...body(jid), entrypoint: ['/bin/sh', '-c', 'echo finished bench job'] },
            concurrency: 10,
            durationMs: statusMs,
          });
          (result.finished ??= []).push(finished);
        } finally {
          await server.stop();
        }
      }
    }
    if (scenarios.includes('store') && backends.includes('memory')) {
      process.stderr.write(`memory + store: ${historyRuns} runs of history, submits, pages…\n`);
      const stateDir = await mkdtemp(path.join(os.tmpdir(), `${run}-state-`));
      try {
        result.store = await benchStore({
          entry,
          tree,
          env: env('memory', storeBase),
          stateDir,
          historyRuns,
          submits: FAKE_JOBS,
          prefix: `${run}-st`,
          body,
          spec: (jid) => specOf(jid, shapeOf(storeBase)),
          durationMs: statusMs,
        });
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    }
    if (scenarios.includes('events') && backends.includes('memory')) {
      process.stderr.write('memory + store: 500 SSE clients, replay, RSS per client, polling…\n');
      const stateDir = await mkdtemp(path.join(os.tmpdir(), `${run}-events-`));
      try {
        result.events = await benchEvents({
          entry,
          tree,
          env: env('memory', storeBase),
          stateDir,
          prefix: `${run}-ev`,
          body,
          spec: (jid) => specOf(jid, shapeOf(storeBase)),
        });
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    }
    if (scenarios.includes('swarm-profile') && engines.includes('swarm')) {
      process.stderr.write('swarm: profiling 50 creates at c=50 through a recording proxy…\n');
      const shape = shapeOf(storeBase);
      result.swarmProfile = await profileSwarmCreate({
        entry,
        env: env('swarm', storeBase),
        concurrency: 50,
        names: Array.from({ length: 50 }, (_, i) => `${run}-sp-${i}`),
        warmup: Array.from({ length: 10 }, (_, i) => `${run}-sp-w${i}`),
        body,
        directCreate: async (client, name) => {
          const spec = toServiceSpec(specOf(name, shape), {});
          await client.createService(spec as unknown as Docker.CreateServiceOptions);
        },
        cleanup: async () => {
          await removeLabelled(docker, runLabel);
        },
      });
    }
  } finally {
    await cleanup();
  }
  result.notes.push(...notes);
  result.notes.push(`bench took ${Math.round((Date.now() - started) / 1000)} s`);
  const dir = path.join(ROOT, 'bench/results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${resultName}.json`), JSON.stringify(result, null, 2) + '\n');
  const md = toMarkdown(result);
  await writeFile(path.join(dir, `${resultName}.md`), md);
  process.stdout.write(md);
}

await main();
