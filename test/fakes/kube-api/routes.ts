// URL → what is addressed: a resource (+ namespace, name, subresource), a discovery document, or nothing.

import { findResource, type ResourceInfo } from './discovery.js';

export type Route =
  | { kind: 'version' }
  | { kind: 'discovery'; doc: 'api' | 'apis' | 'group'; group: string; version: string }
  | { kind: 'resource'; info: ResourceInfo; namespace?: string; name?: string; sub?: string }
  | { kind: 'unknown' };

export function route(path: string): Route {
  const segs = path
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  if (path === '/version' || path === '/version/') return { kind: 'version' };
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    if (segs.length === 1) return { kind: 'discovery', doc: 'api', group: '', version: '' };
    group = '';
    version = segs[1] ?? '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return { kind: 'discovery', doc: 'apis', group: '', version: '' };
    if (segs.length === 2) return { kind: 'unknown' };
    group = segs[1] ?? '';
    version = segs[2] ?? '';
    rest = segs.slice(3);
  } else {
    return { kind: 'unknown' };
  }
  if (rest.length === 0) return { kind: 'discovery', doc: 'group', group, version };
  // /api/v1/namespaces[/<name>] addresses Namespace objects themselves.
  if (rest[0] === 'namespaces' && rest.length <= 2) {
    const info = findResource(group, version, 'namespaces');
    return info ? { kind: 'resource', info, name: rest[1] } : { kind: 'unknown' };
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural = '', name, sub, ...extra] = rest;
  const info = findResource(group, version, plural);
  if (!info || extra.length > 0 || (namespace !== undefined && !info.namespaced))
    return { kind: 'unknown' };
  if (namespace === undefined && info.namespaced && name !== undefined) return { kind: 'unknown' };
  return { kind: 'resource', info, namespace, name, sub };
}

/** The RBAC verb of a request. */
export function verbOf(method: string, r: { name?: string }, watch: boolean): string {
  switch (method) {
    case 'GET':
      return r.name === undefined ? (watch ? 'watch' : 'list') : 'get';
    case 'POST':
      return 'create';
    case 'DELETE':
      return r.name === undefined ? 'deletecollection' : 'delete';
    case 'PATCH':
      return 'patch';
    case 'PUT':
      return 'update';
    default:
      return method.toLowerCase();
  }
}
