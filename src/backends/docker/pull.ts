// Image pulls with a hard time limit (api.md §9.1): start one, wait a bounded time for it, cancel it.
import type Docker from 'dockerode';
import { toDomainError } from '../shared/engine-client.js';

/** The pull itself failed (the engine or the registry said no); `message` is the engine's text. */
export class PullFailure extends Error {}

export interface Pull {
  /** Resolves when the image is present; rejects with PullFailure, or a domain error when the
   *  engine itself cannot be reached. Always handled by the pull, so never an unhandled rejection. */
  readonly done: Promise<void>;
  /** Aborts the pull (its promise then rejects with PullFailure "cancelled"). */
  cancel(): void;
}

/** docker-modem prefixes "(HTTP code 500) server error - "; the engine's own text is what we want. */
function engineText(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return raw.replace(/^\(HTTP code \d+\)\s[^-]*-\s+/, '').trim() || 'unknown engine error';
}

/** The last error a pull's JSON progress stream reported, or undefined when it had none. */
async function progressError(stream: AsyncIterable<Buffer | string>): Promise<string | undefined> {
  let pending = '';
  let error: string | undefined;
  const take = (line: string): void => {
    if (line.trim() === '') return;
    try {
      const event = JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } };
      const message = event.errorDetail?.message ?? event.error;
      if (typeof message === 'string' && message !== '') error = message;
    } catch {
      // Progress lines we cannot parse carry no verdict; the HTTP status already said 200.
    }
  };
  for await (const chunk of stream) {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      take(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  take(pending);
  return error;
}

/**
 * Starts pulling `image`; gives up (and aborts the request) after `timeoutMs`, failing with
 * "timed out after <timeoutSeconds> s". An engine that answered with an error makes a PullFailure;
 * an engine that could not be reached makes the usual domain error (503 at the edge).
 */
export function startPull(docker: Docker, image: string, timeoutMs: number): Pull {
  const controller = new AbortController();
  let reason: PullFailure | undefined;
  const abort = (why: PullFailure): void => {
    reason ??= why;
    controller.abort();
  };
  const timer = setTimeout(() => {
    abort(new PullFailure(`timed out after ${Math.round(timeoutMs / 1000)} s`));
  }, timeoutMs);
  timer.unref();

  const run = async (): Promise<void> => {
    try {
      const stream = (await docker.pull(image, {
        abortSignal: controller.signal,
      })) as AsyncIterable<Buffer | string>;
      const error = await progressError(stream);
      if (reason !== undefined) throw reason;
      if (error !== undefined) throw new PullFailure(error);
    } catch (err) {
      if (reason !== undefined) throw reason;
      if (err instanceof PullFailure) throw err;
      const answered =
        typeof err === 'object' &&
        err !== null &&
        'statusCode' in err &&
        err.statusCode !== undefined;
      throw answered ? new PullFailure(engineText(err)) : toDomainError(err);
    } finally {
      clearTimeout(timer);
    }
  };
  const done = run();
  // Callers may stop listening (a background pull nobody waits on); the failure is still recorded
  // by whoever awaits `done`, so a rejection here must not be reported as unhandled.
  done.catch(() => undefined);
  return { done, cancel: () => abort(new PullFailure('cancelled')) };
}

/** Waits up to `ms` for the pull: 'done' when the image arrived, 'running' when it is still going.
 *  Rejects as `pull.done` does. */
export async function waitForPull(pull: Pull, ms: number): Promise<'done' | 'running'> {
  let timer: NodeJS.Timeout | undefined;
  const stillRunning = new Promise<'running'>((resolve) => {
    timer = setTimeout(() => resolve('running'), ms);
  });
  try {
    return await Promise.race([pull.done.then(() => 'done' as const), stillRunning]);
  } finally {
    clearTimeout(timer);
  }
}
