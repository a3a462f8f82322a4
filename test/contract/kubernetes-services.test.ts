// Service jobs (issue 15) on the Kubernetes backend, with the real @kubernetes/client-node against
// the fake API server: the Deployment and Service the fake received, the status mapping through
// the fake's Deployment controller, stop, delete, a refused Service, the DNS-1035 name rule,
// NodePort endpoints, the watch, and a second backend instance over the same cluster.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRead } from '../../src/backends/backend.js';
import type { V1Deployment, V1Service } from '../../src/backends/kubernetes/client.js';
import { createKubernetesBackend } from '../../src/backends/kubernetes/kubernetes.js';
import type { KubernetesBackendConfig } from '../../src/config/config.js';
import {
  BackendRefusedError,
  ConflictError,
  InvalidSpecError,
  NotFoundError,
} from '../../src/domain/errors.js';
import type { JobSpec, ServiceSpec } from '../../src/domain/job.js';
import { toErrorAnswer } from '../../src/http/on-error.js';
import { JobService } from '../../src/service/jobs.js';
import { Ledger } from '../../src/store/ledger.js';
import { sampleRequest, testConfig } from '../fixtures.js';
import { runPrefix, until } from './backend.contract.js';
import { kubeConfig, pvcMounts, startKubeRig } from './kube-rig.js';
import type { KubeRig } from './kube-rig.js';

const NS = 'chris';
const silent = pino({ level: 'silent' });
const LIMITS = { tail: 1000, maxBytes: 1 << 20 };

function serviceSpec(name: string, service: Partial<ServiceSpec> = {}): JobSpec {
  return {
    name,
    image: '127.0.0.1:5999/pman-ts/busybox:test',
    command: ['httpd', '-f', '-p', '8080', '-h', '/share/incoming'],
    env: { GREETING: 'hi' },
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
    mounts: pvcMounts(name),
    labels: { team: 'fnndsc' },
    user: { uid: 1000, gid: 1000 },
    service: { port: 8080, exposure: 'ClusterIP', ...service },
  };
}

/** The first body POSTed to a path ending in `suffix` for `name`, parsed. */
function posted<T extends { metadata?: { name?: string } }>(
  r: KubeRig,
  suffix: string,
  name: string,
): T {
  const found = r.fake.requests
    .filter((q) => q.method === 'POST' && q.path.endsWith(suffix))
    .map((q) => JSON.parse(q.body) as T)
    .find((o) => o.metadata?.name === name);
  if (found === undefined) throw new Error(`the fake received no ${suffix} named ${name}`);
  return found;
}

