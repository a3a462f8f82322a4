// The canonical form of a create request, and the wire names of the fields two of them differ in:
// what a 409 names when an Idempotency-Key or an existing jid comes back with another body.
import type { JobRequest } from '../domain/spec.js';
import { CREATE_FIELD_ORDER as WIRE_ORDER } from '../domain/request-fields.js';
import { canonicalJson } from './fingerprint.js';

/** camelCase domain name → the wire's snake_case name (argsPathFlags → args_path_flags). */
function wireName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The request's canonical JSON: keys sorted, defaults filled (no priority means 0), so two
 *  bodies that mean the same job compare equal. */
export function canonicalRequest(req: JobRequest): string {
  return canonicalJson({ ...req, priority: req.priority ?? 0 });
}

/** The wire names of the fields whose values differ between two canonical requests, in the
 *  wire's order; [] when they are the same. */
export function differingFields(a: string, b: string): string[] {
  const left = JSON.parse(a) as Record<string, unknown>;
  const right = JSON.parse(b) as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  const differing = [...keys]
    .filter((key) => canonicalJson(left[key]) !== canonicalJson(right[key]))
    .map(wireName);
  const rank = (name: string) => {
    const at = WIRE_ORDER.indexOf(name);
    return at < 0 ? WIRE_ORDER.length : at;
  };
  return differing.sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0));
}

/** The 409 text naming what differs. */
export function differsText(subject: string, fields: readonly string[]): string {
  if (fields.length === 0) return `${subject} with a different request body`;
  return `${subject} with a different request body; differing fields: ${fields.join(', ')}`;
}
