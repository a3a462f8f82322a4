// The fingerprint of an accepted request: a hash of its canonical form (keys sorted, so two bodies
// that differ only in key order are the same job), kept with the run to tell a retried POST from a
// different one (idempotency, issue 13).
import { createHash } from 'node:crypto';
import type { JobRequest } from '../domain/spec.js';

/** sha256 hex of the request's canonical JSON. */
export function fingerprintOf(req: JobRequest): string {
  return createHash('sha256').update(canonicalJson(req)).digest('hex');
}

/** JSON with object keys sorted at every depth; arrays keep their order (it is meaningful). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
