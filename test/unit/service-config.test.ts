// SERVICE_START_TIMEOUT_SECONDS (issue 15): default 120, 1..86400, anything else stops start-up
// naming it.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/errors.js';

const MEMORY = { CONTAINER_ENV: 'memory' };

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('SERVICE_START_TIMEOUT_SECONDS', () => {
  it('defaults to 120 and takes 1..86400', () => {
    expect(loadConfig(MEMORY).service).toEqual({ startTimeoutSeconds: 120 });
    const one = loadConfig({ ...MEMORY, SERVICE_START_TIMEOUT_SECONDS: '1' });
    expect(one.service?.startTimeoutSeconds).toBe(1);
    const day = loadConfig({ ...MEMORY, SERVICE_START_TIMEOUT_SECONDS: '86400' });
    expect(day.service?.startTimeoutSeconds).toBe(86_400);
  });

  it.each(['0', '86401', 'soon', '1.5', '-3'])('%s stops start-up naming it', (value) => {
    const found = problems({ ...MEMORY, SERVICE_START_TIMEOUT_SECONDS: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('SERVICE_START_TIMEOUT_SECONDS');
  });
});
