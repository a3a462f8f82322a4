// Label and field selectors as the API server parses them (kubernetes.md §8.2); a bad one is a 400.

import type { KubeObject } from './types.js';

export type Predicate = (obj: KubeObject) => boolean;
export type SelectorResult = { ok: true; match: Predicate } | { ok: false; message: string };

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits at commas that are not inside a set-based `( … )` list. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim());
}

function labelTerm(term: string): Predicate | string {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = list.split(',').map((v) => v.trim());
    if (!KEY.test(key)) return `invalid label key "${key}"`;
    if (values.some((v) => !VALUE.test(v))) return `invalid label value in "${term}"`;
    return op === 'in'
      ? (o) => values.includes(o.metadata.labels?.[key] ?? '\u0000')
      : (o) => !values.includes(o.metadata.labels?.[key] ?? '\u0000');
  }
  const eq = /^([^!=]*[^!=\s])\s*(==|=|!=)\s*(\S.*)?$/.exec(term);
  if (eq) {
    const [, key = '', op, value = ''] = eq;
    if (!KEY.test(key)) return `invalid label key "${key}"`;
    if (!VALUE.test(value)) return `invalid label value: "${value}"`;
    return op === '!='
      ? (o) => o.metadata.labels?.[key] !== value
      : (o) => o.metadata.labels?.[key] === value;
  }
  const notExists = /^!\s*(\S.*)$/.exec(term);
  if (notExists) {
    const key = notExists[1] ?? '';
    if (!KEY.test(key)) return `invalid label key "${key}"`;
    return (o) => o.metadata.labels?.[key] === undefined;
  }
  if (!KEY.test(term)) return `invalid label key "${term}"`;
  return (o) => o.metadata.labels?.[term] !== undefined;
}

/** `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-separated (AND). */
export function parseLabelSelector(selector: string | undefined): SelectorResult {
  if (selector === undefined || selector.trim() === '') return { ok: true, match: () => true };
  const preds: Predicate[] = [];
  for (const term of splitTerms(selector)) {
    const p = labelTerm(term);
    if (typeof p === 'string') return { ok: false, message: `unable to parse requirement: ${p}` };
    preds.push(p);
  }
  return { ok: true, match: (o) => preds.every((p) => p(o)) };
}

/** Reads a dotted field path such as `involvedObject.name` from an object. */
function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean'
    ? String(cur)
    : '';
}

/** Fields each resource supports in fieldSelector (metadata.name and metadata.namespace always). */
export const FIELD_LABELS: Readonly<Record<string, readonly string[]>> = {
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  jobs: ['status.successful'],
};

export function parseFieldSelector(selector: string | undefined, plural: string): SelectorResult {
  if (selector === undefined || selector.trim() === '') return { ok: true, match: () => true };
  const allowed = ['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[plural] ?? [])];
  const preds: Predicate[] = [];
  for (const term of selector.split(',').map((t) => t.trim())) {
    const m = /^([^!=]*[^!=\s])\s*(==|=|!=)\s*(\S.*)?$/.exec(term);
    if (!m)
      return { ok: false, message: `invalid selector: '${selector}'; can't understand '${term}'` };
    const [, field = '', op, value = ''] = m;
    if (!allowed.includes(field))
      return { ok: false, message: `field label not supported: ${field}` };
    const read = (o: KubeObject): string =>
      field === 'source' ? fieldValue(o, 'source.component') : fieldValue(o, field);
    preds.push(op === '!=' ? (o) => read(o) !== value : (o) => read(o) === value);
  }
  return { ok: true, match: (o) => preds.every((p) => p(o)) };
}
