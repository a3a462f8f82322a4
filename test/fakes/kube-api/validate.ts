// What the API server refuses on Job create (kubernetes.md §8.3): 400 decode errors and 422 field causes.

import { parseQuantity, QUANTITY_REGEX_TEXT } from './quantity.js';
import type { StatusCause } from './status.js';
import type { Container, Job, PodSpec } from './types.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const SUBDOMAIN_TEXT =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const LABEL_TEXT =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_NAME_TEXT =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_TEXT =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** Go's %q for the values the messages quote. */
function q(v: unknown): string {
  return JSON.stringify(typeof v === 'string' ? v : String(v));
}

export function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  const shown = typeof value === 'number' || typeof value === 'boolean' ? String(value) : q(value);
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${detail}`, field };
}

export function required(field: string, detail = ''): StatusCause {
  return {
    reason: 'FieldValueRequired',
    message: detail ? `Required value: ${detail}` : 'Required value',
    field,
  };
}

/** Every quantity in the body must decode; the first that does not makes the whole request a 400. */
export function decodeError(job: Job, kind = 'Job'): string | undefined {
  const all = [
    ...(job.spec.template.spec?.containers ?? []),
    ...(job.spec.template.spec?.initContainers ?? []),
  ];
  for (const c of all) {
    for (const map of [c.resources?.limits, c.resources?.requests]) {
      for (const v of Object.values(map ?? {})) {
        if (parseQuantity(v) === undefined) {
          return `${kind} in version "v1" cannot be handled as a ${kind}: quantities must match the regular expression '${QUANTITY_REGEX_TEXT}'`;
        }
      }
    }
  }
  return undefined;
}

export function validateLabels(labels: unknown, field: string): StatusCause[] {
  if (labels === undefined) return [];
  const out: StatusCause[] = [];
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    const slash = key.lastIndexOf('/');
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    const prefix = slash >= 0 ? key.slice(0, slash) : '';
    if (prefix && (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253)) {
      out.push(invalidValue(field, key, `prefix part ${SUBDOMAIN_TEXT}`));
    }
    if (!LABEL_NAME.test(name)) out.push(invalidValue(field, key, LABEL_NAME_TEXT));
    else if (name.length > 63)
      out.push(invalidValue(field, key, 'name part must be no more than 63 characters'));
    if (typeof value !== 'string') continue;
    if (value.length > 63)
      out.push(invalidValue(field, value, 'must be no more than 63 characters'));
    else if (!LABEL_VALUE.test(value)) out.push(invalidValue(field, value, LABEL_VALUE_TEXT));
  }
  return out;
}

/** Extended resources (a domain-prefixed name outside kubernetes.io) are whole numbers, never overcommitted. */
function isExtended(name: string): boolean {
  return name.includes('/') && !name.startsWith('kubernetes.io/') && !name.startsWith('hugepages-');
}

function validateResources(c: Container, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  for (const [which, map] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const [name, raw] of Object.entries(map)) {
      const v = parseQuantity(raw) ?? 0;
      const field = `${path}.resources.${which}[${name}]`;
      if (v < 0) out.push(invalidValue(field, raw, 'must be greater than or equal to 0'));
      if (isExtended(name) && !Number.isInteger(v))
        out.push(invalidValue(field, raw, 'must be an integer'));
    }
  }
  for (const [name, raw] of Object.entries(requests)) {
    const req = parseQuantity(raw) ?? 0;
    const limRaw = limits[name];
    const field = `${path}.resources.requests`;
    if (isExtended(name)) {
      if (limRaw === undefined) {
        out.push(
          required(
            `${path}.resources.limits`,
            'Limit must be set for non overcommitable resources',
          ),
        );
      } else if (req !== parseQuantity(limRaw)) {
        out.push(
          invalidValue(`${field}[${name}]`, raw, `must be equal to ${name} limit of ${limRaw}`),
        );
      }
    } else if (limRaw !== undefined && req > (parseQuantity(limRaw) ?? 0)) {
      out.push(
        invalidValue(field, raw, `must be less than or equal to ${name} limit of ${limRaw}`),
      );
    }
  }
  return out;
}

function validateContainer(c: Container, path: string, volumes: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  if (!c.name) out.push(required(`${path}.name`));
  else if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) {
    out.push(
      invalidValue(
        `${path}.name`,
        c.name,
        c.name.length > 63 ? 'must be no more than 63 characters' : LABEL_TEXT,
      ),
    );
  }
  if (!c.image) out.push(required(`${path}.image`));
  (c.volumeMounts ?? []).forEach((m, i) => {
    const mp = `${path}.volumeMounts[${i}]`;
    if (!m.name) out.push(required(`${mp}.name`));
    else if (!volumes.has(m.name)) {
      out.push({
        reason: 'FieldValueNotFound',
        message: `Not found: ${q(m.name)}`,
        field: `${mp}.name`,
      });
    }
    if (!m.mountPath) out.push(required(`${mp}.mountPath`));
    if (m.subPath !== undefined && m.subPath !== '') {
      if (m.subPath.startsWith('/'))
        out.push(invalidValue(`${mp}.subPath`, m.subPath, 'must be a relative path'));
      if (m.subPath.split('/').includes('..')) {
        out.push(invalidValue(`${mp}.subPath`, m.subPath, "must not contain '..'"));
      }
    }
  });
  out.push(...validateResources(c, path));
  return out;
}

/** `restartPolicies`: what the owning kind allows (Jobs: OnFailure, Never; Deployments: Always). */
export function validatePodSpec(
  spec: PodSpec | undefined,
  path: string,
  restartPolicies: readonly string[] = ['OnFailure', 'Never'],
): StatusCause[] {
  const out: StatusCause[] = [];
  const volumes = new Set<string>();
  (spec?.volumes ?? []).forEach((v, i) => {
    if (!v.name) out.push(required(`${path}.volumes[${i}].name`));
    else if (!DNS1123_LABEL.test(v.name))
      out.push(invalidValue(`${path}.volumes[${i}].name`, v.name, LABEL_TEXT));
    else volumes.add(v.name);
  });
  const containers = spec?.containers ?? [];
  if (containers.length === 0) out.push(required(`${path}.containers`));
  containers.forEach((c, i) =>
    out.push(...validateContainer(c, `${path}.containers[${i}]`, volumes)),
  );
  const policy = spec?.restartPolicy;
  if (!restartPolicies.includes(policy ?? '')) {
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${q(policy ?? '')}: supported values: ${restartPolicies.map((x) => q(x)).join(', ')}`,
      field: `${path}.restartPolicy`,
    });
  }
  return out;
}

