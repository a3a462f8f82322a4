// The Port, timed: a Backend that forwards every call to the real one and reports its duration and
// error kind to the metrics (issue 14) — one decorator instead of a counter in every backend. The
// optional methods exist on it exactly when the real backend has them: the service reads their
// presence (watchJobs) as a capability.
import type { Backend, CreateOptions, JobRead } from '../backends/backend.js';
import type { BackendOperation, Metrics } from './metrics.js';
import { backendHealth } from './health.js';

/** The real backend wrapped; `metrics.probeWith` is set to a ping through it (backend_up). */
export function meteredBackend(inner: Backend, metrics: Metrics): Backend {
  const timed = async <T>(operation: BackendOperation, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await call();
      metrics.backendCall(operation, seconds(started));
      return result;
    } catch (err) {
      metrics.backendCall(operation, seconds(started), err);
      throw err;
    }
  };
  const metered: Backend = {
    name: inner.name,
    capabilities: inner.capabilities,
    create: (spec, options) =>
      timed('create', () => inner.create(spec, countingLateFailure(options, metrics))),
    read: (name, options) => timed('read', () => inner.read(name, options)),
    streamLogs: (name, tail, options) =>
      timedStream(metrics, inner.streamLogs(name, tail, options)),
    delete: (name) => timed('delete', () => inner.delete(name)),
    list: () => timed('list', () => inner.list()),
    ping: () => timed('ping', () => inner.ping()),
    close: () => inner.close(),
  };
  if (inner.resume !== undefined) {
    const resume = inner.resume.bind(inner);
    metered.resume = (name) => timed('resume', () => resume(name));
  }
  if (inner.stop !== undefined) {
    const stop = inner.stop.bind(inner);
    metered.stop = (name, grace) => timed('stop', () => stop(name, grace));
  }
  if (inner.capacity !== undefined) {
    const capacity = inner.capacity.bind(inner);
    metered.capacity = () => timed('capacity', () => capacity());
  }
  if (inner.images !== undefined) {
    const images = inner.images.bind(inner);
    metered.images = () => timed('images', () => images());
  }
  if (inner.watchJobs !== undefined) {
    const watch = inner.watchJobs.bind(inner);
    metered.watchJobs = (limits, listener) =>
      watch(limits, (snapshot: JobRead) => {
        metrics.viewRefreshed();
        listener(snapshot);
      });
  }
  metrics.probeWith(async () => (await backendHealth(metered)) === 'ok');
  return metered;
}

/** The create's options with `onFailed` also counting the failure (pman_jobs_create_failed_total). */
function countingLateFailure(options: CreateOptions | undefined, metrics: Metrics): CreateOptions {
  const onFailed = options?.onFailed;
  return {
    ...options,
    onFailed: (info) => {
      metrics.createFailedLater();
      onFailed?.(info);
    },
  };
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}

/**
 * A log stream, timed until its first chunk (or its end): a followed log stays open for as long as
 * the job runs, which says nothing about the engine. An error later counts as an error only. A
 * plain iterator, not a generator: return() reaches the engine's stream at once, even while a
 * read is pending (a generator would queue it behind that read).
 */
function timedStream(
  metrics: Metrics,
  source: AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const started = performance.now();
      const inner = source[Symbol.asyncIterator]();
      let timing = true;
      const settle = (err?: unknown): void => {
        if (timing) metrics.backendCall('streamLogs', seconds(started), err);
        else if (err !== undefined) metrics.backendFailed('streamLogs', err);
        timing = false;
      };
      return {
        async next() {
          try {
            const result = await inner.next();
            settle();
            return result;
          } catch (err) {
            settle(err);
            throw err;
          }
        },
        return: (value?: unknown) =>
          inner.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
      };
    },
  };
}
