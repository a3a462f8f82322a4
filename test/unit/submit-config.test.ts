// EXISTING_JOB and IDEMPOTENCY_TTL_SECONDS (issue 13).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';

describe('submit settings', () => {
  it('default to conflict and one day', () => {
    expect(loadConfig({}).submit).toEqual({
      existingJob: 'conflict',
      idempotencyTtlSeconds: 86_400,
    });
  });

  it('read both variables', () => {
    const config = loadConfig({ EXISTING_JOB: 'rerun-failed', IDEMPOTENCY_TTL_SECONDS: '60' });
    expect(config.submit).toEqual({ existingJob: 'rerun-failed', idempotencyTtlSeconds: 60 });
  });

  it('refuse other values, naming the variable', () => {
    expect(() => loadConfig({ EXISTING_JOB: 'replace' })).toThrow(/EXISTING_JOB/);
    expect(() => loadConfig({ IDEMPOTENCY_TTL_SECONDS: '0' })).toThrow(/IDEMPOTENCY_TTL_SECONDS/);
  });
});
