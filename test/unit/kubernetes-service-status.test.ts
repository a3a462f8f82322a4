// fromDeployment, serviceEndpoint, nodeAddress (issue 15): pure mapping of a service job's
// Deployment and pods to a JobInfo; never terminal unless stopped.
import { describe, expect, it } from 'vitest';
import {
  fromDeployment,
  nodeAddress,
  serviceEndpoint,
} from '../../src/backends/kubernetes/service-status.js';
import type {
  DeploymentView,
  ServicePodView,
} from '../../src/backends/kubernetes/service-status.js';

const NOW = new Date('2026-12-05T12:00:00Z');
const STOPPED = 'pman.service.stopped-at';
const EP = 'http://10.96.0.10:8080';

function deployment(extra: Partial<DeploymentView> = {}): DeploymentView {
  return {
    metadata: { name: 'svc', creationTimestamp: '2026-12-05T11:00:00Z', annotations: {} },
    spec: { replicas: 1, template: { spec: { containers: [{ image: 'img', command: ['srv'] }] } } },
    status: {},
    ...extra,
  };
}

const pending = (waiting?: { reason: string; message?: string }): ServicePodView => ({
  metadata: { name: 'svc-abc-1', creationTimestamp: '2026-12-05T11:00:01Z' },
  status: {
    phase: 'Pending',
    ...(waiting && { containerStatuses: [{ name: 'svc', state: { waiting }, restartCount: 0 }] }),
  },
});

const running = (ready: boolean, restartCount = 0): ServicePodView => ({
  metadata: { name: 'svc-abc-1', creationTimestamp: '2026-12-05T11:00:01Z' },
  status: {
    phase: 'Running',
    containerStatuses: [
      {
        name: 'svc',
        ready,
        restartCount,
        state: { running: { startedAt: '2026-12-05T11:00:05Z' } },
      },
    ],
  },
});

describe('fromDeployment', () => {
  it('a new Deployment without pods: notstarted', () => {
    const info = fromDeployment(deployment(), [], EP, NOW, STOPPED);
    expect(info).toMatchObject({
      status: 'notstarted',
      message: 'deployment created',
      image: 'img',
    });
    expect(info.timestamp).toBe('2026-12-05T11:00:00Z');
    expect(info.service).toEqual({ endpoint: EP, healthy: false, restarts: 0 });
  });

  it('pulling: notstarted with the kubelet reason', () => {
    const info = fromDeployment(
      deployment(),
      [pending({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "img"' })],
      EP,
      NOW,
      STOPPED,
    );
    expect(info).toMatchObject({
      status: 'notstarted',
      message: 'ImagePullBackOff: Back-off pulling image "img"',
    });
  });

  it('unschedulable: notstarted with the scheduler message', () => {
    const pod: ServicePodView = {
      metadata: { name: 'p' },
      status: {
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' },
        ],
      },
    };
    expect(fromDeployment(deployment(), [pod], EP, NOW, STOPPED).message).toBe(
      'Unschedulable: 0/1 nodes',
    );
  });

  it('running but not ready: started, unhealthy', () => {
    const info = fromDeployment(deployment(), [running(false)], EP, NOW, STOPPED);
    expect(info).toMatchObject({ status: 'started', message: 'running, not ready' });
    expect(info.service?.healthy).toBe(false);
    expect(info.timestamp).toBe('2026-12-05T11:00:05Z');
  });

  it('an available replica: started, healthy', () => {
    const d = deployment({ status: { availableReplicas: 1, readyReplicas: 1, replicas: 1 } });
    const info = fromDeployment(d, [running(true)], EP, NOW, STOPPED);
    expect(info).toMatchObject({ status: 'started', message: 'running' });
    expect(info.service).toEqual({ endpoint: EP, healthy: true, restarts: 0 });
  });

  it('a crash loop: started, restarting, with the count', () => {
    const pod: ServicePodView = {
      metadata: { name: 'p' },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'svc',
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
          },
        ],
      },
    };
    const info = fromDeployment(deployment(), [pod], EP, NOW, STOPPED);
    expect(info).toMatchObject({
      status: 'started',
      message: 'restarting after exit code 1 (3 restarts)',
    });
    expect(info.service?.restarts).toBe(3);
  });

  it('ProgressDeadlineExceeded with no server up: still notstarted, unhealthy, the reason first', () => {
    const d = deployment({
      status: {
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "svc-x" has timed out progressing.',
          },
        ],
      },
    });
    const info = fromDeployment(d, [pending({ reason: 'ErrImagePull' })], EP, NOW, STOPPED);
    // No server process: a `started` would be shown as "waiting for health check", hiding why.
    expect(info.status).toBe('notstarted');
    expect(info.service?.healthy).toBe(false);
    expect(info.message).toBe(
      'ProgressDeadlineExceeded: ReplicaSet "svc-x" has timed out progressing.; ErrImagePull',
    );
  });

  it('stopped (replicas 0, the annotation): finishedWithError stopped, at the stop time', () => {
    const d = deployment({
      metadata: {
        name: 'svc',
        creationTimestamp: '2026-12-05T11:00:00Z',
        annotations: { [STOPPED]: '2026-12-05T11:30:00Z' },
      },
      spec: { replicas: 0 },
    });
    const info = fromDeployment(d, [running(true)], EP, NOW, STOPPED);
    expect(info).toMatchObject({
      status: 'finishedWithError',
      message: 'stopped',
      timestamp: '2026-12-05T11:30:00Z',
    });
  });

  it('scaled to 0 from outside: terminal too', () => {
    expect(fromDeployment(deployment({ spec: { replicas: 0 } }), [], EP, NOW, STOPPED).status).toBe(
      'finishedWithError',
    );
  });

  it('no endpoint yet: the key is absent', () => {
    expect(fromDeployment(deployment(), [], undefined, NOW, STOPPED).service).toEqual({
      healthy: false,
      restarts: 0,
    });
  });
});

