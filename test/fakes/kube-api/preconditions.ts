// DeleteOptions.preconditions (kubernetes.md §8.7): a delete names the uid (and/or resourceVersion)
// it read; when the stored object differs — deleted and recreated under the same name, or changed —
// the API server answers 409 Conflict and deletes nothing.

import type { ResourceRef, StatusError } from './status.js';
import { failure, qualified } from './status.js';
import type { KubeObject } from './types.js';

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/** The preconditions of a non-empty DeleteOptions body (the query string carries none). */
export function readPreconditions(body: string): Preconditions {
  if (body.trim() === '') return {};
  let opts: unknown;
  try {
    opts = JSON.parse(body);
  } catch {
    return {}; // readPolicy already answered 400 for a body that does not parse
  }
  const pre = (opts as { preconditions?: unknown } | null)?.preconditions;
  if (typeof pre !== 'object' || pre === null) return {};
  const { uid, resourceVersion } = pre as { uid?: unknown; resourceVersion?: unknown };
  return {
    ...(typeof uid === 'string' && { uid }),
    ...(typeof resourceVersion === 'string' && { resourceVersion }),
  };
}

/** The 409 the real server writes when a precondition does not hold, else undefined. */
export function preconditionFailure(
  ref: ResourceRef,
  obj: KubeObject,
  pre: Preconditions,
): StatusError | undefined {
  const name = obj.metadata.name ?? '';
  const conflict = (why: string): StatusError =>
    failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`,
      { name, group: ref.group, kind: ref.plural },
    );
  const uid = obj.metadata.uid ?? '';
  if (pre.uid !== undefined && pre.uid !== uid) {
    return conflict(
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${uid}`,
    );
  }
  const rv = obj.metadata.resourceVersion ?? '';
  if (pre.resourceVersion !== undefined && pre.resourceVersion !== rv) {
    return conflict(
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${rv}`,
    );
  }
  return undefined;
}