function nonNegative(field: string, v: unknown): StatusCause[] {
  return typeof v === 'number' && v < 0
    ? [invalidValue(field, v, 'must be greater than or equal to 0')]
    : [];
}

/** The 422 causes for a defaulted Job, in the order the real validator reports them. */
export function validateJob(job: Job): StatusCause[] {
  const out: StatusCause[] = [];
  const name = job.metadata.name;
  if (!name) out.push(required('metadata.name', 'name or generateName is required'));
  else if (!DNS1123_SUBDOMAIN.test(name))
    out.push(invalidValue('metadata.name', name, SUBDOMAIN_TEXT));
  out.push(...validateLabels(job.metadata.labels, 'metadata.labels'));
  const s = job.spec;
  out.push(...nonNegative('spec.parallelism', s.parallelism));
  out.push(...nonNegative('spec.completions', s.completions));
  if (typeof s.activeDeadlineSeconds === 'number' && s.activeDeadlineSeconds <= 0) {
    out.push(
      invalidValue('spec.activeDeadlineSeconds', s.activeDeadlineSeconds, 'must be greater than 0'),
    );
  }
  out.push(...nonNegative('spec.backoffLimit', s.backoffLimit));
  out.push(...nonNegative('spec.ttlSecondsAfterFinished', s.ttlSecondsAfterFinished));
  out.push(...validateLabels(s.template.metadata?.labels, 'spec.template.labels'));
  out.push(...validatePodSpec(s.template.spec, 'spec.template.spec'));
  return out;
}
