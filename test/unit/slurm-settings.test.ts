// CONTAINER_ENV=slurm settings: every bad value is a start-up problem naming its variable.
import { describe, expect, it } from 'vitest';
import { readSlurmSettings } from '../../src/backends/slurm/settings.js';
import { createEnvReader } from '../../src/config/env-reader.js';

const BASE = {
  SLURM_URL: 'http://127.0.0.1:6820',
  SLURM_JWT: 'eyJh.eyJl.sig',
  SLURM_USER: 'pmanslurm',
  SLURM_LOG_DIR: '/shared/pman-logs/',
};

function read(env: Record<string, string>) {
  const r = createEnvReader({ ...BASE, ...env });
  return { cfg: readSlurmSettings(r), problems: r.problems };
}

describe('slurm settings', () => {
  it('reads http and unix: endpoints, the token, the runtime and the log dir', () => {
    const { cfg, problems } = read({
      SLURM_CONTAINER_RUNTIME: 'apptainer',
      SLURM_PARTITION: 'pman',
      SLURM_ACCOUNT: 'lab',
    });
    expect(problems).toEqual([]);
    expect(cfg).toMatchObject({
      endpoint: { kind: 'tcp' },
      token: { kind: 'value', token: 'eyJh.eyJl.sig' },
      user: 'pmanslurm',
      apiVersion: 'v0.0.38',
      runtime: 'apptainer',
      partition: 'pman',
      account: 'lab',
      logDir: '/shared/pman-logs',
    });
    expect(read({ SLURM_URL: 'unix:///run/slurmrestd.sock' }).cfg.endpoint).toEqual({
      kind: 'unix',
      socketPath: '/run/slurmrestd.sock',
    });
    expect(read({ SLURM_URL: 'unix:/run/s.sock' }).cfg.endpoint).toEqual({
      kind: 'unix',
      socketPath: '/run/s.sock',
    });
  });

  it('a token as `scontrol token` prints it works; one with spaces or line breaks is refused', () => {
    expect(read({ SLURM_JWT: 'SLURM_JWT=abc.def.ghi' }).cfg.token).toEqual({
      kind: 'value',
      token: 'abc.def.ghi',
    });
    expect(read({ SLURM_JWT: 'abc\ndef' }).problems).toEqual([
      expect.stringMatching(/^SLURM_JWT: is not a token/),
    ]);
  });

  it.each([
    [{ SLURM_URL: '' }, 'SLURM_URL'],
    [{ SLURM_URL: 'unix:relative.sock' }, 'SLURM_URL'],
    [{ SLURM_URL: 'ftp://host' }, 'SLURM_URL'],
    [{ SLURM_URL: 'not a url' }, 'SLURM_URL'],
    [{ SLURM_JWT: '' }, 'SLURM_JWT'],
    [{ SLURM_JWT_FILE: '/run/token' }, 'SLURM_JWT_FILE'],
    [{ SLURM_JWT: '', SLURM_JWT_FILE: 'token' }, 'SLURM_JWT_FILE'],
    [{ SLURM_USER: '' }, 'SLURM_USER'],
    [{ SLURM_USER: 'root' }, 'SLURM_USER'],
    [{ SLURM_USER: 'a: b' }, 'SLURM_USER'],
    [{ SLURM_API_VERSION: 'v0.0.99' }, 'SLURM_API_VERSION'],
    [{ SLURM_CONTAINER_RUNTIME: 'runc' }, 'SLURM_CONTAINER_RUNTIME'],
    [{ SLURM_LOG_DIR: '' }, 'SLURM_LOG_DIR'],
    [{ SLURM_LOG_DIR: 'logs' }, 'SLURM_LOG_DIR'],
    [{ SLURM_LOG_DIR: '/shared/100%x' }, 'SLURM_LOG_DIR'],
    [{ SLURM_POLL_SECONDS: '0' }, 'SLURM_POLL_SECONDS'],
  ])('%j → a problem naming %s', (env, name) => {
    const { problems } = read(env);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.startsWith(`${name}: `))).toBe(true);
  });
});
