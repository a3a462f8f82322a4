// What a resource handler works with and answers: the shared context, the request, an Answer or a watch.

import type { FakeClock } from './clock.js';
import type { JobController } from './controller.js';
import type { DeploymentController } from './deployment-controller.js';
import type { Later } from './delete.js';
import type { ResourceInfo } from './discovery.js';
import type { LogBook } from './pod-logs.js';
import type { Route } from './routes.js';
import { badRequest, type StatusError } from './status.js';
import { resourceKey, type Store } from './store.js';
import type { JsonObject } from './types.js';
import type { FollowRequest } from './follow.js';
import type { WatchRequest } from './watch.js';

export interface Answer {
  code: number;
  body: JsonObject | Buffer;
  headers?: Record<string, string>;
}

export type Outcome = Answer | { watch: WatchRequest } | { follow: FollowRequest };

export interface ApiContext {
  store: Store;
  controller: JobController;
  /** Deployments' pods and status (issue 15). */
  deployments: DeploymentController;
  logs: LogBook;
  clock: FakeClock;
  autoAdvance: 'off' | 'perRead';
  later: Later;
}

export interface ApiRequest {
  method: string;
  query: Record<string, string>;
  body: string;
  contentType: string;
}

export type ResourceRoute = Extract<Route, { kind: 'resource' }>;

export function keyOf(info: ResourceInfo): string {
  return resourceKey(info.group, info.plural);
}

export function fail(e: StatusError): Answer {
  return { code: e.code, body: e.body, ...(e.headers ? { headers: e.headers } : {}) };
}

/** An integer query parameter, as the API server's strconv parses it (400 otherwise). */
export function intParam(query: Record<string, string>, name: string): number | undefined | Answer {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw))
    return fail(badRequest(`strconv.ParseInt: parsing "${raw}": invalid syntax`));
  return Number(raw);
}
