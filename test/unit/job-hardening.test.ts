// JOB_* hardening settings of the engine backends (issue 10, 9 and 4): defaults, parsing, refusals.
import { describe, expect, it } from 'vitest';
import { createEnvReader } from '../../src/config/env-reader.js';
import { readInstanceId } from '../../src/config/instance.js';
import { readJobHardening } from '../../src/backends/shared/job-hardening.js';
import { managedByValue } from '../../src/backends/shared/labels.js';
import { swarmHardeningSupport } from '../../src/backends/swarm/hardening.js';

function read(env: Record<string, string>): {
  h: ReturnType<typeof readJobHardening>;
  problems: readonly string[];
} {
  const r = createEnvReader(env);
  const h = readJobHardening(r, 'none');
  return { h, problems: r.problems };
}

describe('readJobHardening', () => {
  it('defaults: 1024 pids, no-new-privileges, drop ALL, add back the five pfcon needs, network none', () => {
    const { h, problems } = read({});
    expect(problems).toEqual([]);
    expect(h).toEqual({
      pidsLimit: 1024,
      noNewPrivileges: true,
      noNewPrivilegesExplicit: false,
      capDrop: ['ALL'],
      capAdd: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID'],
      network: 'none',
    });
  });

  it('reads each variable; capability names gain CAP_, "none" empties a list', () => {
    const { h, problems } = read({
      JOB_PIDS_LIMIT: '0',
      JOB_NO_NEW_PRIVILEGES: 'no',
      JOB_CAP_DROP: 'net_raw, MKNOD',
      JOB_CAP_ADD: 'none',
      JOB_NETWORK: 'plugins',
    });
    expect(problems).toEqual([]);
    expect(h).toMatchObject({
      pidsLimit: 0,
      noNewPrivileges: false,
      noNewPrivilegesExplicit: true,
      capDrop: ['CAP_NET_RAW', 'CAP_MKNOD'],
      capAdd: [],
      network: 'plugins',
    });
  });

  it('refuses bad values with one line per variable', () => {
    const { problems } = read({
      JOB_PIDS_LIMIT: '-1',
      JOB_NO_NEW_PRIVILEGES: 'maybe',
      JOB_CAP_ADD: 'CHOWN,rm -rf',
      JOB_NETWORK: 'a b',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'JOB_CAP_ADD',
      'JOB_NETWORK',
      'JOB_NO_NEW_PRIVILEGES',
      'JOB_PIDS_LIMIT',
    ]);
  });
});

describe('swarmHardeningSupport', () => {
  const h = (env: Record<string, string>) => read(env).h;

  it('API 1.41: caps and pids go through; the default no-new-privileges is a warning, not sent', () => {
    const s = swarmHardeningSupport(h({}), { ApiVersion: '1.41' });
    expect(s.noNewPrivileges).toBe(false);
    expect(s.warning).toMatch(/no-new-privileges/);
  });

  it('API 1.41: an explicit JOB_NO_NEW_PRIVILEGES=yes is refused at start-up', () => {
    expect(() =>
      swarmHardeningSupport(h({ JOB_NO_NEW_PRIVILEGES: 'yes' }), { ApiVersion: '1.41' }),
    ).toThrow(/JOB_NO_NEW_PRIVILEGES/);
  });

  it('API 1.40: caps and pids are refused; API 1.46 honours everything', () => {
    expect(() => swarmHardeningSupport(h({}), { ApiVersion: '1.40' })).toThrow(/JOB_CAP_DROP/);
    expect(swarmHardeningSupport(h({}), { ApiVersion: '1.46' })).toEqual({ noNewPrivileges: true });
  });
});

describe('INSTANCE_ID', () => {
  it('unset keeps the managed-by value "pman" (jobs from before an upgrade stay ours)', () => {
    const r = createEnvReader({});
    expect(managedByValue(readInstanceId(r))).toBe('pman');
  });

  it('set: "pman-<id>"; malformed: one problem naming it', () => {
    expect(managedByValue(readInstanceId(createEnvReader({ INSTANCE_ID: 'lab-2' })))).toBe(
      'pman-lab-2',
    );
    const r = createEnvReader({ INSTANCE_ID: 'Bad/ID' });
    expect(readInstanceId(r)).toBeUndefined();
    expect(r.problems[0]).toMatch(/^INSTANCE_ID: /);
  });
});
