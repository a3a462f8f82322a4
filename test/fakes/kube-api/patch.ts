// PATCH on store-only kinds: JSON merge patch for both merge-patch and strategic-merge-patch.

import {
  fail,
  keyOf,
  type Answer,
  type ApiContext,
  type ApiRequest,
  type ResourceRoute,
} from './answer.js';
import { badRequest, failure, notFound } from './status.js';
import type { JsonObject, KubeObject } from './types.js';

const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCHES = ['application/merge-patch+json', 'application/strategic-merge-patch+json'];

/** A PATCH the fake's Jobs and Deployments take: its parsed body, and whether it is a JSON patch
 *  (else a merge patch); the 415 of another type or the 400 of a body that is no JSON. */
export function readPatch(req: ApiRequest): { jsonPatch: boolean; body: unknown } | Answer {
  const type = req.contentType.split(';')[0]?.trim() ?? '';
  if (type !== JSON_PATCH && !MERGE_PATCHES.includes(type)) {
    return fail(failure(415, 'UnsupportedMediaType', `unsupported patch type ${type}`));
  }
  try {
    return { jsonPatch: type === JSON_PATCH, body: JSON.parse(req.body) as unknown };
  } catch (e) {
    return fail(badRequest(e instanceof Error ? e.message : String(e)));
  }
}

/** Lists are replaced, not merged: enough for `kubectl apply` of our own manifests. */
export function patchObject(
  c: ApiContext,
  r: ResourceRoute,
  name: string,
  req: ApiRequest,
): Answer {
  const type = req.contentType.split(';')[0]?.trim() ?? '';
  if (
    type !== 'application/merge-patch+json' &&
    type !== 'application/strategic-merge-patch+json'
  ) {
    return fail(
      failure(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      ),
    );
  }
  const current = c.store.get(keyOf(r.info), r.namespace, name);
  if (!current) return fail(notFound(r.info, name));
  let patch: unknown;
  try {
    patch = JSON.parse(req.body);
  } catch (e) {
    return fail(badRequest(e instanceof Error ? e.message : String(e)));
  }
  const merged = mergePatch(current, patch) as KubeObject;
  merged.metadata = {
    ...merged.metadata,
    name,
    namespace: current.metadata.namespace,
    uid: current.metadata.uid,
    creationTimestamp: current.metadata.creationTimestamp,
  };
  return { code: 200, body: c.store.update(keyOf(r.info), merged) };
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: JsonObject =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as JsonObject) }
      : {};
  for (const [k, v] of Object.entries(patch as JsonObject)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
