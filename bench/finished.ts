// The status GET of a finished job, side by side with the bare node:http ceiling in the same run:
// c=10, a new connection per request (as wrk with Connection: close, and pfcon) and keep-alive,
// with the engine's (dockerd's) CPU per request, which is 0 once the answer comes from the store.
import { setTimeout as delay } from 'node:timers/promises';
import { startCeiling } from './ceiling.js';
import { cpuDuring, dockerdPid } from './cpu.js';
import { drive, httpClient } from './load.js';
import type { Summary } from './load.js';
import type { RunningServer } from './server.js';

/** Load before each measured run, not counted. */
const WARMUP_MS = 1000;

export type ConnectionMode = 'new-connection' | 'keep-alive';

export interface FinishedMode {
  mode: ConnectionMode;
  concurrency: number;
  ours: Summary;
  ceiling: Summary;
  /** ours.throughput / ceiling.throughput. */
  ratio: number;
  /** dockerd CPU per GET of ours, ms (undefined: no local dockerd, or the memory backend). */
  engineCpuMsPerRequest?: number;
}

export interface FinishedResult {
  backend: string;
  modes: FinishedMode[];
}

const FINISH_WAIT_MS = 60_000;

/** Creates a job that ends at once, waits until it reads finished, and measures its status GET. */
export async function benchFinished(opts: {
  server: RunningServer;
  backend: string;
  jid: string;
  body: Record<string, unknown>;
  concurrency: number;
  durationMs: number;
}): Promise<FinishedResult> {
  const { server, jid, concurrency, durationMs } = opts;
  const setup = httpClient(server.url, 1);
  const path = `/api/v1/${jid}/`;
  let fixed = '';
  try {
    const created = await setup.request('POST', '/api/v1/', opts.body);
    if (created.status !== 201)
      throw new Error(`create answered ${created.status}: ${created.body}`);
    const deadline = Date.now() + FINISH_WAIT_MS;
    for (;;) {
      const res = await setup.request('GET', path);
      if (res.status === 200 && /"finished(Successfully|WithError)"/.test(res.body)) {
        fixed = res.body;
        break;
      }
      if (Date.now() > deadline) throw new Error(`${jid} did not finish: ${res.body}`);
      await delay(250);
    }
  } finally {
    setup.close();
  }
  const dockerd = opts.backend === 'memory' ? undefined : await dockerdPid();
  const ceiling = await startCeiling(fixed);
  const modes: FinishedMode[] = [];
  try {
    for (const mode of ['new-connection', 'keep-alive'] as const) {
      const load = async (url: string, ms = durationMs): Promise<Summary> => {
        const client = httpClient(url, concurrency, mode === 'new-connection');
        try {
          return await drive(
            concurrency,
            1,
            async () => (await client.request('GET', path)).status === 200,
            ms,
          );
        } finally {
          client.close();
        }
      };
      // Both servers warmed up first (JIT, connection handling), so the first backend measured
      // is not the one that pays for compiling the path.
      await load(server.url, WARMUP_MS);
      await load(ceiling.url, WARMUP_MS);
      const ours = await cpuDuring({ dockerd }, () => load(server.url));
      const top = await load(ceiling.url);
      const engineCpu = ours.cpu.dockerd;
      modes.push({
        mode,
        concurrency,
        ours: ours.value,
        ceiling: top,
        ratio:
          top.throughput > 0
            ? Math.round((ours.value.throughput / top.throughput) * 1000) / 1000
            : 0,
        ...(dockerd !== undefined &&
          engineCpu !== undefined &&
          ours.value.count > 0 && {
            engineCpuMsPerRequest: Math.round((engineCpu / ours.value.count) * 1000) / 1000,
          }),
      });
    }
  } finally {
    await ceiling.stop();
    const cleanup = httpClient(server.url, 1);
    await cleanup.request('DELETE', path).catch(() => undefined);
    cleanup.close();
  }
  return { backend: opts.backend, modes };
}
