// Where a Swarm create through pman-ts spends its time: the server talks to the engine through a
// recording proxy while c creates run, and every engine call made in that window is grouped by
// kind (method + path shape) with its count per create and its latency; the same service creates
// made directly through the same proxy give the baseline, so the proxy's own cost cancels out.
import type Docker from 'dockerode';
import { startRecordingProxy } from '../test/engine/reliability/recording-proxy.js';
import type { EngineCall } from '../test/engine/reliability/recording-proxy.js';
import { createDockerClient } from '../src/backends/shared/engine-client.js';
import { cpuDuring, dockerdPid } from './cpu.js';
import { drive, httpClient, percentile } from './load.js';
import type { Summary } from './load.js';
import { startServer } from './server.js';
import type { Entry } from './server.js';

export interface CallKind {
  /** e.g. "POST /services/create", "GET /services/{id}", "GET /tasks". */
  kind: string;
  count: number;
  perCreate: number;
  p50: number;
  p95: number;
  /** Sum of the calls' engine time (forwarded → answered), ms. */
  totalMs: number;
}

export interface SwarmProfile {
  concurrency: number;
  creates: number;
  /** POST /api/v1/ through pman-ts, the server talking through the proxy. */
  server: Summary;
  /** createService made directly through the same proxy. */
  direct: Summary;
  /** Engine calls the server made while its creates ran, by kind. */
  calls: CallKind[];
  /** The same for the direct run (one create each, plus nothing else). */
  directCalls: CallKind[];
  /** CPU ms spent during the server's creates by the server process and by dockerd. */
  cpu: Record<string, number>;
  /** The same during the direct creates (dockerd only: the client is this process). */
  directCpu: Record<string, number>;
  /** p50 of each segment of one create through pman-ts, ms (client clock = proxy clock). */
  segments: Record<SegmentName, number>;
}

export const SEGMENTS = [
  'request → engine create',
  'engine create',
  'create answered → inspect',
  'engine inspect',
  'inspect answered → 201 received',
] as const;
export type SegmentName = (typeof SEGMENTS)[number];

interface Timeline {
  sent: number;
  received?: number;
}

/** Per-create segments from the client's send/receive times and the proxy's log of its calls. */
function segmentsOf(
  timelines: Map<string, Timeline>,
  calls: readonly EngineCall[],
): Record<SegmentName, number> {
  const samples: Record<SegmentName, number[]> = Object.fromEntries(
    SEGMENTS.map((s) => [s, [] as number[]]),
  ) as Record<SegmentName, number[]>;
  for (const [name, t] of timelines) {
    const create = calls.find(
      (c) => kindOf(c).startsWith('POST /services/create') && c.body.includes(`"Name":"${name}"`),
    );
    const inspect = calls.find(
      (c) =>
        c.method === 'GET' &&
        c.path.split('?')[0]?.endsWith(`/services/${encodeURIComponent(name)}`),
    );
    if (create?.answered === undefined || t.received === undefined) continue;
    samples['request → engine create'].push(create.arrived - t.sent);
    samples['engine create'].push(create.answered - create.arrived);
    if (inspect?.answered !== undefined) {
      samples['create answered → inspect'].push(inspect.arrived - create.answered);
      samples['engine inspect'].push(inspect.answered - inspect.arrived);
      samples['inspect answered → 201 received'].push(t.received - inspect.answered);
    }
  }
  const out = {} as Record<SegmentName, number>;
  for (const s of SEGMENTS) {
    const sorted = samples[s].sort((a, b) => a - b);
    out[s] = Math.round(percentile(sorted, 50) * 100) / 100;
  }
  return out;
}

