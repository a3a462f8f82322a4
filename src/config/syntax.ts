// Parsers for the structured shared variables (CONTAINER_USER, k=v lists, name lists, Kubernetes
// names), also used by backends' settings readers. Pure: a value or one human-readable reason, never
// a throw.
import type { IdRange } from '../domain/job.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** Largest id we accept: Kubernetes and most kernels use signed 32-bit ids. */
const MAX_ID = 2_147_483_647;

function parseIdRange(side: 'UID' | 'GID', text: string): Parsed<IdRange> {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) return fail(`${side} "${text}" is not a number or a range lo-hi`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > MAX_ID || hi > MAX_ID) return fail(`${side} "${text}" is above ${MAX_ID}`);
  if (lo > hi) return fail(`${side} range "${text}" has lo greater than hi`);
  return ok({ lo, hi });
}

/** CONTAINER_USER: `UID:GID`, either side empty, each a number or an inclusive range `lo-hi`. */
export function parseContainerUser(raw: string): Parsed<{ uid?: IdRange; gid?: IdRange }> {
  const parts = raw.split(':');
  if (parts.length > 2) return fail('expected UID:GID (one colon at most)');
  const [uidText = '', gidText = ''] = parts.map((p) => p.trim());
  if (uidText === '' && gidText === '') return fail('sets neither a UID nor a GID');
  const user: { uid?: IdRange; gid?: IdRange } = {};
  if (uidText !== '') {
    const uid = parseIdRange('UID', uidText);
    if (!uid.ok) return uid;
    user.uid = uid.value;
  }
  if (gidText !== '') {
    const gid = parseIdRange('GID', gidText);
    if (!gid.ok) return gid;
    user.gid = gid.value;
  }
  return ok(user);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Kubernetes DNS-1123 label (namespaces): why `name` is not one, or undefined. */
export function dnsLabelProblem(name: string): string | undefined {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    return `"${name}" is not a DNS-1123 label (1-63 lower-case letters, digits or '-', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Kubernetes DNS-1123 subdomain (PVC and secret names): why `name` is not one, or undefined. */
export function dnsSubdomainProblem(name: string): string | undefined {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return `"${name}" is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253)`;
  }
  return undefined;
}

/** Kubernetes qualified name (label keys, extended resource names): `[prefix/]name`. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key "${key}" has an invalid prefix (a DNS subdomain is required before '/')`;
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key "${key}" is not a valid name (1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Kubernetes label value: empty, or like a label name. */
export function labelValueProblem(key: string, value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `label value "${value}" of "${key}" is not valid (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Comma-separated items with surrounding blanks and empty items (a trailing comma) dropped. */
export function listItems(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * `k1=v1,k2=v2` (JOB_LABELS, NODE_SELECTOR). With `kubernetes` set, keys and values must be valid
 * Kubernetes labels, because the API server would refuse every Job otherwise.
 */
export function parseKeyValues(
  raw: string,
  opts: { kubernetes: boolean },
): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const item of listItems(raw)) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      problems.push(`"${item}" is not key=value`);
      continue;
    }
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (opts.kubernetes) {
      const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
      if (problem !== undefined) {
        problems.push(problem);
        continue;
      }
    }
    out[key] = value;
  }
  return problems.length > 0 ? fail(problems.join('; ')) : ok(out);
}

/** IMAGE_PULL_SECRETS: comma-separated secret names. */
export function parseNameList(raw: string): Parsed<string[]> {
  const names = listItems(raw);
  const problems = names.map(dnsSubdomainProblem).filter((p): p is string => p !== undefined);
  return problems.length > 0 ? fail(problems.join('; ')) : ok(names);
}
