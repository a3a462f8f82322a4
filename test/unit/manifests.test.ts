// The deployment files (architecture.md §11): every kustomize variant renders with `kubectl
// kustomize`, every object passes its Kubernetes schema, the RBAC is exactly the backend's calls,
// the settings are accepted by our own loadConfig, and the swarm stack and Dockerfile say what
// the docs promise.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { INetworkPolicy, INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type { IRole, IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { toJob } from '../../src/backends/kubernetes/manifest.js';
import { loadConfig } from '../../src/config/config.js';

const root = join(import.meta.dirname, '..', '..');
const variants = ['kubernetes', 'kubernetes/dev', 'kubernetes/openshift'] as const;
type Variant = (typeof variants)[number];

/** A rendered object, narrowed only as far as the checks below need. */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** The schema of every kind we ship; a kind not listed here is itself a failure. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

type Selector = NonNullable<INetworkPolicyPeer['podSelector']>;

/** Whether `labels` match a label selector (matchLabels and the four matchExpressions operators). */
function selects(selector: Selector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    byLabel &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      switch (operator) {
        case 'In':
          return value !== undefined && values.includes(value);
        case 'NotIn':
          return value === undefined || !values.includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          throw new Error(`unknown operator ${operator}`);
      }
    })
  );
}

/** The labels of one of our job pods: toJob's template labels plus what the Job controller adds. */
function jobPodLabels(name: string): Record<string, string> {
  const job = toJob(
    {
      name,
      image: 'busybox',
      command: ['true'],
      env: {},
      resources: { workers: 1, cpuMillicores: 100, memoryMiB: 64, gpus: 0 },
      mounts: [],
      labels: {},
    },
    {
      profile: 'kubernetes',
      namespace: 'chris',
      nodeSelector: {},
      tolerations: [],
      requestRatio: 1,
      imagePullSecrets: [],
      ttlSecondsAfterFinished: 60,
      activeDeadlineSeconds: 60,
      gpuResourceName: 'nvidia.com/gpu',
      runAsNonRoot: false,
      managedBy: 'pman',
    },
  );
  return {
    ...job.spec?.template.metadata?.labels,
    'batch.kubernetes.io/job-name': name,
    'batch.kubernetes.io/controller-uid': 'u-1',
    'job-name': name,
    'controller-uid': 'u-1',
  };
}

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// CI has kubectl; a developer machine without it skips loudly rather than passing vacuously.
const kubectlPresent = hasKubectl();
if (!kubectlPresent && (process.env.CI === 'true' || process.env.REQUIRE_KUBECTL === '1')) {
  throw new Error('kubectl is required to render the kustomize manifests (CI=true)');
}
if (!kubectlPresent) console.warn('[manifests.test] kubectl not found: kustomize checks skipped');

function render(variant: Variant): KubeObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(root, variant)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((doc) => doc.toJS() as KubeObject);
}

function only<T>(objects: KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(
    found.map((o) => o.metadata.name),
    `exactly one ${kind}`,
  ).toHaveLength(1);
  return found[0] as unknown as T;
}

function podSpec(objects: KubeObject[]): IPodSpec {
  const spec = only<IDeployment>(objects, 'Deployment').spec?.template.spec;
  if (spec === undefined) throw new Error('Deployment without a pod spec');
  return spec;
}

function pmanContainer(objects: KubeObject[]): IContainer {
  const container = podSpec(objects).containers.find((c) => c.name === 'pman');
  if (container === undefined) throw new Error('no container named pman');
  return container;
}

function configData(objects: KubeObject[]): Record<string, string> {
  return only<{ data?: Record<string, string> }>(objects, 'ConfigMap').data ?? {};
}

