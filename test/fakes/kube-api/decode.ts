// Request bodies → objects, with the decoder's 400 texts (before any validation runs).

import { fail, type Answer } from './answer.js';
import { apiVersionOf, type ResourceInfo } from './discovery.js';
import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

/** Parses a JSON object body; the 400 text names the kind the way the decoder does. */
export function decode(body: string, info: ResourceInfo): KubeObject | Answer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return fail(
      badRequest(
        `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${why}`,
      ),
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(
      badRequest(
        `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: json: cannot unmarshal into Go value of type struct`,
      ),
    );
  }
  const obj = parsed as KubeObject;
  if (obj.kind !== undefined && obj.kind !== info.kind) {
    return fail(
      badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(info)})`,
      ),
    );
  }
  obj.metadata ??= {};
  return obj;
}

export function isAnswer(x: KubeObject | Answer): x is Answer {
  return (
    typeof (x as Answer).code === 'number' && (x as Answer).body !== undefined && !('metadata' in x)
  );
}

/** The 400 the server answers when a body names another namespace than the URL. */
export function namespaceMismatch(): Answer {
  return fail(
    badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    ),
  );
}

/** A create's body decoded for the namespace of its URL: the 400 of decode, or of a body naming
 *  another namespace, as an Answer. */
export function decodeFor(body: string, info: ResourceInfo, ns: string): KubeObject | Answer {
  const decoded = decode(body, info);
  if (isAnswer(decoded)) return decoded;
  if (decoded.metadata.namespace !== undefined && decoded.metadata.namespace !== ns) {
    return namespaceMismatch();
  }
  return decoded;
}
