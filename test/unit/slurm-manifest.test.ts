// A JobSpec → the slurmrestd submit body (src/backends/slurm/manifest.ts) and the slurm settings.
import { describe, expect, it } from 'vitest';
import {
  commentOf,
  parseComment,
  runFiles,
  timeLimitMinutes,
  toSubmitBody,
  wholeCpus,
} from '../../src/backends/slurm/manifest.js';
import { parseSlurmUrl, readSlurmSettings } from '../../src/backends/slurm/settings.js';
import { createEnvReader } from '../../src/config/env-reader.js';
import { InvalidSpecError } from '../../src/domain/errors.js';
import type { JobSpec } from '../../src/domain/job.js';
import { sampleSpec } from '../fixtures.js';

const CFG = { runtime: 'docker', logDir: '/shared/logs', partition: 'batch' } as const;
const MARK = { managedBy: 'pman', nonce: 'abc123', labels: { team: 'x' } };

describe('toSubmitBody', () => {
  it('CPUs rounded up, memory, name, comment, output file, no requeue', () => {
    const spec: JobSpec = sampleSpec({
      name: 'jid-1',
      resources: { workers: 1, cpuMillicores: 1500, memoryMiB: 300, gpus: 0 },
    });
    const { job, script } = toSubmitBody(spec, CFG, MARK);
    expect(job).toMatchObject({
      name: 'jid-1',
      partition: 'batch',
      cpus_per_task: 2,
      memory_per_node: 300,
      tasks: 1,
      nodes: [1, 1],
      requeue: false,
      current_working_directory: '/shared/logs',
      standard_output: '/shared/logs/jid-1.abc123.log',
      comment: 'managed-by=pman;run=abc123;labels={"team":"x"}',
    });
    expect(job).not.toHaveProperty('gres');
    expect(job).not.toHaveProperty('time_limit');
    expect(job).not.toHaveProperty('account');
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
  });

  it('GPUs become gres, the deadline becomes minutes, the account is passed', () => {
    const spec = {
      ...sampleSpec({ resources: { workers: 1, cpuMillicores: 100, memoryMiB: 64, gpus: 2 } }),
      timeoutSeconds: 61,
    };
    const { job } = toSubmitBody(spec, { ...CFG, account: 'lab' }, MARK);
    expect(job).toMatchObject({ gres: 'gpu:2', time_limit: 2, account: 'lab', cpus_per_task: 1 });
  });

  it('a volume mount is refused', () => {
    const spec = sampleSpec();
    const mounts = spec.mounts.map((m) => ({ ...m, kind: 'volume' as const }));
    expect(() => toSubmitBody({ ...spec, mounts }, CFG, MARK)).toThrow(InvalidSpecError);
  });
});

describe('rounding', () => {
  it.each([
    [1, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [2500, 3],
  ])('%i millicores → %i CPUs', (m, cpus) => {
    expect(wholeCpus(m)).toBe(cpus);
  });
  it('time limits', () => {
    expect(timeLimitMinutes(undefined)).toBeUndefined();
    expect(timeLimitMinutes(1)).toBe(1);
    expect(timeLimitMinutes(60)).toBe(1);
    expect(timeLimitMinutes(3601)).toBe(61);
  });
});

describe('the comment marker', () => {
  it('round-trips and tells our instance from others', () => {
    const comment = commentOf(MARK);
    expect(parseComment(comment, 'pman')).toEqual({ nonce: 'abc123' });
    expect(parseComment(comment, 'pman-other')).toBeUndefined();
    expect(parseComment('a user comment', 'pman')).toBeUndefined();
    expect(parseComment('', 'pman')).toBeUndefined();
  });
  it('labels too long for Slurm are refused', () => {
    expect(() => commentOf({ ...MARK, labels: { k: 'v'.repeat(1100) } })).toThrow(InvalidSpecError);
  });
  it('run files live in the log dir', () => {
    expect(runFiles('/l', 'j', 'n')).toEqual({ log: '/l/j.n.log', meta: '/l/j.n.json' });
  });
});

describe('slurm settings', () => {
  const read = (env: Record<string, string>) => {
    const r = createEnvReader(env);
    return { settings: readSlurmSettings(r), problems: r.problems };
  };
  const OK = {
    SLURM_URL: 'http://127.0.0.1:6820/',
    SLURM_JWT: 't',
    SLURM_USER: 'pman',
    SLURM_LOG_DIR: '/shared/logs/',
  };

  it('reads every variable, with defaults', () => {
    const { settings, problems } = read(OK);
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      kind: 'slurm',
      user: 'pman',
      apiVersion: 'v0.0.38',
      runtime: 'docker',
      logDir: '/shared/logs',
      pollSeconds: 2,
      token: { kind: 'value', token: 't' },
    });
    const full = read({
      ...OK,
      SLURM_JWT: '',
      SLURM_JWT_FILE: '/run/secrets/jwt',
      SLURM_PARTITION: 'p',
      SLURM_ACCOUNT: 'a',
      SLURM_CONTAINER_RUNTIME: 'apptainer',
      SLURM_POLL_SECONDS: '5',
    });
    expect(full.problems).toEqual([]);
    expect(full.settings).toMatchObject({
      token: { kind: 'file', path: '/run/secrets/jwt' },
      partition: 'p',
      account: 'a',
      runtime: 'apptainer',
      pollSeconds: 5,
    });
  });

  it('names each missing or bad variable', () => {
    expect(read({}).problems.map((p) => p.split(':')[0])).toEqual([
      'SLURM_URL',
      'SLURM_JWT',
      'SLURM_USER',
      'SLURM_LOG_DIR',
    ]);
    const bad = read({
      ...OK,
      SLURM_URL: 'ftp://x',
      SLURM_USER: 'root',
      SLURM_CONTAINER_RUNTIME: 'lxc',
      SLURM_API_VERSION: 'v0.0.36',
      SLURM_JWT_FILE: 'relative',
    });
    expect(bad.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'SLURM_API_VERSION',
      'SLURM_CONTAINER_RUNTIME',
      'SLURM_JWT_FILE',
      'SLURM_URL',
      'SLURM_USER',
    ]);
  });

  it('SLURM_URL: http(s) or a unix socket', () => {
    expect(parseSlurmUrl('unix:/run/slurmrestd.sock')).toEqual({
      kind: 'unix',
      socketPath: '/run/slurmrestd.sock',
    });
    expect(parseSlurmUrl('unix:///run/s.sock')).toEqual({
      kind: 'unix',
      socketPath: '/run/s.sock',
    });
    expect(typeof parseSlurmUrl('unix:relative')).toBe('string');
    expect(parseSlurmUrl('http://127.0.0.1:6820')).toMatchObject({ kind: 'tcp' });
    expect(typeof parseSlurmUrl('http://h/?x=1')).toBe('string');
  });
});