describe.skipIf(!kubectlPresent).each(variants)('kustomize %s', (variant) => {
  const objects = kubectlPresent ? render(variant) : [];

  it('renders only known kinds, each valid against its Kubernetes schema', () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (Model === undefined)
        throw new Error(`${object.apiVersion} ${object.kind} is not expected`);
      // kubernetes-models checks the object against the API's OpenAPI schema.
      expect(() => new Model(object as never).validate()).not.toThrow();
    }
  });

  it('grants exactly the calls of kubernetes.md §1, namespaced, to the pod’s service account', () => {
    const role = only<IRole>(objects, 'Role');
    const rules = (role.rules ?? []).map((r) => ({
      apiGroups: r.apiGroups,
      resources: r.resources,
      verbs: [...(r.verbs ?? [])].sort(),
    }));
    expect(rules).toEqual([
      {
        apiGroups: ['batch'],
        resources: ['jobs'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: [''], resources: ['events'], verbs: ['list'] },
      // Service jobs (issue 15): a Deployment and a Service each.
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      },
      { apiGroups: [''], resources: ['services'], verbs: ['create', 'delete', 'get'] },
    ]);
    expect(objects.some((o) => o.kind.startsWith('Cluster'))).toBe(false);
    const binding = only<IRoleBinding>(objects, 'RoleBinding');
    const account = only<KubeObject>(objects, 'ServiceAccount').metadata.name;
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata?.name,
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account }]);
    expect(podSpec(objects).serviceAccountName).toBe(account);
  });

  it('runs one replica on 5010 with the health probes and the CLI flags of the image', () => {
    const deployment = only<IDeployment>(objects, 'Deployment');
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.spec?.strategy?.type).toBe('Recreate');
    const container = pmanContainer(objects);
    expect(container.args).toEqual(['pman', '--ip', '0.0.0.0', '--port', '5010']);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 5010, protocol: 'TCP' }]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    const secret = container.env?.find((e) => e.name === 'SECRET_KEY')?.valueFrom?.secretKeyRef;
    expect(secret).toMatchObject({ key: 'SECRET_KEY', optional: true });
    const configMap = only<KubeObject>(objects, 'ConfigMap').metadata.name;
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap } }]);
  });

  it('passes the restricted pod security level without a fixed UID (OpenShift restricted-v2)', () => {
    const spec = podSpec(objects);
    expect(spec.securityContext?.runAsNonRoot).toBe(true);
    expect(spec.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
    const context = pmanContainer(objects).securityContext;
    expect(context?.allowPrivilegeEscalation).toBe(false);
    expect(context?.capabilities?.drop).toEqual(['ALL']);
    expect(context?.privileged).toBeUndefined();
    const rendered = JSON.stringify(objects);
    expect(rendered).not.toMatch(/"runAs(User|Group)"/);
    // The state volume's group: 1000 (the image's user) where we choose; on OpenShift the SCC
    // assigns the project's own, and refuses any other.
    expect(spec.securityContext?.fsGroup).toBe(
      variant === 'kubernetes/openshift' ? undefined : 1000,
    );
  });

  // Issue 11: the job store (STATE_DIR) lives on a ReadWriteOnce PVC, with one writer at a time.
  it('keeps the job store on the pman-state PVC, below its mount, with one writer', () => {
    const claim = objects.find(
      (o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === 'pman-state',
    ) as (KubeObject & { spec: PersistentVolumeClaim['spec'] }) | undefined;
    expect(claim?.spec?.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim?.spec?.resources?.requests?.storage).toBe('1Gi');
    expect(claim?.metadata.labels?.['app.kubernetes.io/component']).toBe('state');
    const volume = (podSpec(objects).volumes ?? []).find(
      (v) => v.persistentVolumeClaim?.claimName === 'pman-state',
    );
    const mount = pmanContainer(objects).volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount?.mountPath).toBe('/var/lib/pman');
    expect(mount?.readOnly).toBeUndefined();
    const stateDir = configData(objects).STATE_DIR ?? '';
    expect(stateDir.startsWith('/var/lib/pman/')).toBe(true);
    expect(
      loadConfig({ ...configData(objects), KUBERNETES_SERVICE_HOST: '10.0.0.1' }).stateDir,
    ).toBe(stateDir);
    expect(only<IDeployment>(objects, 'Deployment').spec?.strategy?.type).toBe('Recreate');
    // SQLite's temporary files need a writable place on the read-only root file system.
    const tmp = pmanContainer(objects).volumeMounts?.find((m) => m.mountPath === '/tmp');
    const tmpVolume = (podSpec(objects).volumes ?? []).find((v) => v.name === tmp?.name);
    expect(tmpVolume?.emptyDir).toBeDefined();
  });

  // Issue 10, item 4: the API is for pfcon inside the cluster; only dev/ publishes a NodePort.
  it('exposes the Service pman on 5010 as ClusterIP (NodePort 30010 only in dev), selecting the pod', () => {
    const service = only<KubeObject & { spec: Service['spec'] }>(objects, 'Service');
    expect(service.metadata.name).toBe('pman');
    const dev = variant === 'kubernetes/dev';
    expect(service.spec?.type).toBe(dev ? 'NodePort' : 'ClusterIP');
    expect(service.spec?.ports).toEqual([
      {
        name: 'http',
        port: 5010,
        targetPort: 'http',
        ...(dev && { nodePort: 30010 }),
        protocol: 'TCP',
      },
    ]);
    const podLabels = only<IDeployment>(objects, 'Deployment').spec?.template.metadata?.labels;
    expect(podLabels).toMatchObject(service.spec?.selector ?? { missing: 'selector' });
  });

  // Issue 10, item 4: plugin code in a job pod must not reach pman's API (auth is off by default).
  it.skipIf(variant === 'kubernetes/dev')(
    'has a NetworkPolicy on the pman pod that admits pfcon-like pods and refuses our job pods',
    () => {
      const policy = only<INetworkPolicy>(objects, 'NetworkPolicy');
      const podLabels =
        only<IDeployment>(objects, 'Deployment').spec?.template.metadata?.labels ?? {};
      expect(selects(policy.spec?.podSelector ?? {}, podLabels)).toBe(true);
      expect(policy.spec?.policyTypes).toEqual(['Ingress']);
      const peers = (policy.spec?.ingress ?? []).flatMap((rule) => rule.from ?? []);
      // Every peer names pods (no ipBlock, no bare namespace): a node or pod IP range would let job pods in.
      for (const peer of peers) {
        expect(peer.ipBlock).toBeUndefined();
        expect(peer.podSelector).toBeDefined();
      }
      const admits = (labels: Record<string, string>): boolean =>
        peers.some((peer) => selects(peer.podSelector ?? {}, labels));
      expect(admits(jobPodLabels('chris-jid-1'))).toBe(false);
      // Any Job's pod, even one another tool made, and a pod with only the legacy label.
      expect(admits({ 'job-name': 'other', 'controller-uid': 'u' })).toBe(false);
      expect(admits({ 'batch.kubernetes.io/job-name': 'other' })).toBe(false);
      expect(
        admits({ 'app.kubernetes.io/name': 'pfcon', 'app.kubernetes.io/managed-by': 'Helm' }),
      ).toBe(true);
      expect(admits({ app: 'chris' })).toBe(true);
      const ports = (policy.spec?.ingress ?? []).flatMap((rule) => rule.ports ?? []);
      expect(ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
    },
  );

  it('dev drops the NetworkPolicy together with ClusterIP, and says so', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    expect(policies).toHaveLength(variant === 'kubernetes/dev' ? 0 : 1);
    if (variant === 'kubernetes/dev') {
      const text = readFileSync(join(root, 'kubernetes', 'dev', 'kustomization.yaml'), 'utf8');
      expect(text).toMatch(/Never use dev\/ where untrusted plugins run/);
    }
  });

  it('tells how pfcon authenticates when auth is turned on', () => {
    const text = readFileSync(join(root, 'kubernetes', 'base', 'deployment.yaml'), 'utf8');
    expect(text).toMatch(/ENABLE_TOKEN_AUTH=yes/);
    expect(text).toMatch(/header-adding proxy/);
    expect(text).toMatch(/Authorization: Bearer <token>/);
  });

  it('holds settings that our own loadConfig accepts, for the intended backend and storage', () => {
    const data = configData(objects);
    const config = loadConfig({ ...data, KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    const expected = {
      kubernetes: { containerEnv: 'kubernetes', storageType: 'kubernetes_pvc' },
      'kubernetes/dev': { containerEnv: 'kubernetes', storageType: 'host' },
      'kubernetes/openshift': { containerEnv: 'openshift', storageType: 'kubernetes_pvc' },
    } satisfies Record<Variant, { containerEnv: string; storageType: string }>;
    expect({ containerEnv: config.containerEnv, storageType: config.storageType }).toEqual(
      expected[variant],
    );
    expect(config.warnings).toEqual([]);
  });

  it('backs storeBase with what STORAGE_TYPE names: the PVC, or a hostPath at the same path', () => {
    const data = configData(objects);
    const volumes = podSpec(objects).volumes ?? [];
    const claims = objects.filter(
      (o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name !== 'pman-state',
    );
    if (data.STORAGE_TYPE === 'kubernetes_pvc') {
      expect(claims.map((c) => c.metadata.name)).toEqual([data.VOLUME_NAME]);
      expect(volumes.some((v) => v.hostPath !== undefined)).toBe(false);
      return;
    }
    expect(variant).toBe('kubernetes/dev');
    expect(claims).toEqual([]);
    const hostPath = volumes.find((v) => v.hostPath !== undefined);
    expect(hostPath?.hostPath?.path).toBe(data.STOREBASE);
    const mount = pmanContainer(objects).volumeMounts?.find((m) => m.name === hostPath?.name);
    expect(mount?.mountPath).toBe(data.STOREBASE);
  });
});

describe('swarm/stack.yml', () => {
  const text = readFileSync(join(root, 'swarm', 'stack.yml'), 'utf8');
  const stack = parse(text) as {
    services: Record<string, Record<string, unknown>>;
    secrets?: Record<string, unknown>;
  };
  const pman = stack.services.pman ?? {};

  it('runs pman as a swarm backend with host storage on a manager, labelled as pman', () => {
    expect(pman.environment).toMatchObject({
      CONTAINER_ENV: 'swarm',
      STORAGE_TYPE: 'host',
      STOREBASE: expect.stringContaining('${STOREBASE') as unknown,
    });
    expect(pman.deploy).toMatchObject({
      replicas: 1,
      placement: {
        constraints: [
          'node.role == manager',
          expect.stringMatching(/^node\.hostname == \$\{PMAN_NODE:\?/),
        ],
      },
      labels: { 'org.chrisproject.role': 'pman' },
    });
    expect(pman.user).toMatch(/^1000:\$\{DOCKER_GID/);
    expect(pman.image).toContain('${PMAN_IMAGE');
  });

  it('mounts the Docker socket, storeBase at the same path inside as on the host, and the job store', () => {
    expect(pman.volumes).toEqual([
      { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' },
      { type: 'bind', source: '${STOREBASE}', target: '${STOREBASE}' },
      { type: 'volume', source: 'pman-state', target: '/var/lib/pman' },
    ]);
    // A named volume of the stack (kept by `docker stack rm`), never an anonymous one.
    expect(Object.keys((stack as { volumes?: object }).volumes ?? {})).toEqual(['pman-state']);
    expect(pman.deploy).toMatchObject({ update_config: { order: 'stop-first' } });
  });

  it('publishes ${PMAN_PORT:-30010} to 5010, checks /health and passes SECRET_KEY as a secret', () => {
    expect(pman.ports).toEqual([
      expect.objectContaining({ target: 5010, published: '${PMAN_PORT:-30010}', protocol: 'tcp' }),
    ]);
    expect(JSON.stringify(pman.healthcheck)).toContain('http://127.0.0.1:5010/health');
    expect(pman.secrets).toEqual([expect.objectContaining({ source: 'pman_secret_key' })]);
    expect(Object.keys(stack.secrets ?? {})).toEqual(['pman_secret_key']);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const lastStage = text.slice(text.lastIndexOf('\nFROM '));

  it('ships a non-root numeric user, port 5010, a node health check and pman’s default command', () => {
    expect(lastStage).toMatch(/^USER 1000$/m);
    expect(lastStage).toMatch(/^EXPOSE 5010$/m);
    expect(lastStage).toMatch(/^HEALTHCHECK .*\n\s+CMD \["node", "-e", ".*\/health/m);
    expect(lastStage).toMatch(/^CMD \["pman", "--ip", "0\.0\.0\.0", "--port", "5010"\]$/m);
    expect(lastStage).toMatch(/^ARG BUILD_VERSION/m);
    expect(lastStage).toContain('org.opencontainers.image.version="${BUILD_VERSION}"');
  });

  it('keeps the job store in a volume at STATE_DIR=/var/lib/pman, private to user 1000', () => {
    expect(lastStage).toMatch(/^ {4}STATE_DIR=\/var\/lib\/pman$/m);
    expect(lastStage).toMatch(/^VOLUME \/var\/lib\/pman$/m);
    expect(lastStage).toContain('chown 1000:1000 /var/lib/pman && chmod 0700 /var/lib/pman');
    // Created before the VOLUME line: a later change to a volume's folder would be discarded.
    expect(lastStage.indexOf('chmod 0700 /var/lib/pman')).toBeLessThan(
      lastStage.indexOf('VOLUME /var/lib/pman'),
    );
  });

  it('keeps npm out of the runtime stage: it copies dist/ and production dependencies', () => {
    expect(lastStage).not.toMatch(/npm (ci|install)/);
    expect(lastStage).toContain('COPY --from=build /app/node_modules');
    expect(text).toContain('npm prune --omit=dev');
  });
});
