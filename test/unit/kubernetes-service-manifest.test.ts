// toDeployment / toService (issue 15): a service job's Deployment reuses the batch pod spec (limits
// and limit modes, mounts, security, user, tolerations, labels) and adds what a server needs.
import { describe, expect, it } from 'vitest';
import type { ManifestOptions } from '../../src/backends/kubernetes/manifest.js';
import {
  assertServiceName,
  toDeployment,
  toService,
} from '../../src/backends/kubernetes/service-manifest.js';
import type { ServiceManifestOptions } from '../../src/backends/kubernetes/service-manifest.js';
import { InvalidSpecError } from '../../src/domain/errors.js';
import type { JobSpec } from '../../src/domain/job.js';

const kube: ServiceManifestOptions = {
  profile: 'kubernetes',
  namespace: 'chris',
  nodeSelector: { pool: 'cpu' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'chris', effect: 'NoSchedule' }],
  requestRatio: 1,
  imagePullSecrets: ['regcred'],
  ttlSecondsAfterFinished: 86400,
  activeDeadlineSeconds: 604800,
  gpuResourceName: 'nvidia.com/gpu',
  runAsNonRoot: false,
  managedBy: 'pman',
  progressDeadlineSeconds: 120,
};

function spec(extra: Partial<JobSpec> = {}): JobSpec {
  return {
    name: 'algo-1',
    image: 'ghcr.io/fnndsc/algo:1.0',
    command: ['serve', '--port', '8080'],
    env: {},
    resources: { workers: 2, cpuMillicores: 1000, memoryMiB: 512, gpus: 1 },
    mounts: [
      {
        kind: 'host',
        source: '/var/storebase',
        subPath: 'key-algo-1/incoming',
        containerPath: '/share/incoming',
        readOnly: true,
      },
    ],
    labels: { team: 'x' },
    user: { uid: 1001 },
    service: { port: 8080, exposure: 'ClusterIP' },
    ...extra,
  };
}

describe('toDeployment', () => {
  it('keeps the batch pod spec and adds restartPolicy Always, probes and the port', () => {
    const d = toDeployment(spec(), kube);
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.progressDeadlineSeconds).toBe(120);
    const pod = d.spec?.template.spec;
    expect(pod?.restartPolicy).toBe('Always');
    expect(pod?.nodeSelector).toEqual({ pool: 'cpu' });
    expect(pod?.tolerations).toEqual(kube.tolerations);
    expect(pod?.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pod?.volumes).toEqual([
      { name: 'storebase', hostPath: { path: '/var/storebase', type: 'Directory' } },
    ]);
    const c = pod?.containers[0];
    expect(c?.resources).toEqual({
      limits: { cpu: '1000m', memory: '512Mi', 'nvidia.com/gpu': '1' },
    });
    expect(c?.securityContext?.runAsUser).toBe(1001);
    expect(c?.readinessProbe).toMatchObject({ tcpSocket: { port: 8080 }, failureThreshold: 3 });
    expect(c?.livenessProbe).toMatchObject({ tcpSocket: { port: 8080 } });
    // A slow server is not killed while it boots: the startup probe gives it the whole start
    // timeout (120 s = 24 × 5 s) before liveness begins.
    expect(c?.startupProbe).toMatchObject({
      tcpSocket: { port: 8080 },
      periodSeconds: 5,
      failureThreshold: 24,
    });
    expect(c?.ports).toEqual([{ name: 'service', containerPort: 8080, protocol: 'TCP' }]);
    expect(d.metadata?.labels).toMatchObject({
      team: 'x',
      'app.kubernetes.io/managed-by': 'pman',
      'pman.service.port': '8080',
      'pman.service.job': 'algo-1',
    });
    expect(d.spec?.selector.matchLabels).toEqual({ 'pman.service.job': 'algo-1' });
  });

  it('health_path makes every probe an HTTP GET of it', () => {
    const d = toDeployment(
      spec({ service: { port: 9000, healthPath: '/ok', exposure: 'ClusterIP' } }),
      kube,
    );
    const c = d.spec?.template.spec?.containers[0];
    expect(c?.readinessProbe?.httpGet).toEqual({ path: '/ok', port: 9000 });
    expect(c?.livenessProbe?.httpGet).toEqual({ path: '/ok', port: 9000 });
    expect(c?.startupProbe?.httpGet).toEqual({ path: '/ok', port: 9000 });
    expect(c?.readinessProbe?.tcpSocket).toBeUndefined();
  });

  it('the soft memory mode is honoured as for batch jobs (a request, no memory limit)', () => {
    const soft: ServiceManifestOptions = {
      ...kube,
      limits: { ignoreLimits: false, memoryLimitMode: 'soft' },
    };
    const c = toDeployment(spec(), soft).spec?.template.spec?.containers[0];
    expect(c?.resources?.limits).toEqual({ cpu: '1000m', 'nvidia.com/gpu': '1' });
    expect(c?.resources?.requests).toEqual({ cpu: '1000m', memory: '512Mi' });
  });

  it('on openshift: no fixed UID, runAsNonRoot', () => {
    const os: ServiceManifestOptions = { ...kube, profile: 'openshift', runAsNonRoot: true };
    const pvc = spec({
      user: undefined,
      mounts: [{ ...spec().mounts[0]!, kind: 'volume', source: 'storebase' }],
    });
    const c = toDeployment(pvc, os).spec?.template.spec?.containers[0];
    expect(c?.securityContext?.runAsUser).toBeUndefined();
    expect(c?.securityContext?.runAsNonRoot).toBe(true);
  });
});

describe('toService', () => {
  const opts: ManifestOptions = kube;

  it('ClusterIP by default: port = targetPort, the Deployment selector', () => {
    const s = toService(spec(), opts);
    expect(s.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'pman.service.job': 'algo-1' },
      ports: [{ name: 'service', port: 8080, targetPort: 8080, protocol: 'TCP' }],
    });
    expect(s.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('pman');
  });

  it('NodePort on request', () => {
    const s = toService(spec({ service: { port: 8080, exposure: 'NodePort' } }), opts);
    expect(s.spec?.type).toBe('NodePort');
  });
});

describe('assertServiceName', () => {
  it.each(['a', 'algo-1', 'x9'])('accepts %s', (name) => {
    expect(() => assertServiceName(name)).not.toThrow();
  });

  it.each(['1algo', '9', '-a', 'a-'])('refuses %s with a 400 naming jid', (name) => {
    expect(() => assertServiceName(name)).toThrow(InvalidSpecError);
    expect(() => assertServiceName(name)).toThrow(/^jid ".*" .*starting with a letter/);
  });
});
