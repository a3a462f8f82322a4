// Slurm job states → the five pman statuses (src/backends/slurm/status.ts): every known state has
// a defined status, exit codes come from the wait status, and the message carries Slurm's reason.
import { describe, expect, it } from 'vitest';
import { exitCodeOf, fromSlurmJob, gpusOf, SLURM_STATES } from '../../src/backends/slurm/status.js';
import type { SlurmJob } from '../../src/backends/slurm/status.js';
import { JOB_STATUSES } from '../../src/domain/job.js';

const META = { image: 'busybox', command: ['/bin/sh', '-c', 'true'] };

function job(over: Partial<SlurmJob> = {}): SlurmJob {
  return {
    job_id: 7,
    name: 'j',
    comment: '',
    job_state: 'PENDING',
    state_reason: 'None',
    state_description: '',
    exit_code: { code: 0, signal: 0 },
    submit_time: 1_700_000_000,
    start_time: 0,
    end_time: 0,
    ...over,
  };
}

describe('the Slurm state table', () => {
  it('maps every state the issue names, never to undefined', () => {
    const named = [
      'PENDING',
      'RUNNING',
      'COMPLETED',
      'FAILED',
      'TIMEOUT',
      'CANCELLED',
      'OUT_OF_MEMORY',
      'NODE_FAIL',
      'PREEMPTED',
      'BOOT_FAIL',
      'DEADLINE',
      'SUSPENDED',
      'COMPLETING',
      'CONFIGURING',
      'REQUEUED',
    ];
    for (const state of named) {
      const info = fromSlurmJob(job({ job_state: state }), META);
      expect(info.status, state).not.toBe('undefined');
      expect(JOB_STATUSES).toContain(info.status);
    }
    for (const [state, status] of Object.entries(SLURM_STATES)) {
      expect(fromSlurmJob(job({ job_state: state }), META).status).toBe(status);
    }
  });

  it.each([
    ['PENDING', 'notstarted'],
    ['CONFIGURING', 'notstarted'],
    ['REQUEUED', 'notstarted'],
    ['RUNNING', 'started'],
    ['SUSPENDED', 'started'],
    ['COMPLETING', 'started'],
    ['COMPLETED', 'finishedSuccessfully'],
    ['FAILED', 'finishedWithError'],
    ['TIMEOUT', 'finishedWithError'],
    ['CANCELLED', 'finishedWithError'],
    ['OUT_OF_MEMORY', 'finishedWithError'],
    ['NODE_FAIL', 'finishedWithError'],
    ['PREEMPTED', 'finishedWithError'],
    ['BOOT_FAIL', 'finishedWithError'],
    ['DEADLINE', 'finishedWithError'],
  ])('%s → %s', (state, status) => {
    expect(fromSlurmJob(job({ job_state: state }), META).status).toBe(status);
  });

  it('an unknown future state is undefined with its name, never guessed', () => {
    expect(fromSlurmJob(job({ job_state: 'WARPED' }), META)).toMatchObject({
      status: 'undefined',
      message: 'WARPED',
    });
  });

  it('a pending job carries Slurm’s reason', () => {
    expect(fromSlurmJob(job({ state_reason: 'Resources' }), META).message).toBe(
      'pending (Resources)',
    );
    expect(fromSlurmJob(job({ state_reason: 'Priority' }), META).message).toBe(
      'pending (Priority)',
    );
  });

  it('exit codes: the code, or 128 + the signal; 137 says out of memory; only when terminal', () => {
    const failed = fromSlurmJob(
      job({ job_state: 'FAILED', exit_code: { code: 3, signal: 0 }, end_time: 1_700_000_100 }),
      META,
    );
    expect(failed).toMatchObject({ status: 'finishedWithError', exitCode: 3 });
    expect(failed.message).toBe('failed (exit code 3)');
    expect(failed.timestamp).toBe(new Date(1_700_000_100_000).toISOString());
    const oom = fromSlurmJob(
      job({ job_state: 'FAILED', exit_code: { code: 137, signal: 0 } }),
      META,
    );
    expect(oom.message).toMatch(/137.*out of memory/);
    const killed = job({ job_state: 'CANCELLED', exit_code: { code: 0, signal: 15 } });
    expect(exitCodeOf(killed)).toBe(143);
    expect(fromSlurmJob(killed, META).message).toBe('cancelled');
    const running = fromSlurmJob(job({ job_state: 'RUNNING', start_time: 1_700_000_050 }), META);
    expect(running.exitCode).toBeUndefined();
    expect(running.timestamp).toBe(new Date(1_700_000_050_000).toISOString());
    expect(fromSlurmJob(job({ job_state: 'OUT_OF_MEMORY' }), META).message).toMatch(/OOM/);
  });

  it('counts GPUs in a node’s gres', () => {
    expect(gpusOf('')).toBe(0);
    expect(gpusOf('gpu:2')).toBe(2);
    expect(gpusOf('gpu:a100:4(S:0-1),shard:8,gpu:t4:1')).toBe(5);
  });
});