/** POSTs a Service (or with `apps`, a Deployment) to the fake as some other client would. */
async function createRaw(
  r: KubeRig,
  body: Record<string, unknown>,
  kind: 'Service' | 'Deployment' = 'Service',
): Promise<void> {
  const path =
    kind === 'Service'
      ? `/api/v1/namespaces/${NS}/services`
      : `/apis/apps/v1/namespaces/${NS}/deployments`;
  const res = await fetch(`${r.fake.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer fake-token' },
    body: JSON.stringify({ apiVersion: kind === 'Service' ? 'v1' : 'apps/v1', kind, ...body }),
  });
  if (res.status !== 201) throw new Error(`the fake refused the ${kind}: ${await res.text()}`);
}

/** Another backend over the rig's cluster, started (its informers listed) as a restart's would be. */
function secondBackend(r: KubeRig): ReturnType<typeof createKubernetesBackend> {
  return createKubernetesBackend(kubeConfig(NS, r.kubeconfigPath), {
    log: silent,
    timeoutMs: 5_000,
    now: () => r.fake.clock.now(),
  });
}

describe('kubernetes service jobs against the fake API', () => {
  let r: KubeRig | undefined;
  const prefix = runPrefix('ksvc');
  let n = 0;
  const jid = () => `${prefix}-${++n}`;

  async function rig(
    cfg: Partial<KubernetesBackendConfig> = {},
    fake: Parameters<typeof startKubeRig>[0]['fake'] = {},
  ): Promise<KubeRig> {
    r = await startKubeRig({
      namespace: NS,
      fake,
      config: { serviceStartTimeoutSeconds: 90, ...cfg },
    });
    return r;
  }

  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('sends a Deployment and a Service with the batch pod spec, probes, labels and the port', async () => {
    const k = await rig({ requestRatio: 0.5 });
    const name = jid();
    await k.backend.create(serviceSpec(name, { healthPath: '/healthz' }));

    const d = posted<V1Deployment>(k, '/deployments', name);
    expect(d.spec?.replicas).toBe(1);
    expect(d.spec?.progressDeadlineSeconds).toBe(90);
    expect(d.spec?.selector.matchLabels).toEqual({ 'pman.service.job': name });
    const labels = {
      team: 'fnndsc',
      'app.kubernetes.io/managed-by': 'pman',
      'pman.service.port': '8080',
      'pman.service.job': name,
    };
    expect(d.metadata?.labels).toEqual(labels);
    expect(d.spec?.template.metadata?.labels).toEqual(labels);
    const pod = d.spec?.template.spec;
    expect(pod?.restartPolicy).toBe('Always');
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.volumes).toEqual([
      { name: 'storebase', persistentVolumeClaim: { claimName: 'storebase' } },
    ]);
    const c = pod?.containers[0];
    expect(c?.name).toBe(name);
    expect(c?.command).toEqual(['httpd', '-f', '-p', '8080', '-h', '/share/incoming']);
    expect(c?.env).toEqual([{ name: 'GREETING', value: 'hi' }]);
    expect(c?.resources).toEqual({
      limits: { cpu: '500m', memory: '128Mi' },
      requests: { cpu: '250m', memory: '64Mi' },
    });
    expect(c?.securityContext).toMatchObject({
      runAsUser: 1000,
      runAsGroup: 1000,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c?.volumeMounts).toEqual([
      { name: 'storebase', mountPath: '/share/incoming', subPath: `${name}/in`, readOnly: true },
      { name: 'storebase', mountPath: '/share/outgoing', subPath: `${name}/out` },
    ]);
    expect(c?.ports).toEqual([{ name: 'service', containerPort: 8080, protocol: 'TCP' }]);
    expect(c?.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 8080 });
    expect(c?.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 8080 });
    expect(c?.livenessProbe?.failureThreshold).toBeGreaterThan(1);
    // The start timeout (90 s here) is the startup probe's: 18 failures 5 s apart.
    expect(c?.startupProbe).toMatchObject({
      httpGet: { path: '/healthz', port: 8080 },
      failureThreshold: 18,
    });

    const s = posted<V1Service>(k, '/services', name);
    expect(s.spec?.type).toBe('ClusterIP');
    expect(s.spec?.selector).toEqual(d.spec?.selector.matchLabels);
    expect(s.spec?.ports).toEqual([
      { name: 'service', port: 8080, targetPort: 8080, protocol: 'TCP' },
    ]);
    expect(s.metadata?.labels).toEqual(labels);
    // The fake's own defaults and allocation: what the endpoint is built from.
    expect(k.fake.getService(NS, name)?.spec.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
  });

  it('without health_path the probes connect over TCP', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name));
    const c = posted<V1Deployment>(k, '/deployments', name).spec?.template.spec?.containers[0];
    expect(c?.readinessProbe?.tcpSocket).toEqual({ port: 8080 });
    expect(c?.readinessProbe?.httpGet).toBeUndefined();
  });

  it('maps the Deployment through the controller: pulling → notstarted, not ready → unhealthy, available → healthy', async () => {
    const k = await rig();
    const name = jid();
    const created = await k.backend.create(serviceSpec(name));
    const ip = k.fake.getService(NS, name)?.spec.clusterIP ?? '';
    const endpoint = `http://${ip}:8080`;
    expect(created.status).toBe('notstarted');
    expect(created.service).toEqual({ endpoint, healthy: false, restarts: 0 });
    expect(k.fake.deploymentPods(NS, name)).toHaveLength(1);

    k.fake.serviceStep(NS, name, { waiting: 'ErrImagePull' });
    let read = await k.backend.read(name);
    expect(read.info.status).toBe('notstarted');
    expect(read.info.message).toMatch(/^ErrImagePull: failed to pull/);

    k.fake.serviceStep(NS, name, { running: true, ready: false, log: 'booting\n' });
    read = await k.backend.read(name, { logs: LIMITS });
    expect(read.info.status).toBe('started');
    expect(read.info.service).toEqual({ endpoint, healthy: false, restarts: 0 });
    expect(read.logs).toBe('booting\n');

    k.fake.serviceStep(NS, name, { running: true });
    expect(k.fake.getDeployment(NS, name)?.status.availableReplicas).toBe(1);
    read = await k.backend.read(name);
    expect(read.info).toMatchObject({ status: 'started', message: 'running' });
    expect(read.info.service).toEqual({ endpoint, healthy: true, restarts: 0 });

    const listed = (await k.backend.list()).find((j) => j.name === name);
    expect(listed?.service?.endpoint).toBe(endpoint);
    expect(listed?.status).toBe('started');
  });

  it('a crashing server is started-and-restarting, never terminal', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name));
    k.fake.serviceStep(NS, name, { running: true });
    k.fake.serviceStep(NS, name, { crash: 1 });
    k.fake.serviceStep(NS, name, { crash: 1 });
    const { info } = await k.backend.read(name);
    expect(info.status).toBe('started');
    expect(info.message).toBe('restarting after exit code 1 (2 restarts)');
    expect(info.service).toMatchObject({ healthy: false, restarts: 2 });
  });

  it('a passed progress deadline with no server up stays notstarted, unhealthy, with the reason', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name));
    k.fake.serviceStep(NS, name, { waiting: 'ImagePullBackOff' });
    k.fake.serviceStep(NS, name, { progressDeadline: true });
    const { info } = await k.backend.read(name);
    expect(info.status).toBe('notstarted');
    expect(info.service?.healthy).toBe(false);
    expect(info.message).toMatch(
      /^ProgressDeadlineExceeded: ReplicaSet ".*" has timed out progressing\.; ImagePullBackOff/,
    );
  });

  it('stop scales to 0 for good: terminal, log kept, Deployment and Service stay until delete', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name));
    k.fake.serviceStep(NS, name, { running: true, log: 'served /a\n' });
    await k.backend.stop?.(name, 5);
    await k.fake.settle();
    expect(k.fake.getDeployment(NS, name)?.spec.replicas).toBe(0);
    expect(k.fake.deploymentPods(NS, name)).toHaveLength(0);
    const { info, logs } = await k.backend.read(name, { logs: LIMITS });
    expect(info.status).toBe('finishedWithError');
    expect(info.message).toBe('stopped');
    expect(logs).toBe('served /a\n');
    expect(k.fake.getService(NS, name)).toBeDefined();
    // A second stop is a no-op, not an error.
    await k.backend.stop?.(name, 5);
    expect(
      k.fake.requests.filter(
        (q) => q.method === 'PATCH' && q.path.endsWith(`/deployments/${name}`),
      ),
    ).toHaveLength(1);
  });

  it('delete removes the Deployment, its pods and the Service; a second delete is NotFound', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name));
    k.fake.serviceStep(NS, name, { running: true });
    await k.backend.delete(name);
    await k.fake.settle();
    expect(k.fake.getDeployment(NS, name)).toBeUndefined();
    expect(k.fake.getService(NS, name)).toBeUndefined();
    expect(k.fake.deploymentPods(NS, name)).toHaveLength(0);
    expect(k.fake.pods(NS).filter((p) => p.metadata.labels?.['pman.service.job'] === name)).toEqual(
      [],
    );
    // The Deployment's DELETE names Background and carries no body (kubernetes.md §7.8).
    const del = k.fake.requests.find(
      (q) => q.method === 'DELETE' && q.path.endsWith(`/deployments/${name}`),
    );
    expect(del?.query.propagationPolicy).toBe('Background');
    expect(del?.body ?? '').toBe('');
    await expect(k.backend.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(k.backend.read(name)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a refused Service create makes no Deployment', async () => {
    const k = await rig();
    k.fake.deny({ verb: 'create', resource: 'services' });
    const name = jid();
    await expect(k.backend.create(serviceSpec(name))).rejects.toBeInstanceOf(BackendRefusedError);
    await k.fake.settle();
    expect(k.fake.getDeployment(NS, name)).toBeUndefined();
    expect(k.fake.deploymentPods(NS, name)).toHaveLength(0);
    expect(k.fake.requests.some((q) => q.method === 'POST' && q.path.endsWith('/services'))).toBe(
      true,
    );
  });

  it('a refused Deployment create leaves no Service behind (nothing half-created)', async () => {
    const k = await rig();
    k.fake.deny({ verb: 'create', resource: 'deployments' });
    const name = jid();
    await expect(k.backend.create(serviceSpec(name))).rejects.toBeInstanceOf(BackendRefusedError);
    expect(k.fake.getService(NS, name)).toBeUndefined();
    expect(k.fake.getDeployment(NS, name)).toBeUndefined();
    // It was made, then removed again.
    expect(
      k.fake.requests.some((q) => q.method === 'DELETE' && q.path.endsWith(`/services/${name}`)),
    ).toBe(true);
  });

  it('a Service of ours left by a create or delete cut short is replaced, not a 409 for good', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name, { port: 9090 }));
    // A DELETE cut short after the Service went (here the API fails the Deployment's call): the
    // Deployment stays listed, so the reconciler deletes it again; no Service is left unlisted.
    k.fake.failNext({ method: 'DELETE', path: new RegExp(`/deployments/${name}$`) }, { code: 500 });
    await expect(k.backend.delete(name)).rejects.toThrow();
    expect(k.fake.getService(NS, name)).toBeUndefined();
    expect((await k.backend.list()).map((i) => i.name)).toContain(name);
    await k.backend.delete(name);
    await k.fake.settle();
    expect(k.fake.getDeployment(NS, name)).toBeUndefined();

    // A Service alone, of this instance and this jid, with another port (a create cut short after
    // its Service, then a new POST of the jid): replaced by the create, not a 409 for good.
    await createRaw(k, {
      metadata: {
        name,
        labels: {
          'app.kubernetes.io/managed-by': 'pman',
          'pman.service.job': name,
          'pman.service.port': '9090',
        },
      },
      spec: { selector: { 'pman.service.job': name }, ports: [{ port: 9090 }] },
    });
    const info = await k.backend.create(serviceSpec(name));
    expect(k.fake.getService(NS, name)?.spec.ports?.[0]?.port).toBe(8080);
    expect(info.service?.endpoint).toMatch(/:8080$/);
    expect(k.fake.getDeployment(NS, name)).toBeDefined();
  });

  it('a Service that is not ours, or has its Deployment, is never replaced: 409', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name));
    const before = k.fake.getService(NS, name)?.metadata.uid;
    // A second create of a live service job (its ledger lost): the Service stays, nothing new.
    await expect(k.backend.create(serviceSpec(name))).rejects.toBeInstanceOf(ConflictError);
    expect(k.fake.getService(NS, name)?.metadata.uid).toBe(before);
    expect(k.fake.getDeployment(NS, name)).toBeDefined();

    const foreign = jid();
    await createRaw(k, {
      metadata: { name: foreign, labels: { app: 'someone-else' } },
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
    });
    await expect(k.backend.create(serviceSpec(foreign))).rejects.toBeInstanceOf(ConflictError);
    expect(k.fake.getService(NS, foreign)?.metadata.labels?.app).toBe('someone-else');
    expect(k.fake.getDeployment(NS, foreign)).toBeUndefined();
  });

  it('a Deployment with our managed-by value but no pman.service.job label is no service job', async () => {
    const k = await rig();
    const web = jid();
    const labels = { 'app.kubernetes.io/managed-by': 'pman', app: web };
    await createRaw(
      k,
      {
        metadata: { name: web, labels },
        spec: {
          selector: { matchLabels: { app: web } },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'web', image: 'nginx' }] },
          },
        },
      },
      'Deployment',
    );
    const name = jid();
    await k.backend.create(serviceSpec(name));
    // A backend started now: its informer's first list holds whatever the selector admits.
    const again = await secondBackend(k);
    try {
      const names = (await again.list()).map((i) => i.name);
      expect(names).toContain(name);
      expect(names).not.toContain(web);
      await expect(again.read(web)).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await again.close();
    }
  });

  it('a service jid starting with a digit is refused before any call, naming jid and the rule', async () => {
    const k = await rig();
    const before = k.fake.requests.filter((q) => q.method === 'POST').length;
    const err = await k.backend.create(serviceSpec('1svc')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as Error).message).toMatch(/jid "1svc".*starting with a letter/);
    expect(k.fake.requests.filter((q) => q.method === 'POST').length).toBe(before);
    // The fake says the same (a DNS-1035 label), should the check ever be bypassed.
    const res = await fetch(`${k.fake.url}/api/v1/namespaces/${NS}/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer fake-token' },
      body: JSON.stringify({ metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toMatch(/DNS-1035 label/);
  });

  it('NodePort: the endpoint is SERVICE_NODE_ADDRESS with the allocated node port', async () => {
    const k = await rig({ serviceNodeAddress: '192.0.2.7' });
    const name = jid();
    const info = await k.backend.create(serviceSpec(name, { exposure: 'NodePort' }));
    const svc = k.fake.getService(NS, name);
    expect(svc?.spec.type).toBe('NodePort');
    const nodePort = svc?.spec.ports?.[0]?.nodePort ?? 0;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(info.service?.endpoint).toBe(`http://192.0.2.7:${nodePort}`);
  });

  it("NodePort without SERVICE_NODE_ADDRESS: a node's InternalIP", async () => {
    const k = await rig();
    const res = await fetch(`${k.fake.url}/api/v1/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer fake-token' },
      body: JSON.stringify({
        metadata: { name: 'node-a' },
        status: {
          addresses: [
            { type: 'Hostname', address: 'node-a' },
            { type: 'InternalIP', address: '10.0.0.21' },
          ],
        },
      }),
    });
    expect(res.status).toBe(201);
    const name = jid();
    const info = await k.backend.create(serviceSpec(name, { exposure: 'NodePort' }));
    const nodePort = k.fake.getService(NS, name)?.spec.ports?.[0]?.nodePort ?? 0;
    expect(info.service?.endpoint).toBe(`http://10.0.0.21:${nodePort}`);
  });

  it('the watch reports healthy, then the stop as terminal with the log', async () => {
    const k = await rig();
    const seen: JobRead[] = [];
    k.backend.watchJobs(LIMITS, (s) => seen.push(s));
    const name = jid();
    await k.backend.create(serviceSpec(name));
    k.fake.serviceStep(NS, name, { running: true, log: 'up\n' });
    await until(
      'a healthy snapshot',
      () => Promise.resolve(seen.filter((s) => s.info.name === name)),
      (s) => s.some((x) => x.info.service?.healthy === true),
    );
    await k.backend.stop?.(name, 5);
    const ends = await until(
      'a terminal snapshot',
      () =>
        Promise.resolve(
          seen.filter((s) => s.info.name === name && s.info.status === 'finishedWithError'),
        ),
      (s) => s.length > 0,
    );
    expect(ends[0]?.logs).toBe('up\n');
    expect(ends[0]?.info.message).toBe('stopped');
  });

  it('a second backend over the same cluster reports the same endpoint (restart-safe)', async () => {
    const k = await rig();
    const name = jid();
    const first = await k.backend.create(serviceSpec(name));
    k.fake.serviceStep(NS, name, { running: true });
    const again = await secondBackend(k);
    try {
      const { info } = await again.read(name);
      expect(info.service?.endpoint).toBe(first.service?.endpoint);
      expect(info.service?.healthy).toBe(true);
      expect((await again.list()).map((j) => j.name)).toContain(name);
    } finally {
      await again.close();
    }
  });

  it('streams the logs of the Deployment pods', async () => {
    const k = await rig();
    const name = jid();
    await k.backend.create(serviceSpec(name));
    k.fake.serviceStep(NS, name, { running: true, log: 'GET /\n' });
    let text = '';
    for await (const chunk of k.backend.streamLogs(name)) text += Buffer.from(chunk).toString();
    expect(text).toBe('GET /\n');
  });
});

