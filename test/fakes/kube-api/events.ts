// core/v1 Events as the job-controller records them (kubernetes.md §8.8); repeats raise `count`.

import { randomBytes, randomUUID } from 'node:crypto';
import { apiTime } from './clock.js';
import type { Store } from './store.js';
import type { Job, KubeObject } from './types.js';

export const EVENTS = '/events';

export interface Event extends KubeObject {
  involvedObject: {
    kind: string;
    namespace?: string;
    name?: string;
    uid?: string;
    apiVersion: string;
  };
  reason: string;
  message: string;
  count: number;
  type: 'Normal' | 'Warning';
  lastTimestamp: string;
}

/** Records `reason`/`message` against a Job, or bumps count and lastTimestamp of the same event. */
export function recordJobEvent(
  store: Store,
  job: Job,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  now: Date,
): void {
  const ns = job.metadata.namespace;
  const existing = store
    .list(EVENTS, ns)
    .map((o) => o as Event)
    .find(
      (e) =>
        e.involvedObject.uid === job.metadata.uid && e.reason === reason && e.message === message,
    );
  if (existing) {
    store.update(EVENTS, { ...existing, count: existing.count + 1, lastTimestamp: apiTime(now) });
    return;
  }
  const event: Event = {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: {
      name: `${job.metadata.name ?? ''}.${randomBytes(8).toString('hex')}`,
      namespace: ns,
      uid: randomUUID(),
      creationTimestamp: apiTime(now),
    },
    involvedObject: {
      kind: 'Job',
      namespace: ns,
      name: job.metadata.name,
      uid: job.metadata.uid,
      apiVersion: 'batch/v1',
    },
    reason,
    message,
    source: { component: 'job-controller' },
    firstTimestamp: apiTime(now),
    lastTimestamp: apiTime(now),
    count: 1,
    type,
    eventTime: null,
    reportingComponent: 'job-controller',
    reportingInstance: '',
  };
  store.create(EVENTS, event);
}
