// Status objects exactly as the API server writes them (kubernetes.md §8.3): field order, omitted empties, messages.

import type { JsonObject } from './types.js';

/** A resource as errors name it: plural plus group ('' for the core group). */
export interface ResourceRef {
  group: string;
  plural: string;
  kind: string;
}

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An error answer: the HTTP status code plus the Status body that repeats it. */
export interface StatusError {
  code: number;
  body: JsonObject;
  headers?: Record<string, string>;
}

/** `jobs.batch` / `pods`: how messages name a resource. */
export function qualified(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

function cleanDetails(d: StatusDetails): StatusDetails | undefined {
  const out: StatusDetails = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes && d.causes.length > 0) out.causes = d.causes;
  if (d.retryAfterSeconds !== undefined) out.retryAfterSeconds = d.retryAfterSeconds;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function failure(
  code: number,
  reason: string,
  message: string,
  details: StatusDetails = {},
): StatusError {
  const body: JsonObject = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
  };
  const d = cleanDetails(details);
  if (d) body.details = d;
  body.code = code;
  return { code, body };
}

export function success(details: StatusDetails): JsonObject {
  const body: JsonObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  const d = cleanDetails(details);
  if (d) body.details = d;
  return body;
}

export function notFound(ref: ResourceRef, name: string): StatusError {
  return failure(404, 'NotFound', `${qualified(ref)} "${name}" not found`, {
    name,
    group: ref.group,
    kind: ref.plural,
  });
}

export function namespaceNotFound(ns: string): StatusError {
  return failure(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
}

export function alreadyExists(ref: ResourceRef, name: string): StatusError {
  return failure(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, {
    name,
    group: ref.group,
    kind: ref.plural,
  });
}

/** 422: details.kind is the Kind here, unlike every other Status. */
export function invalid(ref: ResourceRef, name: string, causes: StatusCause[]): StatusError {
  const kindGroup = ref.group === '' ? ref.kind : `${ref.kind}.${ref.group}`;
  const texts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
  return failure(422, 'Invalid', `${kindGroup} "${name}" is invalid: ${joined}`, {
    name,
    group: ref.group,
    kind: ref.kind,
    causes,
  });
}

export function badRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message);
}

export function unauthorized(): StatusError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(
  ref: ResourceRef,
  verb: string,
  namespace: string | undefined,
  name: string | undefined,
  subresource?: string,
  user = 'system:serviceaccount:default:pman',
): StatusError {
  const subject = name ? `${qualified(ref)} "${name}"` : qualified(ref);
  const resource = subresource ? `${ref.plural}/${subresource}` : ref.plural;
  const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  return failure(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${ref.group}"${where}`,
    { name, group: ref.group, kind: ref.plural },
  );
}

export function methodNotAllowed(): StatusError {
  return failure(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
  );
}

export function pathNotFound(): StatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

/** The answers failNext() can inject (kubernetes.md §8.10). */
export function injected(code: 429 | 500 | 503 | 504, retryAfter?: number): StatusError {
  switch (code) {
    case 429: {
      const seconds = retryAfter ?? 1;
      const e = failure(429, 'TooManyRequests', 'Too many requests, please try again later.', {
        retryAfterSeconds: seconds,
      });
      return { ...e, headers: { 'Retry-After': String(seconds) } };
    }
    case 500:
      return failure(500, 'InternalError', 'Internal error occurred: injected fault');
    case 503: {
      const e = failure(
        503,
        'ServiceUnavailable',
        'the server is currently unable to handle the request',
      );
      return retryAfter === undefined
        ? e
        : { ...e, headers: { 'Retry-After': String(retryAfter) } };
    }
    case 504:
      return failure(
        504,
        'Timeout',
        'the server was unable to return a response in the time allotted, but may still be processing the request',
      );
  }
}