describe('service jobs on the fake OpenShift (restricted-v2 admission)', () => {
  const UID_RANGE: [number, number] = [1000620000, 1000629999];
  let r: KubeRig | undefined;
  const prefix = runPrefix('osvc');

  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('the openshift profile sends no fixed UID; the admitted pod runs in the range and turns healthy', async () => {
    r = await startKubeRig({
      namespace: NS,
      fake: { openshift: { uidRange: UID_RANGE } },
      config: { kind: 'openshift', runAsNonRoot: true },
    });
    const name = `${prefix}-ok`;
    const { user: _user, ...rest } = serviceSpec(name);
    await r.backend.create(rest);
    for (const q of r.fake.requests.filter((x) => x.method === 'POST')) {
      expect(q.body).not.toMatch(/runAsUser|runAsGroup|fsGroup|hostPath/);
    }
    const [pod] = r.fake.deploymentPods(NS, name);
    expect(pod?.spec.containers?.[0]?.securityContext?.runAsUser).toBe(UID_RANGE[0]);
    r.fake.serviceStep(NS, name, { running: true });
    const { info } = await r.backend.read(name);
    expect(info).toMatchObject({ status: 'started', message: 'running' });
    expect(info.service?.healthy).toBe(true);
  });

  it('a pod the SCC refuses: no pod, notstarted with the FailedCreate text (the job service ends it)', async () => {
    r = await startKubeRig({
      namespace: NS,
      fake: { openshift: { uidRange: UID_RANGE } },
      config: { kind: 'kubernetes' },
    });
    const name = `${prefix}-uid`;
    await r.backend.create(serviceSpec(name));
    expect(r.fake.deploymentPods(NS, name)).toHaveLength(0);
    const { info } = await r.backend.read(name);
    expect(info.status).toBe('notstarted');
    expect(info.message).toMatch(
      /^FailedCreate: pods ".*" is forbidden: unable to validate against any security context constraint/,
    );
  });
});

