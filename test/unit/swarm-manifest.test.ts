// toServiceSpec: the golden ServiceSpec of architecture.md §5.1 (Swarm table) and its refusals.
import { describe, expect, it } from 'vitest';
import { defaultJobHardening } from '../../src/backends/shared/job-hardening.js';
import { toServiceSpec } from '../../src/backends/swarm/manifest.js';
import { UnsupportedError } from '../../src/domain/errors.js';
import type { JobSpec } from '../../src/domain/job.js';
import { sampleHostMounts, sampleSpec } from '../fixtures.js';

/** sampleSpec() with a Docker Hub image, an env, a second label and "storeBase/" for outgoing. */
function baseSpec(extra: Partial<JobSpec> = {}): JobSpec {
  return sampleSpec({
    image: 'fnndsc/pl-simpledsapp:2.1.0',
    env: { CHRIS_JID: 'chris-jid-42', B: 'x=y', A: '' },
    mounts: sampleHostMounts('/var/local/storeBase/'),
    labels: { 'org.chrisproject.managed-by': 'pman', team: 'fnndsc' },
    ...extra,
  });
}

describe('toServiceSpec', () => {
  it('builds the golden ServiceSpec with every pman field honoured', () => {
    const spec = baseSpec({
      user: { uid: 1001, gid: 2002 },
      shmMiB: 64,
      resources: { workers: 1, cpuMillicores: 1500, memoryMiB: 200, gpus: 2 },
    });
    expect(toServiceSpec(spec, { gpuResource: 'NVIDIA-GPU' })).toStrictEqual({
      Name: 'chris-jid-42',
      Labels: { 'org.chrisproject.managed-by': 'pman', team: 'fnndsc' },
      TaskTemplate: {
        ContainerSpec: {
          Image: 'fnndsc/pl-simpledsapp:2.1.0',
          Command: ['simpledsapp', '--prefix', 'hello_', '/share/incoming', '/share/outgoing'],
          Env: ['CHRIS_JID=chris-jid-42', 'B=x=y', 'A='],
          Labels: { 'org.chrisproject.managed-by': 'pman', team: 'fnndsc' },
          TTY: true,
          User: '1001',
          Groups: ['2002'],
          Mounts: [
            {
              Type: 'bind',
              Source: '/var/local/storeBase/key-chris-jid-42/incoming',
              Target: '/share/incoming',
              ReadOnly: true,
            },
            {
              Type: 'bind',
              Source: '/var/local/storeBase/key-chris-jid-42/outgoing',
              Target: '/share/outgoing',
              ReadOnly: false,
            },
            { Type: 'tmpfs', Target: '/dev/shm', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024 } },
          ],
        },
        RestartPolicy: { Condition: 'none' },
        Resources: {
          Limits: { NanoCPUs: 1_500_000_000, MemoryBytes: 200 * 1024 * 1024 },
          Reservations: {
            GenericResources: [{ DiscreteResourceSpec: { Kind: 'NVIDIA-GPU', Value: 2 } }],
          },
        },
      },
      Mode: { Replicated: { Replicas: 1 } },
    });
  });

  it('omits User, Groups, the shm tmpfs and GPU reservations when not asked for', () => {
    const out = toServiceSpec(baseSpec(), {});
    const container = out.TaskTemplate.ContainerSpec;
    expect(container).not.toHaveProperty('User');
    expect(container).not.toHaveProperty('Groups');
    expect(container.Mounts.map((m) => m.Type)).toEqual(['bind', 'bind']);
    expect(out.TaskTemplate.Resources).toStrictEqual({
      Limits: { NanoCPUs: 1_000_000_000, MemoryBytes: 209_715_200 },
    });
  });

  it('sets only the side of CONTAINER_USER that is given', () => {
    const onlyGid = toServiceSpec(baseSpec({ user: { gid: 0 } }), {}).TaskTemplate.ContainerSpec;
    expect(onlyGid).not.toHaveProperty('User');
    expect(onlyGid.Groups).toEqual(['0']);
    const onlyUid = toServiceSpec(baseSpec({ user: { uid: 0 } }), {}).TaskTemplate.ContainerSpec;
    expect(onlyUid.User).toBe('0');
    expect(onlyUid).not.toHaveProperty('Groups');
  });

  it('keeps the env in request order and never shares label objects with the spec', () => {
    const spec = baseSpec();
    const out = toServiceSpec(spec, {});
    expect(out.TaskTemplate.ContainerSpec.Env).toEqual(['CHRIS_JID=chris-jid-42', 'B=x=y', 'A=']);
    expect(out.Labels).not.toBe(spec.labels);
    expect(out.TaskTemplate.ContainerSpec.Labels).not.toBe(out.Labels);
    expect(out.TaskTemplate.ContainerSpec.Command).not.toBe(spec.command);
  });

  it('always carries our managed-by label, so a restarted server finds the job again', () => {
    const out = toServiceSpec(
      baseSpec({ labels: { team: 'x', 'org.chrisproject.managed-by': 'someone-else' } }),
      {},
    );
    expect(out.Labels).toEqual({ team: 'x', 'org.chrisproject.managed-by': 'pman' });
    expect(out.TaskTemplate.ContainerSpec.Labels).toEqual(out.Labels);
  });

  it('hardening: capabilities, PID limit, the job network and the instance label (issue 10)', () => {
    const out = toServiceSpec(baseSpec(), {
      hardening: defaultJobHardening('pman-jobs'),
      noNewPrivileges: false,
      managedBy: 'pman-a',
    });
    const c = out.TaskTemplate.ContainerSpec;
    expect(c.CapabilityDrop).toEqual(['ALL']);
    expect(c.CapabilityAdd).toEqual([
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_SETUID',
      'CAP_SETGID',
    ]);
    expect(c).not.toHaveProperty('Privileges');
    expect(out.TaskTemplate.Resources.Limits.Pids).toBe(1024);
    expect(out.TaskTemplate.Networks).toEqual([{ Target: 'pman-jobs' }]);
    expect(out.Labels['org.chrisproject.managed-by']).toBe('pman-a');
    // JOB_NETWORK=bridge: no network in the spec (pman's old behaviour); an honoured NNP is sent.
    const open = toServiceSpec(baseSpec(), {
      hardening: { ...defaultJobHardening('bridge'), pidsLimit: 0 },
      noNewPrivileges: true,
    });
    expect(open.TaskTemplate).not.toHaveProperty('Networks');
    expect(open.TaskTemplate.Resources.Limits).not.toHaveProperty('Pids');
    expect(open.TaskTemplate.ContainerSpec.Privileges).toEqual({ NoNewPrivileges: true });
  });

  it('refuses GPUs without SWARM_GPU_RESOURCE, naming the reason', () => {
    const spec = baseSpec({
      resources: { workers: 1, cpuMillicores: 1000, memoryMiB: 200, gpus: 1 },
    });
    expect(() => toServiceSpec(spec, {})).toThrow(UnsupportedError);
    expect(() => toServiceSpec(spec, {})).toThrow(/SWARM_GPU_RESOURCE/);
  });

  it("refuses number_of_workers other than 1 with pman's text", () => {
    const spec = baseSpec({
      resources: { workers: 2, cpuMillicores: 1000, memoryMiB: 200, gpus: 0 },
    });
    expect(() => toServiceSpec(spec, {})).toThrow(
      'Compute environment only supports number_of_workers=1, got number_of_workers=2',
    );
  });

  it('refuses a volume (PVC) mount, which Swarm cannot realize', () => {
    const spec = baseSpec({
      mounts: [
        {
          kind: 'volume',
          source: 'pvc',
          subPath: 'x',
          containerPath: '/share/incoming',
          readOnly: true,
        },
      ],
    });
    expect(() => toServiceSpec(spec, {})).toThrow(UnsupportedError);
  });

  describe('service jobs (issue 15)', () => {
    const service = { port: 8080, exposure: 'ClusterIP' as const };
    const hardened = { hardening: defaultJobHardening('pman-jobs'), managedBy: 'pman-a' };

    it('restarts on any end after a delay, publishes the port without picking one, labels it', () => {
      const out = toServiceSpec(baseSpec({ service }), {
        ...hardened,
        service: { publishMode: 'host', network: 'bridge' },
      });
      expect(out.TaskTemplate.RestartPolicy).toStrictEqual({
        Condition: 'any',
        Delay: 3_000_000_000,
        MaxAttempts: 0,
      });
      expect(out.EndpointSpec).toStrictEqual({
        Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }],
      });
      expect(out.Mode).toStrictEqual({ Replicated: { Replicas: 1 } });
      expect(out.Labels).toStrictEqual({
        'org.chrisproject.managed-by': 'pman-a',
        team: 'fnndsc',
        'pman.service.port': '8080',
      });
      expect(out.TaskTemplate.ContainerSpec.Labels).toStrictEqual(out.Labels);
      // SERVICE_NETWORK=bridge: no network, and never the internal job overlay (its host-mode
      // port is not published at all).
      expect(out.TaskTemplate).not.toHaveProperty('Networks');
    });

    it('keeps limits, mounts and hardening as for a batch job; only restart, port and label differ', () => {
      const batch = toServiceSpec(baseSpec({ shmMiB: 16 }), hardened);
      const svc = toServiceSpec(baseSpec({ shmMiB: 16, service }), hardened);
      expect(svc.TaskTemplate.Resources).toStrictEqual(batch.TaskTemplate.Resources);
      expect(svc.TaskTemplate.ContainerSpec.Mounts).toStrictEqual(
        batch.TaskTemplate.ContainerSpec.Mounts,
      );
      const { Labels: _l, ...svcContainer } = svc.TaskTemplate.ContainerSpec;
      const { Labels: _b, ...batchContainer } = batch.TaskTemplate.ContainerSpec;
      expect(svcContainer).toStrictEqual(batchContainer);
      expect(svcContainer.CapabilityDrop).toEqual(['ALL']);
    });

    it('host mode pins the port picked at create (the swarm would pick a new one per task)', () => {
      const out = toServiceSpec(baseSpec({ service }), {
        service: { publishMode: 'host', network: 'bridge', publishedPort: 41234 },
      });
      expect(out.EndpointSpec).toStrictEqual({
        Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host', PublishedPort: 41234 }],
      });
    });

    it('ingress by default; SERVICE_NETWORK names the overlay it joins', () => {
      const byDefault = toServiceSpec(baseSpec({ service }), hardened);
      expect(byDefault.EndpointSpec?.Ports[0].PublishMode).toBe('ingress');
      expect(byDefault.TaskTemplate).not.toHaveProperty('Networks');
      const named = toServiceSpec(baseSpec({ service }), {
        ...hardened,
        service: { publishMode: 'ingress', network: 'algo-net' },
      });
      expect(named.TaskTemplate.Networks).toEqual([{ Target: 'algo-net' }]);
    });

    it('a batch job is unchanged: restart none, no endpoint, and a user label cannot fake the port label', () => {
      const out = toServiceSpec(
        baseSpec({ labels: { team: 'x', 'pman.service.port': '80' } }),
        hardened,
      );
      expect(out.TaskTemplate.RestartPolicy).toStrictEqual({ Condition: 'none' });
      expect(out).not.toHaveProperty('EndpointSpec');
      expect(out.Labels).toStrictEqual({ team: 'x', 'org.chrisproject.managed-by': 'pman-a' });
      expect(out.TaskTemplate.Networks).toEqual([{ Target: 'pman-jobs' }]);
    });
  });
});
