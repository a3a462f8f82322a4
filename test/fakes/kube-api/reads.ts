// GET on resources: one object, a typed list, or a watch request (kubernetes.md §8.2, §8.5).

import {
  fail,
  intParam,
  keyOf,
  type Answer,
  type ApiContext,
  type ApiRequest,
  type Outcome,
  type ResourceRoute,
} from './answer.js';
import { JOBS } from './resources.js';
import { apiVersionOf, type ResourceInfo } from './discovery.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { badRequest, notFound } from './status.js';
import type { JsonObject, KubeObject } from './types.js';

/** One object; with autoAdvance 'perRead', each GET of a Job moves its scenario one step first. */
export function getObject(c: ApiContext, r: ResourceRoute, name: string): Answer {
  const key = keyOf(r.info);
  if (c.autoAdvance === 'perRead' && key === JOBS && r.namespace) {
    c.controller.advance(r.namespace, name, 1);
  }
  const obj = c.store.get(key, r.namespace, name);
  return obj ? { code: 200, body: obj } : fail(notFound(r.info, name));
}

export function listObjects(c: ApiContext, r: ResourceRoute, req: ApiRequest): Answer {
  const match = selectors(r, req);
  if (typeof match !== 'function') return match;
  const items = c.store.list(keyOf(r.info), r.namespace).filter(match);
  return { code: 200, body: listOf(r.info, items, c.store.resourceVersion) };
}

/** What the watch streamer needs; the stream itself is watch.ts's. */
export function watchObjects(r: ResourceRoute, req: ApiRequest): Outcome {
  const match = selectors(r, req);
  if (typeof match !== 'function') return match;
  const timeout = intParam(req.query, 'timeoutSeconds');
  if (typeof timeout === 'object') return timeout;
  return {
    watch: {
      resource: keyOf(r.info),
      kind: r.info.kind,
      apiVersion: apiVersionOf(r.info),
      namespace: r.namespace,
      match,
      resourceVersion: req.query.resourceVersion,
      timeoutSeconds: timeout,
      bookmarks: req.query.allowWatchBookmarks === 'true',
    },
  };
}

function selectors(r: ResourceRoute, req: ApiRequest): ((o: KubeObject) => boolean) | Answer {
  const labels = parseLabelSelector(req.query.labelSelector);
  if (!labels.ok) return fail(badRequest(labels.message));
  const fields = parseFieldSelector(req.query.fieldSelector, r.info.plural);
  if (!fields.ok) return fail(badRequest(fields.message));
  return (o) => labels.match(o) && fields.match(o);
}

/** Typed lists carry no kind/apiVersion on their items. */
function listOf(info: ResourceInfo, items: KubeObject[], rv: number): JsonObject {
  return {
    kind: `${info.kind}List`,
    apiVersion: apiVersionOf(info),
    metadata: { resourceVersion: String(rv) },
    items: items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
  };
}
