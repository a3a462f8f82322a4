// The event stream under load (issue 12), on the memory backend with the store on: RSS per idle
// SSE client (500 connected minus none); engine event → client latency with 500 clients while
// jobs are submitted at a steady rate; replay of ~100 000 stored events (seeded through the Ledger
// API) to one client; and the same jobs followed by polling GET /api/v1/<jid>/ every 5 s.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuMs } from './cpu.js';
import { httpClient, percentile } from './load.js';
import { startServer } from './server.js';
import type { Entry, RunningServer } from './server.js';
import { connectSse } from './sse-client.js';
import type { SseClient } from './sse-client.js';
import type { JobSpec } from '../src/domain/job.js';

export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export interface EventsResult {
  clients: number;
  /** Jobs submitted during the latency window, and at what rate. */
  jobs: number;
  perSecond: number;
  /** POST sent (bench clock) → the job's first status event read by each client. */
  fromPost: LatencySummary;
  /** The event's own timestamp (written by the server) → read by each client (same wall clock). */
  fromTimestamp: LatencySummary;
  /** (job, client) pairs whose event never arrived. */
  missed: number;
  replay: { events: number; seconds: number; complete: boolean };
  memory: { rssWithoutMiB: number; rssWithMiB: number; perClientKB: number };
  /** Server CPU ms over the latency window: with the clients connected, and the same load without. */
  cpu: { withClientsMs: number; withoutClientsMs: number };
  polling: {
    jobs: number;
    windowSeconds: number;
    requests: number;
    errors: number;
    serverCpuMs: number;
  };
  notes: string[];
}

/** The part of the Ledger the seeding needs (src/store/ledger.ts). */
interface SeedLedger {
  intake(input: { jid: string; spec: JobSpec; fingerprint: string }): Promise<{ runId: number }>;
  appendEvent(runId: number, status: 'started', message: string): Promise<unknown>;
  finish(
    runId: number,
    r: { status: 'finishedSuccessfully'; message: string; exitCode: number; logs: string },
  ): Promise<unknown>;
  eventBounds(): { oldest: number | undefined; last: number };
  close(): void;
}

const DEFAULT_CLIENTS = 500;
const JOBS_PER_SECOND = 20;
const WINDOW_MS = 10_000;
const POLL_EVERY_MS = 5_000;
/** Runs seeded, each with this many events (intake, 8 progress messages, finish). */
const DEFAULT_SEED_RUNS = 10_000;
const EVENTS_PER_RUN = 10;

async function seed(
  tree: string,
  stateDir: string,
  prefix: string,
  spec: (jid: string) => JobSpec,
  runs: number,
): Promise<number> {
  const mod = (await import(pathToFileURL(path.join(tree, 'src/store/ledger.ts')).href)) as {
    Ledger: { open(dir: string): SeedLedger };
  };
  const ledger = mod.Ledger.open(stateDir);
  try {
    for (let from = 0; from < runs; from += 1000) {
      // One batch per event-loop turn: the ledger group-commits each step of all of them together.
      const runIds = await Promise.all(
        Array.from({ length: Math.min(1000, runs - from) }, async (_, k) => {
          const jid = `${prefix}-r${from + k}`;
          return (await ledger.intake({ jid, spec: spec(jid), fingerprint: jid })).runId;
        }),
      );
      for (let step = 1; step < EVENTS_PER_RUN - 1; step++)
        await Promise.all(runIds.map((id) => ledger.appendEvent(id, 'started', `step ${step}`)));
      await Promise.all(
        runIds.map((id) =>
          ledger.finish(id, {
            status: 'finishedSuccessfully',
            message: 'exited',
            exitCode: 0,
            logs: 'x\n',
          }),
        ),
      );
    }
    return ledger.eventBounds().last;
  } finally {
    ledger.close();
  }
}

function latency(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 100) / 100;
  return {
    samples: sorted.length,
    p50: r(percentile(sorted, 50)),
    p99: r(percentile(sorted, 99)),
    max: r(sorted[sorted.length - 1] ?? 0),
  };
}

async function replay(server: RunningServer, last: number) {
  const started = performance.now();
  let count = 0;
  let previous = 0;
  let ordered = true;
  let done!: () => void;
  const complete = new Promise<void>((r) => (done = r));
  const client = connectSse(server.url, '/api/v1/events/?since=0', {
    onId: (seq) => {
      // Frames after the last seeded one (jobs submitted since) are not part of the replay.
      if (previous >= last) return;
      count++;
      // Every seq once, in order, none missing: what the client got is the whole log.
      if (seq !== previous + 1) ordered = false;
      previous = seq;
      if (seq >= last) done();
    },
  });
  const finished = await Promise.race([
    complete.then(() => true),
    client.ended.then(() => false),
    delay(30_000).then(() => false),
  ]);
  const seconds = Math.round((performance.now() - started) / 10) / 1000;
  client.close();
  return { events: count, seconds, complete: finished && ordered && count === last };
}

/** Submits at a steady rate, each jid's POST send time into `sent` as it goes; resolves once all answered. */
async function submitSteadily(
  server: RunningServer,
  jids: string[],
  body: (jid: string) => object,
  sent = new Map<string, number>(),
): Promise<Map<string, number>> {
  const client = httpClient(server.url, 20);
  const answers: Promise<unknown>[] = [];
  const start = performance.now();
  try {
    for (const [i, jid] of jids.entries()) {
      const due = start + (i * 1000) / JOBS_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await delay(wait);
      sent.set(jid, performance.now());
      // A refused or failed POST is a job whose event never comes: counted as missed, not thrown.
      answers.push(client.request('POST', '/api/v1/', body(jid)).catch(() => undefined));
    }
    await Promise.all(answers);
  } finally {
    client.close();
  }
  return sent;
}

