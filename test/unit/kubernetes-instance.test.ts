// INSTANCE_ID on Kubernetes (issue 10, item 12): the managed-by label value is `pman` by default and
// `pman-<INSTANCE_ID>` per instance, on the Job and its pod template, as Docker and Swarm do.
import { describe, expect, it } from 'vitest';
import { isOurs, managedSelector } from '../../src/backends/kubernetes/labels.js';
import { toJob } from '../../src/backends/kubernetes/manifest.js';
import type { ManifestOptions } from '../../src/backends/kubernetes/manifest.js';
import { readKubernetesSettings } from '../../src/backends/kubernetes/settings.js';
import { managedByValue } from '../../src/backends/shared/labels.js';
import { createEnvReader } from '../../src/config/env-reader.js';
import type { JobSpec } from '../../src/domain/job.js';

const LABEL = 'app.kubernetes.io/managed-by';

const options: ManifestOptions = {
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

const spec: JobSpec = {
  name: 'j1',
  image: 'busybox',
  command: ['true'],
  env: {},
  resources: { workers: 1, cpuMillicores: 100, memoryMiB: 64, gpus: 0 },
  mounts: [],
  // JOB_LABELS cannot claim another instance's value: ours is written last.
  labels: { [LABEL]: 'pman' },
};

describe('kubernetes INSTANCE_ID', () => {
  it('reads INSTANCE_ID into the settings, and leaves it unset by default', () => {
    expect(readKubernetesSettings(createEnvReader({}), 'kubernetes').instanceId).toBeUndefined();
    const r = createEnvReader({ INSTANCE_ID: 'blue' });
    expect(readKubernetesSettings(r, 'openshift').instanceId).toBe('blue');
    expect(r.problems).toEqual([]);
  });

  it('refuses a malformed INSTANCE_ID at start-up with one line naming it', () => {
    const r = createEnvReader({ INSTANCE_ID: 'Blue_1' });
    readKubernetesSettings(r, 'kubernetes');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^INSTANCE_ID: /);
  });

  it('labels the Job and its pods with pman by default and pman-<id> per instance', () => {
    const plain = toJob(spec, options);
    expect(plain.metadata?.labels?.[LABEL]).toBe('pman');
    const blue = toJob(spec, { ...options, managedBy: managedByValue('blue') });
    expect(blue.metadata?.labels?.[LABEL]).toBe('pman-blue');
    expect(blue.spec?.template.metadata?.labels?.[LABEL]).toBe('pman-blue');
  });

  it('selects and owns by the instance value only', () => {
    expect(managedSelector('pman-blue')).toBe(`${LABEL}=pman-blue`);
    const job = toJob(spec, { ...options, managedBy: 'pman-blue' });
    expect(isOurs(job, 'pman-blue')).toBe(true);
    expect(isOurs(job, 'pman')).toBe(false);
    expect(isOurs({ metadata: { name: 'x' } }, 'pman')).toBe(false);
  });
});
