// The fake kube-api's Deployments and Services (issue 15), over raw HTTP: 422 rules, defaults and
// allocation, the controller's pods and conditions, scale by JSON patch, delete with the pods.

import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from '../../fakes/kube-api/index.js';

const NS = 'default';
let fake: FakeKubeApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; json: Record<string, unknown> }> {
  if (fake === undefined) throw new Error('no fake');
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function deployment(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'srv',
              image: 'busybox:1.36',
              readinessProbe: { tcpSocket: { port: 8080 } },
            },
          ],
        },
      },
      ...extra,
    },
  };
}

const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const SERVICES = `/api/v1/namespaces/${NS}/services`;

describe('fake Deployments', () => {
  it('defaults, pods through a ReplicaSet, and the first conditions', async () => {
    fake = await startFakeKubeApi();
    const created = await call('POST', DEPLOYMENTS, deployment('web'));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      metadata: { generation: 1, annotations: { 'deployment.kubernetes.io/revision': '1' } },
      spec: {
        progressDeadlineSeconds: 600,
        revisionHistoryLimit: 10,
        strategy: { type: 'RollingUpdate' },
        template: { spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } },
      },
    });
    const pods = fake.deploymentPods(NS, 'web');
    expect(pods).toHaveLength(2);
    const hash = pods[0]?.metadata.labels?.['pod-template-hash'] ?? '';
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(pods[0]?.metadata.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
    expect(pods[0]?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'ReplicaSet',
      name: `web-${hash}`,
      controller: true,
    });
    // Every pod gets DefaultTolerationSeconds' two tolerations, whichever controller made it.
    expect(pods[0]?.spec.tolerations).toEqual([
      expect.objectContaining({ key: 'node.kubernetes.io/not-ready', tolerationSeconds: 300 }),
      expect.objectContaining({ key: 'node.kubernetes.io/unreachable', tolerationSeconds: 300 }),
    ]);
    const d = fake.getDeployment(NS, 'web');
    expect(d?.status).toMatchObject({
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      unavailableReplicas: 2,
    });
    expect(d?.status.readyReplicas).toBeUndefined();
    expect(d?.status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'False', 'MinimumReplicasUnavailable'],
      ['Progressing', 'True', 'NewReplicaSetCreated'],
    ]);
  });

  it('ready pods make it Available and complete; a not-ready one does not', async () => {
    fake = await startFakeKubeApi();
    await call('POST', DEPLOYMENTS, deployment('web', { replicas: 1 }));
    fake.serviceStep(NS, 'web', { running: true, ready: false });
    expect(fake.getDeployment(NS, 'web')?.status.availableReplicas).toBeUndefined();
    fake.serviceStep(NS, 'web', { running: true });
    const d = fake.getDeployment(NS, 'web');
    expect(d?.status).toMatchObject({ readyReplicas: 1, availableReplicas: 1 });
    expect(d?.status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
  });

  it('a crash loop counts restarts and keeps the pod Running but not ready', async () => {
    fake = await startFakeKubeApi();
    await call('POST', DEPLOYMENTS, deployment('web', { replicas: 1 }));
    fake.serviceStep(NS, 'web', { crash: 2 });
    const cs = fake.deploymentPods(NS, 'web')[0]?.status.containerStatuses?.[0];
    expect(cs?.restartCount).toBe(1);
    expect(cs?.state.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs?.lastState).toMatchObject({ terminated: { exitCode: 2, reason: 'Error' } });
  });

  it('422s: selector not matching the labels, restartPolicy Never, a bad probe port or threshold', async () => {
    fake = await startFakeKubeApi();
    const bad = deployment('web');
    const spec = bad.spec as { template: { metadata: { labels: Record<string, string> } } };
    spec.template.metadata.labels = { app: 'other' };
    const a = await call('POST', DEPLOYMENTS, bad);
    expect(a.status).toBe(422);
    expect(a.json.message).toMatch(/`selector` does not match template `labels`/);
    const never = deployment('web2');
    (never.spec as { template: { spec: Record<string, unknown> } }).template.spec.restartPolicy =
      'Never';
    const b = await call('POST', DEPLOYMENTS, never);
    expect(b.json.message).toMatch(
      /restartPolicy: Unsupported value: "Never": supported values: "Always"/,
    );
    const port = deployment('web3');
    (
      port.spec as { template: { spec: { containers: Record<string, unknown>[] } } }
    ).template.spec.containers[0]!.readinessProbe = { tcpSocket: { port: 0 } };
    const c = await call('POST', DEPLOYMENTS, port);
    expect(c.json.message).toMatch(/readinessProbe\.tcpSocket\.port: Invalid value: 0/);
    // A startup probe, like liveness, must succeed once to count.
    const startup = deployment('web4');
    (
      startup.spec as { template: { spec: { containers: Record<string, unknown>[] } } }
    ).template.spec.containers[0]!.startupProbe = { tcpSocket: { port: 80 }, successThreshold: 2 };
    const d = await call('POST', DEPLOYMENTS, startup);
    expect(d.status).toBe(422);
    expect(d.json.message).toMatch(/startupProbe\.successThreshold: Invalid value: 2: must be 1/);
    expect(fake.getDeployment(NS, 'web')).toBeUndefined();
  });

  it('a JSON patch to 0 replicas removes the pods; generation moves on', async () => {
    fake = await startFakeKubeApi();
    await call('POST', DEPLOYMENTS, deployment('web'));
    const patched = await call(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      [{ op: 'replace', path: '/spec/replicas', value: 0 }],
      'application/json-patch+json',
    );
    expect(patched.status).toBe(200);
    await fake.settle();
    expect(fake.deploymentPods(NS, 'web')).toHaveLength(0);
    const d = fake.getDeployment(NS, 'web');
    expect(d?.metadata.generation).toBe(2);
    expect(d?.status.replicas).toBeUndefined();
    const other = await call(
      'PATCH',
      `${DEPLOYMENTS}/web`,
      [{ op: 'replace', path: '/spec/template', value: {} }],
      'application/json-patch+json',
    );
    expect(other.status).toBe(422);
  });

  it('DELETE (apps/v1 defaults to Background) takes the pods along', async () => {
    fake = await startFakeKubeApi();
    await call('POST', DEPLOYMENTS, deployment('web'));
    const names = fake.deploymentPods(NS, 'web').map((p) => p.metadata.name);
    expect((await call('DELETE', `${DEPLOYMENTS}/web`)).status).toBe(200);
    await fake.settle();
    expect(fake.pods(NS).filter((p) => names.includes(p.metadata.name))).toEqual([]);
    expect((await call('DELETE', `${DEPLOYMENTS}/web`)).status).toBe(404);
  });
});