export async function benchEvents(opts: {
  entry: Entry;
  tree: string;
  env: Record<string, string>;
  stateDir: string;
  prefix: string;
  body: (jid: string) => object;
  spec: (jid: string) => JobSpec;
  /** Smaller figures for a quick check of the scenario itself (defaults: 500 and 10 000). */
  clients?: number;
  seedRuns?: number;
}): Promise<EventsResult> {
  const CLIENTS = opts.clients ?? DEFAULT_CLIENTS;
  const notes: string[] = [];
  const seedStart = performance.now();
  const seedRuns = opts.seedRuns ?? DEFAULT_SEED_RUNS;
  const last = await seed(opts.tree, opts.stateDir, opts.prefix, opts.spec, seedRuns);
  notes.push(
    `seeded ${last} events (${seedRuns} runs) through the Ledger API in ${Math.round((performance.now() - seedStart) / 100) / 10} s`,
  );
  // Every SSE client holds a connection: the default HTTP_MAX_CONNECTIONS (1024) has room for
  // them and the submitting and polling clients.
  const server = await startServer(opts.entry, { ...opts.env, STATE_DIR: opts.stateDir });
  const pid = server.proc.pid;
  let clients: SseClient[] = [];
  try {
    const step = (what: string): boolean => process.stderr.write(`  events: ${what}\n`);
    // RSS before anything else: the replay's garbage would otherwise be freed while clients
    // connect and hide their cost.
    await delay(1000);
    const rssWithoutMiB = await server.rssMiB();
    const fromPost: number[] = [];
    const fromTimestamp: number[] = [];
    const sent = new Map<string, number>();
    const seen = new Set<string>();
    clients = Array.from({ length: CLIENTS }, (_, c) =>
      connectSse(server.url, '/api/v1/events/', {
        onStatus: (frame, receivedAt) => {
          const postedAt = sent.get(frame.jid);
          const key = `${c} ${frame.jid}`;
          if (postedAt === undefined || seen.has(key)) return;
          seen.add(key);
          fromPost.push(receivedAt - postedAt);
          fromTimestamp.push(performance.timeOrigin + receivedAt - frame.at);
        },
      }),
    );
    step(`${CLIENTS} clients`);
    await Promise.all(clients.map((c) => c.opened));
    await delay(2000);
    const rssWithMiB = await server.rssMiB();
    const perClientKB = Math.round(((rssWithMiB - rssWithoutMiB) * 1024 * 10) / CLIENTS) / 10;

    const jobs = (WINDOW_MS / 1000) * JOBS_PER_SECOND;
    const withJids = Array.from({ length: jobs }, (_, i) => `${opts.prefix}-live-${i}`);
    step('latency');
    let cpu0 = await cpuMs(pid);
    await submitSteadily(server, withJids, opts.body, sent);
    await delay(1000);
    const withClientsMs = (await cpuMs(pid)) - cpu0;
    const missed = jobs * CLIENTS - fromPost.length;
    const dropped = clients.filter((c) => c.dropped).length;
    if (dropped > 0) notes.push(`${dropped} of ${CLIENTS} clients were cut off by the server`);
    for (const c of clients) c.close();
    clients = [];
    await delay(1000);

    step('the same submits without clients');
    const withoutJids = withJids.map((jid) => `${jid}-quiet`);
    cpu0 = await cpuMs(pid);
    await submitSteadily(server, withoutJids, opts.body);
    await delay(1000);
    const withoutClientsMs = (await cpuMs(pid)) - cpu0;

    // Polling: one consumer reads the same jobs every 5 s over the same window.
    step('replay');
    const replayed = await replay(server, last);
    await delay(1000);
    step('polling');
    const poller = httpClient(server.url, 10);
    let requests = 0;
    let errors = 0;
    cpu0 = await cpuMs(pid);
    const pollStart = performance.now();
    try {
      for (let t = 0; t < WINDOW_MS; t += POLL_EVERY_MS) {
        const wait = pollStart + t - performance.now();
        if (wait > 0) await delay(wait);
        for (let i = 0; i < withJids.length; i += 10)
          await Promise.all(
            withJids.slice(i, i + 10).map(async (jid) => {
              requests++;
              const res = await poller.request('GET', `/api/v1/${jid}/`).catch(() => undefined);
              if (res?.status !== 200) errors++;
            }),
          );
      }
      const rest = pollStart + WINDOW_MS - performance.now();
      if (rest > 0) await delay(rest);
    } finally {
      poller.close();
    }
    const pollCpuMs = (await cpuMs(pid)) - cpu0;
    return {
      clients: CLIENTS,
      jobs,
      perSecond: JOBS_PER_SECOND,
      fromPost: latency(fromPost),
      fromTimestamp: latency(fromTimestamp),
      missed,
      replay: replayed,
      memory: { rssWithoutMiB, rssWithMiB, perClientKB },
      cpu: { withClientsMs, withoutClientsMs },
      polling: {
        jobs,
        windowSeconds: WINDOW_MS / 1000,
        requests,
        errors,
        serverCpuMs: pollCpuMs,
      },
      notes,
    };
  } finally {
    for (const c of clients) c.close();
    await server.stop();
  }
}