/** Ids and names become placeholders, the API version prefix and query values go. */
export function kindOf(c: Pick<EngineCall, 'method' | 'path'>): string {
  const [pathname = '', query] = c.path.split('?');
  const shape = pathname
    .replace(/^\/v\d+\.\d+/, '')
    .split('/')
    .map((seg, i, all) => {
      if (i === 2 && all.length > 2 && !['create', 'json', 'prune'].includes(seg)) return '{id}';
      return seg;
    })
    .join('/');
  const keys =
    query === undefined
      ? ''
      : `?${[...new URLSearchParams(query).keys()].filter((k) => k !== 'name').join('&')}`;
  return `${c.method} ${shape}${keys === '?' ? '' : keys}`;
}

function group(calls: readonly EngineCall[], creates: number): CallKind[] {
  const byKind = new Map<string, number[]>();
  for (const c of calls) {
    const k = kindOf(c);
    const list = byKind.get(k) ?? [];
    // A call still open (the events stream) counts with no duration.
    if (c.forwarded !== undefined && c.answered !== undefined) list.push(c.answered - c.forwarded);
    else list.push(Number.NaN);
    byKind.set(k, list);
  }
  const out: CallKind[] = [];
  for (const [kind, all] of byKind) {
    const times = all.filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
    const r = (n: number): number => Math.round(n * 100) / 100;
    out.push({
      kind,
      count: all.length,
      perCreate: r(all.length / creates),
      p50: r(percentile(times, 50)),
      p95: r(percentile(times, 95)),
      totalMs: r(times.reduce((a, b) => a + b, 0)),
    });
  }
  return out.sort((a, b) => b.totalMs - a.totalMs);
}

export async function profileSwarmCreate(opts: {
  entry: Entry;
  env: Record<string, string>;
  concurrency: number;
  names: string[];
  /** Created (and removed) first at c=1, unmeasured, so the server's code is warm. */
  warmup: string[];
  body: (jid: string) => Record<string, unknown>;
  directCreate: (docker: Docker, name: string) => Promise<void>;
  cleanup: () => Promise<void>;
}): Promise<SwarmProfile> {
  const proxy = await startRecordingProxy();
  const timelines = new Map<string, Timeline>();
  const dockerd = await dockerdPid();
  try {
    const server = await startServer(opts.entry, { ...opts.env, DOCKER_HOST: proxy.dockerHost });
    let serverRun: Summary;
    let from: number;
    let to: number;
    let cpu: Record<string, number>;
    try {
      const client = httpClient(server.url, opts.concurrency);
      try {
        for (const name of opts.warmup) await client.request('POST', '/api/v1/', opts.body(name));
        await opts.cleanup();
        from = proxy.calls.length;
        const measured = await cpuDuring({ server: server.proc.pid, dockerd }, () =>
          drive(opts.concurrency, opts.names.length, async (i) => {
            const name = opts.names[i] ?? '';
            const t: Timeline = { sent: performance.now() };
            timelines.set(name, t);
            const res = await client.request('POST', '/api/v1/', opts.body(name));
            t.received = performance.now();
            return res.status === 201;
          }),
        );
        serverRun = measured.value;
        cpu = measured.cpu;
        to = proxy.calls.length;
      } finally {
        client.close();
      }
    } finally {
      await server.stop();
    }
    await opts.cleanup();
    const serverCalls = proxy.calls.slice(from, to);
    const docker = await createDockerClient({ host: proxy.dockerHost, tlsVerify: false });
    const directNames = opts.names.map((n) => `${n}-d`);
    const dFrom = proxy.calls.length;
    const { value: direct, cpu: directCpu } = await cpuDuring({ dockerd }, () =>
      drive(opts.concurrency, directNames.length, async (i) => {
        await opts.directCreate(docker, directNames[i] ?? '');
        return true;
      }),
    );
    const directCalls = proxy.calls.slice(dFrom);
    await opts.cleanup();
    return {
      concurrency: opts.concurrency,
      creates: opts.names.length,
      server: serverRun,
      direct,
      calls: group(serverCalls, opts.names.length),
      directCalls: group(directCalls, directNames.length),
      cpu,
      directCpu,
      segments: segmentsOf(timelines, serverCalls),
    };
  } finally {
    await proxy.close();
  }
}
