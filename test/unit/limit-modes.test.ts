// MEMORY_LIMIT_MODE and IGNORE_LIMITS on Swarm and Kubernetes (issue 13), through the pure manifest
// functions: hard (default) limits CPU and memory; soft keeps the CPU limit and only reserves
// (requests) the memory; IGNORE_LIMITS sets no limits (Kubernetes keeps requests). GPUs stay in
// every mode. Also the cancel grace and the deadline backstop the manifests carry.
import { describe, expect, it } from 'vitest';
import { toJob } from '../../src/backends/kubernetes/manifest.js';
import type { ManifestOptions } from '../../src/backends/kubernetes/manifest.js';
import { DEADLINE_BACKSTOP_SECONDS } from '../../src/backends/kubernetes/settings.js';
import { toServiceSpec } from '../../src/backends/swarm/manifest.js';
import { loadConfig } from '../../src/config/config.js';
import { sampleSpec } from '../fixtures.js';

const MIB = 2 ** 20;
const spec = sampleSpec({
  resources: { workers: 1, cpuMillicores: 1500, memoryMiB: 200, gpus: 2 },
  mounts: [
    {
      kind: 'volume',
      source: 'pvc',
      subPath: 'in',
      containerPath: '/share/incoming',
      readOnly: true,
    },
  ],
});

const kube: ManifestOptions = {
  profile: 'kubernetes',
  namespace: 'chris',
  nodeSelector: {},
  tolerations: [],
  requestRatio: 1,
  imagePullSecrets: [],
  ttlSecondsAfterFinished: 86400,
  activeDeadlineSeconds: 604800,
  gpuResourceName: 'nvidia.com/gpu',
  runAsNonRoot: false,
  managedBy: 'pman',
};

function kubeResources(opts: Partial<ManifestOptions>): unknown {
  return toJob(spec, { ...kube, ...opts }).spec?.template.spec?.containers[0]?.resources;
}

describe('swarm limit modes', () => {
  const swarmSpec = {
    ...sampleSpec(),
    resources: { workers: 1, cpuMillicores: 1500, memoryMiB: 200, gpus: 2 },
  };
  const resources = (limits?: { ignoreLimits: boolean; memoryLimitMode: 'hard' | 'soft' }) =>
    toServiceSpec(swarmSpec, { gpuResource: 'NVIDIA-GPU', ...(limits !== undefined && { limits }) })
      .TaskTemplate.Resources;
  const gpu = { GenericResources: [{ DiscreteResourceSpec: { Kind: 'NVIDIA-GPU', Value: 2 } }] };

  it('hard (the default): CPU and memory limits', () => {
    const expected = { Limits: { NanoCPUs: 1.5e9, MemoryBytes: 200 * MIB }, Reservations: gpu };
    expect(resources()).toStrictEqual(expected);
    expect(resources({ ignoreLimits: false, memoryLimitMode: 'hard' })).toStrictEqual(expected);
  });

  it('soft: the CPU limit and a memory reservation, no memory limit', () => {
    expect(resources({ ignoreLimits: false, memoryLimitMode: 'soft' })).toStrictEqual({
      Limits: { NanoCPUs: 1.5e9 },
      Reservations: { MemoryBytes: 200 * MIB, ...gpu },
    });
  });

  it('IGNORE_LIMITS: no CPU or memory limit or reservation (pman on Swarm); GPUs stay', () => {
    expect(resources({ ignoreLimits: true, memoryLimitMode: 'hard' })).toStrictEqual({
      Limits: {},
      Reservations: gpu,
    });
  });

  it('carries CANCEL_GRACE_SECONDS as the task StopGracePeriod', () => {
    const out = toServiceSpec(swarmSpec, { gpuResource: 'NVIDIA-GPU', stopGraceSeconds: 7 });
    expect(out.TaskTemplate.ContainerSpec.StopGracePeriod).toBe(7e9);
  });
});

describe('kubernetes limit modes', () => {
  it('hard (the default): CPU and memory limits', () => {
    const expected = { limits: { cpu: '1500m', memory: '200Mi', 'nvidia.com/gpu': '2' } };
    expect(kubeResources({})).toStrictEqual(expected);
    expect(
      kubeResources({ limits: { ignoreLimits: false, memoryLimitMode: 'hard' } }),
    ).toStrictEqual(expected);
  });

  it('soft: requests for CPU and memory, a CPU limit, no memory limit', () => {
    expect(
      kubeResources({ limits: { ignoreLimits: false, memoryLimitMode: 'soft' } }),
    ).toStrictEqual({
      limits: { cpu: '1500m', 'nvidia.com/gpu': '2' },
      requests: { cpu: '1500m', memory: '200Mi' },
    });
  });

  it('IGNORE_LIMITS: requests only (GPUs stay a limit)', () => {
    expect(
      kubeResources({ limits: { ignoreLimits: true, memoryLimitMode: 'hard' } }),
    ).toStrictEqual({
      limits: { 'nvidia.com/gpu': '2' },
      requests: { cpu: '1500m', memory: '200Mi' },
    });
  });

  it('the pod grace is CANCEL_GRACE_SECONDS; timeout_seconds sets a later Job deadline as a backstop', () => {
    const job = toJob({ ...spec, timeoutSeconds: 60 }, { ...kube, stopGraceSeconds: 4 });
    expect(job.spec?.template.spec?.terminationGracePeriodSeconds).toBe(4);
    expect(job.spec?.activeDeadlineSeconds).toBe(60 + DEADLINE_BACKSTOP_SECONDS);
    expect(toJob(spec, kube).spec?.activeDeadlineSeconds).toBe(604800);
  });
});

describe('settings', () => {
  const base = { STORAGE_TYPE: 'host', STOREBASE: '/var/local/storeBase' };

  it('MEMORY_LIMIT_MODE and IGNORE_LIMITS are read for swarm and kubernetes, not refused', () => {
    const swarm = loadConfig({
      ...base,
      CONTAINER_ENV: 'swarm',
      MEMORY_LIMIT_MODE: 'soft',
      IGNORE_LIMITS: 'yes',
    });
    expect(swarm.backend).toMatchObject({
      limits: { memoryLimitMode: 'soft', ignoreLimits: true },
    });
    expect(swarm.warnings.join('\n')).not.toMatch(/MEMORY_LIMIT_MODE/);
    const kubeCfg = loadConfig({
      CONTAINER_ENV: 'kubernetes',
      STORAGE_TYPE: 'kubernetes_pvc',
      VOLUME_NAME: 'storebase',
      IGNORE_LIMITS: 'yes',
      JOB_DEADLINE_SECONDS: '3600',
      CANCEL_GRACE_SECONDS: '5',
    });
    expect(kubeCfg.backend).toMatchObject({
      limits: { ignoreLimits: true, memoryLimitMode: 'hard' },
      activeDeadlineSeconds: 3600 + DEADLINE_BACKSTOP_SECONDS,
      stopGraceSeconds: 5,
    });
    expect(kubeCfg.control).toEqual({ cancelGraceSeconds: 5, jobDeadlineSeconds: 3600 });
  });

  it('JOB_DEADLINE_SECONDS applies to docker too, without a warning', () => {
    const cfg = loadConfig({ ...base, CONTAINER_ENV: 'docker', JOB_DEADLINE_SECONDS: '120' });
    expect(cfg.control).toEqual({ cancelGraceSeconds: 10, jobDeadlineSeconds: 120 });
    expect(cfg.warnings.join('\n')).not.toMatch(/JOB_DEADLINE_SECONDS/);
  });
});