describe('fake Services', () => {
  it('allocates a clusterIP, and for NodePort a port in 30000-32767, never twice', async () => {
    fake = await startFakeKubeApi();
    const a = await call('POST', SERVICES, {
      metadata: { name: 'a' },
      spec: { ports: [{ port: 80 }] },
    });
    expect(a.status).toBe(201);
    expect(a.json.spec).toMatchObject({
      type: 'ClusterIP',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ipFamilies: ['IPv4'],
      sessionAffinity: 'None',
      ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }],
    });
    const b = await call('POST', SERVICES, {
      metadata: { name: 'b' },
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
    });
    const c = await call('POST', SERVICES, {
      metadata: { name: 'c' },
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
    });
    const portOf = (x: { json: Record<string, unknown> }) =>
      (x.json.spec as { ports: { nodePort: number }[]; clusterIP: string }).ports[0]?.nodePort;
    expect(portOf(b)).toBe(30000);
    expect(portOf(c)).toBe(30001);
    expect((b.json.spec as { clusterIP: string }).clusterIP).toBe('10.96.0.11');
    const taken = await call('POST', SERVICES, {
      metadata: { name: 'd' },
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30000 }] },
    });
    expect(taken.status).toBe(422);
    expect(taken.json.message).toMatch(/provided port is already allocated/);
  });

  it('422s: a name starting with a digit, no ports, a port out of range, nodePort on ClusterIP', async () => {
    fake = await startFakeKubeApi();
    const digit = await call('POST', SERVICES, {
      metadata: { name: '1a' },
      spec: { ports: [{ port: 80 }] },
    });
    expect(digit.status).toBe(422);
    expect(digit.json.message).toMatch(/metadata\.name: Invalid value: "1a": a DNS-1035 label/);
    const none = await call('POST', SERVICES, { metadata: { name: 'x' }, spec: {} });
    expect(none.json.message).toMatch(/spec\.ports: Required value/);
    const range = await call('POST', SERVICES, {
      metadata: { name: 'y' },
      spec: { ports: [{ port: 70000 }] },
    });
    expect(range.json.message).toMatch(/must be between 1 and 65535, inclusive/);
    const np = await call('POST', SERVICES, {
      metadata: { name: 'z' },
      spec: { ports: [{ port: 80, nodePort: 30005 }] },
    });
    expect(np.json.message).toMatch(
      /nodePort: Forbidden: may not be used when `type` is 'ClusterIP'/,
    );
  });
});
