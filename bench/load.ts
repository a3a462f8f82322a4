// The load driver: keep-alive HTTP requests (and plain async calls) at a fixed concurrency,
// recording each latency; percentiles and throughput from the recorded samples.
import http from 'node:http';

export interface Summary {
  /** Requests (or calls) completed. */
  count: number;
  /** Answers outside the expected statuses (or calls that threw). */
  errors: number;
  /** Completed per second over the whole run. */
  throughput: number;
  /** Latencies in milliseconds. */
  p50: number;
  p95: number;
  p99: number;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One keep-alive agent per run, sized to the concurrency, so connection set-up is not measured; or,
 * with `newConnection`, a fresh TCP connection per request (what wrk -H 'Connection: close' and
 * pfcon's plain requests do), so set-up and teardown are measured too.
 */
export function httpClient(baseUrl: string, maxSockets: number, newConnection = false) {
  const agent = newConnection ? undefined : new http.Agent({ keepAlive: true, maxSockets });
  const url = new URL(baseUrl);
  const request = (method: string, path: string, body?: unknown): Promise<HttpAnswer> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          agent: agent ?? false,
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers:
            payload === undefined
              ? newConnection
                ? { connection: 'close' }
                : {}
              : {
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(payload),
                },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { request, close: () => agent?.destroy() };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function summarize(latencies: number[], errors: number, elapsedMs: number): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    throughput: round(elapsedMs > 0 ? (latencies.length / elapsedMs) * 1000 : 0, 1),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
  };
}

/**
 * Runs `op(i)` for i = 0 … count-1 with `concurrency` in flight, or — when `durationMs` is given —
 * keeps going (i wraps around `count`) until the duration is over. `op` resolves true on success.
 */
export async function drive(
  concurrency: number,
  count: number,
  op: (i: number) => Promise<boolean>,
  durationMs?: number,
): Promise<Summary> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const deadline = durationMs === undefined ? Infinity : start + durationMs;
  const more = (): boolean =>
    durationMs === undefined ? next < count : performance.now() < deadline;
  const worker = async (): Promise<void> => {
    while (more()) {
      const i = next++ % count;
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await op(i);
      } catch {
        ok = false;
      }
      if (ok) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  await Promise.all(
    Array.from(
      {
        length: Math.max(1, Math.min(concurrency, durationMs === undefined ? count : concurrency)),
      },
      worker,
    ),
  );
  return summarize(latencies, errors, performance.now() - start);
}
