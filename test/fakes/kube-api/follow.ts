// GET …/pods/{name}/log?follow=true: what exists, then what the container appends, until it ends
// (terminated, or its pod gone) — as the kubelet streams it. Polled: the LogBook has no listeners.
import type { ServerResponse } from 'node:http';

/** How often a followed log looks for new output and for the container's end. */
export const FOLLOW_POLL_MS = 20;

/** A followed container log, as the log route hands it to the HTTP edge. */
export interface FollowRequest {
  /** The answer up to now (tailLines and the other options applied). */
  first: Buffer;
  /** Every byte the container appended since the follow began. */
  appended(): Buffer;
  /** True once the container can write no more. */
  ended(): boolean;
}

/** Streams `f` on `res`; `open` holds it while it runs, so the fake's close() can cut it. */
export function serveFollow(
  f: FollowRequest,
  res: ServerResponse,
  open: Set<ServerResponse>,
): void {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  if (f.first.length > 0) res.write(f.first);
  open.add(res);
  let sent = 0;
  const flush = (): void => {
    const more = f.appended();
    if (more.length > sent) res.write(more.subarray(sent));
    sent = Math.max(sent, more.length);
  };
  const timer = setInterval(() => {
    // Read the end first: output appended together with the exit is still sent.
    const ended = f.ended();
    flush();
    if (ended) {
      stop();
      res.end();
    }
  }, FOLLOW_POLL_MS);
  const stop = (): void => {
    clearInterval(timer);
    open.delete(res);
  };
  res.on('close', stop);
}
