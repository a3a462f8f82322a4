// Issue 13's create fields on the wire (timeout_seconds, priority, retries, labels) and the label
// merge with JOB_LABELS in toJobSpec.
import { describe, expect, it } from 'vitest';
import { toJobSpec } from '../../src/domain/spec.js';
import { parseJobControl } from '../../src/http/wire/job-control.js';
import { parseCreateRequest } from '../../src/http/wire/request.js';
import { sampleBody, validationFields } from '../fixtures.js';

const MEMORY_RULE = { pattern: /^[^/]+$/, maxLength: 63, rule: 'any' };

const bundleOf = validationFields;

describe('parseJobControl', () => {
  it('reads every field into domain terms, with the backoff default', () => {
    expect(
      parseJobControl({
        timeout_seconds: 30,
        priority: -5,
        retries: { limit: 2, on_exit_codes: [3, 3, 4] },
        labels: { team: 'fnndsc', 'example.org/tier': 'gold' },
      }),
    ).toEqual({
      timeoutSeconds: 30,
      priority: -5,
      retries: { limit: 2, backoffSeconds: 10, onExitCodes: [3, 4] },
      labels: { team: 'fnndsc', 'example.org/tier': 'gold' },
    });
  });

  it('absent or null fields set nothing', () => {
    expect(parseJobControl({})).toEqual({});
    expect(parseJobControl({ timeout_seconds: null, priority: null, labels: null })).toEqual({});
  });

  it('bundles every bad field under its wire name', () => {
    expect(
      bundleOf(() =>
        parseJobControl({
          timeout_seconds: 0,
          priority: 1.5,
          retries: { limit: 21, backof_seconds: 1 },
          labels: { 'bad key!': 'x' },
        }),
      ),
    ).toEqual({
      timeout_seconds: 'must be at least 1, got 0',
      priority: 'must be an integer',
      retries: 'limit: must be at most 20, got 21; unknown field(s) backof_seconds',
      labels: expect.stringContaining('label key "bad key!" is not a valid name') as string,
    });
  });

  it('names the member of retries at fault', () => {
    expect(bundleOf(() => parseJobControl({ retries: { limit: 1, on_exit_codes: [0] } }))).toEqual({
      retries: 'on_exit_codes.0: must be at least 1, got 0',
    });
    expect(bundleOf(() => parseJobControl({ retries: 3 }))).toEqual({
      retries: 'must be an object such as {"limit": 2}',
    });
  });

  it('refuses strings for numbers (no pman int() coercion: these fields are new)', () => {
    expect(bundleOf(() => parseJobControl({ timeout_seconds: '30' }))).toEqual({
      timeout_seconds: 'must be an integer',
    });
  });

  it('refuses more than 32 labels, non-string values and reserved keys', () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
    expect(bundleOf(() => parseJobControl({ labels: many }))).toEqual({
      labels: 'must have at most 32 labels, got 33',
    });
    expect(bundleOf(() => parseJobControl({ labels: { a: 1 } }))).toEqual({
      labels: 'label "a" must have a string value',
    });
    expect(bundleOf(() => parseJobControl({ labels: ['a=b'] }))).toEqual({
      labels: 'must be an object of "key": "value" strings',
    });
    for (const key of ['org.chrisproject.managed-by', 'app.kubernetes.io/managed-by', 'job-name']) {
      expect(bundleOf(() => parseJobControl({ labels: { [key]: 'x' } }))).toEqual({
        labels: `label key "${key}" is reserved for pman's own use`,
      });
    }
  });
});

describe('the create request with issue-13 fields', () => {
  it('carries them through parseCreateRequest; without them the request is as before', () => {
    const plain = parseCreateRequest(sampleBody(), {}, MEMORY_RULE, 'memory');
    expect(plain).not.toHaveProperty('priority');
    expect(plain).not.toHaveProperty('labels');
    const req = parseCreateRequest(
      { ...sampleBody(), priority: 7, labels: { team: 'a' } },
      {},
      MEMORY_RULE,
      'memory',
    );
    expect(req.priority).toBe(7);
    expect(req.labels).toEqual({ team: 'a' });
  });

  it('merges labels after JOB_LABELS and refuses overriding one of them', () => {
    const storage = { type: 'host', storeBase: '/sb' } as const;
    const settings = { homeWorkaround: false, jobLabels: { site: 'bch' } };
    const req = parseCreateRequest(
      { ...sampleBody(), labels: { team: 'a' }, timeout_seconds: 5, retries: { limit: 1 } },
      {},
      MEMORY_RULE,
      'memory',
    );
    const spec = toJobSpec(req, settings, storage);
    expect(spec.labels).toEqual({ site: 'bch', team: 'a' });
    expect(spec.userLabels).toEqual({ team: 'a' });
    expect(spec.priority).toBe(0);
    expect(spec.timeoutSeconds).toBe(5);
    expect(spec.retries).toEqual({ limit: 1, backoffSeconds: 10 });
    expect(
      bundleOf(() => toJobSpec({ ...req, labels: { site: 'other' } }, settings, storage)),
    ).toEqual({ labels: 'label key "site" is set by JOB_LABELS and cannot be overridden' });
  });
});

describe('the stored JobSpec with issue-13 fields', () => {
  it('round-trips them, and a spec stored before them still loads (no priority: 0 is meant)', async () => {
    const { parseJobSpec } = await import('../../src/store/job-spec.js');
    const storage = { type: 'host', storeBase: '/sb' } as const;
    const req = parseCreateRequest(
      {
        ...sampleBody(),
        labels: { team: 'a' },
        timeout_seconds: 9,
        priority: 5,
        retries: { limit: 2, backoff_seconds: 1.5, on_exit_codes: [3] },
      },
      {},
      MEMORY_RULE,
      'memory',
    );
    const spec = toJobSpec(req, { homeWorkaround: false, jobLabels: {} }, storage);
    expect(parseJobSpec(JSON.stringify(spec))).toEqual(spec);
    const old: Record<string, unknown> = { ...spec };
    for (const key of ['priority', 'userLabels', 'timeoutSeconds', 'retries']) delete old[key];
    const loaded = parseJobSpec(JSON.stringify(old));
    expect(loaded.priority).toBeUndefined();
    expect(loaded.labels).toEqual({ team: 'a' });
  });
});