describe('serviceEndpoint', () => {
  it('ClusterIP: clusterIP and port', () => {
    expect(
      serviceEndpoint(
        { spec: { type: 'ClusterIP', clusterIP: '10.96.0.12', ports: [{ port: 80 }] } },
        undefined,
      ),
    ).toBe('http://10.96.0.12:80');
  });

  it('IPv6 cluster addresses are bracketed', () => {
    expect(
      serviceEndpoint({ spec: { clusterIP: 'fd00::5', ports: [{ port: 80 }] } }, undefined),
    ).toBe('http://[fd00::5]:80');
  });

  it('NodePort: the node address and the node port; none without an address', () => {
    const svc = {
      spec: { type: 'NodePort', clusterIP: '10.96.0.3', ports: [{ port: 80, nodePort: 30001 }] },
    };
    expect(serviceEndpoint(svc, '192.0.2.1')).toBe('http://192.0.2.1:30001');
    expect(serviceEndpoint(svc, undefined)).toBeUndefined();
  });

  it('headless or unallocated: undefined', () => {
    expect(
      serviceEndpoint({ spec: { clusterIP: 'None', ports: [{ port: 80 }] } }, undefined),
    ).toBeUndefined();
    expect(serviceEndpoint({ spec: { ports: [{ port: 80 }] } }, undefined)).toBeUndefined();
  });
});

describe('nodeAddress', () => {
  it('the first InternalIP, else an ExternalIP', () => {
    expect(
      nodeAddress([
        { status: { addresses: [{ type: 'Hostname', address: 'n1' }] } },
        {
          status: {
            addresses: [
              { type: 'ExternalIP', address: '203.0.113.9' },
              { type: 'InternalIP', address: '10.0.0.2' },
            ],
          },
        },
      ]),
    ).toBe('10.0.0.2');
    expect(
      nodeAddress([{ status: { addresses: [{ type: 'ExternalIP', address: '203.0.113.9' }] } }]),
    ).toBe('203.0.113.9');
    expect(nodeAddress([])).toBeUndefined();
  });
});
