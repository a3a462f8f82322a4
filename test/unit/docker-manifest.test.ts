// toContainerCreate: the create body of architecture.md §5.1, as golden objects.
import { describe, expect, it } from 'vitest';
import { toContainerCreate } from '../../src/backends/docker/manifest.js';
import { UnsupportedError } from '../../src/domain/errors.js';
import type { JobSpec } from '../../src/domain/job.js';
import { sampleHostMounts, sampleSpec } from '../fixtures.js';

const MIB = 2 ** 20;
const HARD = { ignoreLimits: false, memoryLimitMode: 'hard' } as const;

/** sampleSpec() with an env, a second label and a trailing slash on the outgoing store base. */
function spec(overrides: Partial<JobSpec> = {}): JobSpec {
  return sampleSpec({
    env: { CHRIS_JID: 'chris-jid-42', A: 'b=c' },
    mounts: sampleHostMounts('/var/local/storeBase/'),
    labels: { 'org.chrisproject.managed-by': 'pman', team: 'x' },
    ...overrides,
  });
}

describe('toContainerCreate', () => {
  it('maps the sample spec to the golden body (hard memory mode)', () => {
    expect(toContainerCreate(spec(), HARD)).toStrictEqual({
      name: 'chris-jid-42',
      Image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
      Entrypoint: ['simpledsapp', '--prefix', 'hello_', '/share/incoming', '/share/outgoing'],
      Cmd: [],
      Env: ['CHRIS_JID=chris-jid-42', 'A=b=c'],
      Labels: { 'org.chrisproject.managed-by': 'pman', team: 'x' },
      Tty: false,
      HostConfig: {
        Binds: [
          '/var/local/storeBase/key-chris-jid-42/incoming:/share/incoming:ro',
          '/var/local/storeBase/key-chris-jid-42/outgoing:/share/outgoing:rw',
        ],
        NanoCpus: 1_000_000_000,
        Memory: 200 * MIB,
        MemorySwap: 200 * MIB,
        MemoryReservation: 200 * MIB,
        RestartPolicy: { Name: 'no' },
        SecurityOpt: ['no-new-privileges'],
        PidsLimit: 1024,
        CapDrop: ['ALL'],
        CapAdd: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID'],
        NetworkMode: 'none',
      },
    });
  });

  it('hardening is configurable: no PID limit, no capability trimming, a named network', () => {
    const body = toContainerCreate(spec(), {
      ...HARD,
      hardening: {
        pidsLimit: 0,
        noNewPrivileges: false,
        noNewPrivilegesExplicit: true,
        capDrop: [],
        capAdd: [],
        network: 'plugins',
      },
      managedBy: 'pman-a',
    });
    for (const key of ['PidsLimit', 'CapDrop', 'CapAdd', 'SecurityOpt']) {
      expect(body.HostConfig).not.toHaveProperty(key);
    }
    expect(body.HostConfig?.NetworkMode).toBe('plugins');
    // INSTANCE_ID: our label wins over a JOB_LABELS value of the same key.
    expect(body.Labels?.['org.chrisproject.managed-by']).toBe('pman-a');
  });

  it('soft mode sets only the reservation (pman)', () => {
    const body = toContainerCreate(spec(), { ignoreLimits: false, memoryLimitMode: 'soft' });
    expect(body.HostConfig).toMatchObject({ NanoCpus: 1e9, MemoryReservation: 200 * MIB });
    expect(body.HostConfig).not.toHaveProperty('Memory');
    expect(body.HostConfig).not.toHaveProperty('MemorySwap');
  });

  it('IGNORE_LIMITS drops CPU and memory limits but keeps the GPU request', () => {
    const body = toContainerCreate(
      spec({ resources: { workers: 1, cpuMillicores: 1500, memoryMiB: 300, gpus: 2 } }),
      { ignoreLimits: true, memoryLimitMode: 'hard' },
    );
    for (const key of ['NanoCpus', 'Memory', 'MemorySwap', 'MemoryReservation']) {
      expect(body.HostConfig).not.toHaveProperty(key);
    }
    expect(body.HostConfig?.DeviceRequests).toStrictEqual([
      { Driver: '', Count: 2, Capabilities: [['gpu']] },
    ]);
  });

  it('user, group, shm and GPUs: User = uid, GroupAdd = [gid], ShmSize = MiB × 2^20, DeviceRequests', () => {
    const body = toContainerCreate(
      spec({
        user: { uid: 1001, gid: 0 },
        shmMiB: 64,
        resources: { workers: 1, cpuMillicores: 250, memoryMiB: 6, gpus: 1 },
      }),
      HARD,
    );
    expect(body.User).toBe('1001');
    expect(body.HostConfig).toMatchObject({
      NanoCpus: 250_000_000,
      Memory: 6 * MIB,
      ShmSize: 64 * MIB,
      GroupAdd: ['0'],
      DeviceRequests: [{ Driver: '', Count: 1, Capabilities: [['gpu']] }],
    });
  });

  it('only a gid: no User, the gid as a supplementary group; only a uid: no GroupAdd', () => {
    const gidOnly = toContainerCreate(spec({ user: { gid: 42 } }), HARD);
    expect(gidOnly).not.toHaveProperty('User');
    expect(gidOnly.HostConfig?.GroupAdd).toEqual(['42']);
    const uidOnly = toContainerCreate(spec({ user: { uid: 7 } }), HARD);
    expect(uidOnly.User).toBe('7');
    expect(uidOnly.HostConfig).not.toHaveProperty('GroupAdd');
  });

  it('sets no WorkingDir, no ShmSize without SHM_SIZE and no DeviceRequests without GPUs', () => {
    const body = toContainerCreate(spec(), HARD);
    expect(body).not.toHaveProperty('WorkingDir');
    expect(body).not.toHaveProperty('User');
    expect(body.HostConfig).not.toHaveProperty('ShmSize');
    expect(body.HostConfig).not.toHaveProperty('DeviceRequests');
    expect(body.HostConfig).not.toHaveProperty('GroupAdd');
  });

  it('always carries our managed-by label, even when the spec forgot it', () => {
    const body = toContainerCreate(spec({ labels: { team: 'x' } }), HARD);
    expect(body.Labels).toStrictEqual({ team: 'x', 'org.chrisproject.managed-by': 'pman' });
  });

  it('copies the command, so the body does not alias the spec', () => {
    const s = spec();
    const body = toContainerCreate(s, HARD);
    expect(body.Entrypoint).toEqual(s.command);
    expect(body.Entrypoint).not.toBe(s.command);
  });

  it('refuses a volume mount it cannot realize', () => {
    const s = spec({
      mounts: [
        {
          kind: 'volume',
          source: 'pvc',
          subPath: 'a',
          containerPath: '/share/incoming',
          readOnly: true,
        },
      ],
    });
    expect(() => toContainerCreate(s, HARD)).toThrow(UnsupportedError);
  });
});