describe('a Kubernetes service job through the job service', () => {
  let r: KubeRig | undefined;
  let jobs: JobService | undefined;

  afterEach(async () => {
    jobs?.close();
    jobs = undefined;
    await r?.close();
    r = undefined;
  });

  async function start(startTimeoutSeconds: number): Promise<{ k: KubeRig; js: JobService }> {
    r = await startKubeRig({ namespace: NS });
    jobs = new JobService({
      backend: r.backend,
      ledger: Ledger.inMemory(),
      config: testConfig({ service: { startTimeoutSeconds } }),
      storage: { type: 'kubernetes_pvc', claimName: 'storebase' },
    });
    return { k: r, js: jobs };
  }

  const service = { port: 8080, exposure: 'ClusterIP' } as const;

  it('notstarted until the readiness probe passes, then started with the endpoint; cancel stops, DELETE removes', async () => {
    const { k, js } = await start(120);
    const jid = `${runPrefix('jsvc')}-a`;
    await js.create(sampleRequest({ jid, service }));
    k.fake.serviceStep(NS, jid, { running: true, ready: false });
    const waiting = await js.read(jid);
    expect(waiting.info.status).toBe('notstarted');
    k.fake.serviceStep(NS, jid, { running: true });
    const ip = k.fake.getService(NS, jid)?.spec.clusterIP ?? '';
    const started = await until(
      'the job service to see it healthy',
      async () => (await js.read(jid)).info,
      (i) => i.status === 'started',
      10_000,
    );
    expect(started.service?.endpoint).toBe(`http://${ip}:8080`);
    await js.cancel(jid);
    const ended = await until(
      'the cancel to end it',
      async () => (await js.read(jid)).info,
      (i) => i.status === 'finishedWithError',
      10_000,
    );
    expect(ended.message).toMatch(/cancel/);
    expect(k.fake.getDeployment(NS, jid)?.spec.replicas).toBe(0);
    await js.remove(jid);
    await k.fake.settle();
    expect(k.fake.getDeployment(NS, jid)).toBeUndefined();
    expect(k.fake.getService(NS, jid)).toBeUndefined();
  });

  it('a service jid starting with a digit is a 400 naming jid, and nothing is created', async () => {
    const { k, js } = await start(120);
    const err = await js.create(sampleRequest({ jid: '1svc', service })).catch((e: unknown) => e);
    expect(toErrorAnswer(err)).toEqual({
      status: 400,
      message: expect.stringMatching(/^jid "1svc" .*starting with a letter/) as unknown,
    });
    expect(k.fake.requests.filter((q) => q.method === 'POST')).toEqual([]);
    // A batch job may still start with a digit (the Job name rule is DNS-1123).
    await js.create(sampleRequest({ jid: '1batch' }));
    expect(k.fake.getJob(NS, '1batch')).toBeDefined();
  });

  it('never ready within SERVICE_START_TIMEOUT_SECONDS: stopped, finishedWithError with the reason', async () => {
    const { k, js } = await start(1);
    const jid = `${runPrefix('jsvc')}-b`;
    await js.create(sampleRequest({ jid, service }));
    k.fake.serviceStep(NS, jid, { crash: 1 });
    const ended = await until(
      'the start timeout to end it',
      async () => (await js.read(jid)).info,
      (i) => i.status === 'finishedWithError',
      15_000,
    );
    expect(ended.message).toMatch(/not healthy/);
    expect(k.fake.getDeployment(NS, jid)?.spec.replicas).toBe(0);
  });
});
