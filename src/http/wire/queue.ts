// GET /api/v1/queue/ (issue 13): the queued runs in the order they will start, with positions, how
// many admitted runs are going, and the caps in force (null = unlimited).
import { ValidationError } from '../../domain/errors.js';
import type { QueueCaps } from '../../domain/queue-order.js';
import type { QueuePlace } from '../../service/queue/scheduler.js';

export interface WireQueued {
  position: number;
  jid: string;
  run: number;
  auid: string | null;
  priority: number;
  gpus: number;
  created: string;
  /** A retry waiting out its backoff: not started before this time; null for a run over a cap. */
  not_before: string | null;
}

export interface WireQueue {
  queue: WireQueued[];
  running: number;
  caps: {
    max_running: number | null;
    max_running_per_auid: number | null;
    max_gpus: number | null;
  };
}

export function toWireQueue(
  places: readonly QueuePlace[],
  running: number,
  caps: QueueCaps,
): WireQueue {
  return {
    queue: places.map((p) => ({
      position: p.position,
      jid: p.jid,
      run: p.run,
      auid: p.auid === '' ? null : p.auid,
      priority: p.priority,
      gpus: p.gpus,
      created: new Date(p.created).toISOString(),
      not_before: p.notBefore === undefined ? null : new Date(p.notBefore).toISOString(),
    })),
    running,
    caps: {
      max_running: caps.maxRunning ?? null,
      max_running_per_auid: caps.maxRunningPerAuid ?? null,
      max_gpus: caps.maxGpus ?? null,
    },
  };
}

/** The route takes no parameters: any is a 400 naming it (a filter must not be silently ignored). */
export function assertNoQueueParameters(url: string): void {
  const keys = [...new Set(new URL(url).searchParams.keys())];
  if (keys.length > 0)
    throw new ValidationError(
      Object.fromEntries(
        keys.map((key) => [key, 'is not a parameter of this route (it has none)']),
      ),
    );
}
