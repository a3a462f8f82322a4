// A request's labels (issue 13) reach the engine objects of every backend, next to JOB_LABELS and
// our managed-by label: the Docker container, the Swarm service and its task, the Kubernetes Job
// and its pod template.
import { describe, expect, it } from 'vitest';
import { toContainerCreate } from '../../src/backends/docker/manifest.js';
import { toJob } from '../../src/backends/kubernetes/manifest.js';
import type { ManifestOptions } from '../../src/backends/kubernetes/manifest.js';
import { toServiceSpec } from '../../src/backends/swarm/manifest.js';
import { toJobSpec } from '../../src/domain/spec.js';
import { sampleRequest } from '../fixtures.js';

const spec = toJobSpec(
  sampleRequest({ jid: 'lab', labels: { team: 'fnndsc', 'example.org/tier': 'gold' } }),
  { homeWorkaround: false, jobLabels: { site: 'bch' } },
  { type: 'host', storeBase: '/sb' },
);
const expected = { site: 'bch', team: 'fnndsc', 'example.org/tier': 'gold' };

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

describe('request labels on the engine objects', () => {
  it('docker: the container', () => {
    const body = toContainerCreate(spec, { ignoreLimits: false, memoryLimitMode: 'hard' });
    expect(body.Labels).toEqual({ ...expected, 'org.chrisproject.managed-by': 'pman' });
  });

  it('swarm: the service and its task container', () => {
    const service = toServiceSpec(spec, {});
    expect(service.Labels).toEqual({ ...expected, 'org.chrisproject.managed-by': 'pman' });
    expect(service.TaskTemplate.ContainerSpec.Labels).toEqual(service.Labels);
  });

  it('kubernetes: the Job and its pod template', () => {
    const job = toJob(spec, kube);
    const labels = { ...expected, 'app.kubernetes.io/managed-by': 'pman' };
    expect(job.metadata?.labels).toEqual(labels);
    expect(job.spec?.template.metadata?.labels).toEqual(labels);
  });
});
