// DELETE semantics (kubernetes.md §8.7): options from a non-empty body else the query; Orphan, Background, Foreground;
// preconditions (uid, resourceVersion) → 409 Conflict when the stored object differs.

import { apiTime } from './clock.js';
import type { ResourceInfo } from './discovery.js';
import type { Answer, ApiContext } from './answer.js';
import { ownedBy } from './pods.js';
import { preconditionFailure, readPreconditions } from './preconditions.js';
import type { Preconditions } from './preconditions.js';
import { JOBS, PODS } from './resources.js';
import { badRequest, failure, notFound, success } from './status.js';
import { resourceKey } from './store.js';
import type { Job, KubeObject, Pod } from './types.js';
import type { Deployment } from './deployments.js';

/** Runs garbage-collector work just after the answer is written ("shortly after" in real clusters). */
export type Later = (fn: () => void) => void;

export const ORPHAN_WARNING =
  '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"';

type Policy = 'Orphan' | 'Background' | 'Foreground';

function readPolicy(query: Record<string, string>, body: string): Policy | undefined | Answer {
  let raw: unknown = query.propagationPolicy;
  // The real server decodes DeleteOptions from a non-empty body and then ignores the query string.
  if (body.trim() !== '') {
    let opts: unknown;
    try {
      opts = JSON.parse(body);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const err = badRequest(`couldn't get version/kind; json parse error: ${why}`);
      return { code: err.code, body: err.body };
    }
    const o = (typeof opts === 'object' && opts !== null ? opts : {}) as {
      propagationPolicy?: unknown;
      orphanDependents?: unknown;
    };
    raw =
      o.propagationPolicy ??
      (o.orphanDependents === true
        ? 'Orphan'
        : o.orphanDependents === false
          ? 'Background'
          : undefined);
  }
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'Orphan' || raw === 'Background' || raw === 'Foreground') return raw;
  const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
  const err = failure(
    422,
    'Invalid',
    `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${shown}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    {
      group: 'meta.k8s.io',
      kind: 'DeleteOptions',
      causes: [
        {
          reason: 'FieldValueNotSupported',
          message: `Unsupported value: "${shown}": supported values: "Foreground", "Background", "Orphan", "nil"`,
          field: 'propagationPolicy',
        },
      ],
    },
  );
  return { code: err.code, body: err.body };
}

function removePod(c: ApiContext, pod: Pod): void {
  c.store.remove(PODS, pod.metadata.namespace, pod.metadata.name ?? '');
  c.logs.dropPod(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
}

function podsOf(c: ApiContext, job: Job): Pod[] {
  return (c.store.list(PODS, job.metadata.namespace) as Pod[]).filter((p) =>
    ownedBy(p, job.metadata.uid ?? ''),
  );
}

/** Background deletion with no terminating phase: the TTL controller's path. */
export function deleteJobNow(c: ApiContext, job: Job): void {
  const ns = job.metadata.namespace ?? '';
  const name = job.metadata.name ?? '';
  c.store.remove(JOBS, ns, name);
  c.controller.forget(ns, name);
  for (const pod of podsOf(c, job)) removePod(c, pod);
}

function deleteJob(
  c: ApiContext,
  ns: string,
  name: string,
  policy: Policy | undefined,
  pre: Preconditions,
): Answer {
  const info = { group: 'batch', plural: 'jobs', kind: 'Job' };
  const job = c.store.get(JOBS, ns, name) as Job | undefined;
  if (!job) {
    const e = notFound(info, name);
    return { code: e.code, body: e.body };
  }
  const conflict = preconditionFailure(info, job, pre);
  if (conflict) return { code: conflict.code, body: conflict.body };
  const now = c.clock.now();
  const marked = (finalizer: string): Job =>
    c.store.update(JOBS, {
      ...job,
      metadata: {
        ...job.metadata,
        deletionTimestamp: apiTime(now),
        deletionGracePeriodSeconds: 0,
        finalizers: [...(job.metadata.finalizers ?? []), finalizer],
      },
    }) as Job;
  switch (policy) {
    case undefined:
    case 'Orphan': {
      const answer = marked('orphan');
      c.later(() => {
        // The garbage collector strips the owner reference from the pods, then lets the Job go.
        for (const pod of podsOf(c, job)) {
          const refs = (pod.metadata.ownerReferences ?? []).filter(
            (r) => r.uid !== job.metadata.uid,
          );
          const meta: Pod['metadata'] = { ...pod.metadata, ownerReferences: refs };
          if (refs.length === 0) delete meta.ownerReferences;
          c.store.update(PODS, { ...pod, metadata: meta });
        }
        c.store.remove(JOBS, ns, name);
        c.controller.forget(ns, name);
      });
      return {
        code: 200,
        body: answer,
        ...(policy === undefined ? { headers: { Warning: ORPHAN_WARNING } } : {}),
      };
    }
    case 'Background': {
      c.store.remove(JOBS, ns, name);
      c.controller.forget(ns, name);
      const pods = podsOf(c, job);
      for (const pod of pods) {
        c.store.update(PODS, {
          ...pod,
          metadata: {
            ...pod.metadata,
            deletionTimestamp: apiTime(new Date(now.getTime() + 30_000)),
            deletionGracePeriodSeconds: 30,
          },
        });
      }
      c.later(() => {
        for (const pod of pods) removePod(c, pod);
      });
      return {
        code: 200,
        body: success({ name, group: 'batch', kind: 'jobs', uid: job.metadata.uid }),
      };
    }
    case 'Foreground': {
      const answer = marked('foregroundDeletion');
      c.later(() => {
        for (const pod of podsOf(c, job)) removePod(c, pod);
        c.store.remove(JOBS, ns, name);
        c.controller.forget(ns, name);
      });
      return { code: 200, body: answer };
    }
  }
}

export function deleteObject(
  c: ApiContext,
  info: ResourceInfo,
  ns: string | undefined,
  name: string,
  query: Record<string, string>,
  body: string,
): Answer {
  const policy = readPolicy(query, body);
  if (typeof policy === 'object') return policy;
  const pre = readPreconditions(body);
  if (info.plural === 'jobs') return deleteJob(c, ns ?? '', name, policy, pre);
  const key = resourceKey(info.group, info.plural);
  const obj: KubeObject | undefined = c.store.get(key, ns, name);
  if (!obj) {
    const e = notFound(info, name);
    return { code: e.code, body: e.body };
  }
  const conflict = preconditionFailure(info, obj, pre);
  if (conflict) return { code: conflict.code, body: conflict.body };
  c.store.remove(key, ns, name);
  // apps/v1 defaults to Background: the ReplicaSet's pods go shortly after.
  if (info.plural === 'deployments') {
    c.deployments.deleted(obj as Deployment, policy === 'Orphan');
  }
  if (info.plural === 'pods') {
    c.logs.dropPod(ns ?? '', name);
    return {
      code: 200,
      body: { ...obj, metadata: { ...obj.metadata, deletionTimestamp: apiTime(c.clock.now()) } },
    };
  }
  return {
    code: 200,
    body: success({ name, group: info.group, kind: info.plural, uid: obj.metadata.uid }),
  };
}
