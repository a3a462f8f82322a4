// startFakeKubeApi(): a faithful fake Kubernetes API server on 127.0.0.1 for the backend's tests (kubernetes.md §8).

import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { createFakeClock } from './clock.js';
import { JobController } from './controller.js';
import { DeploymentController, type ServiceStep } from './deployment-controller.js';
import { DEPLOYMENTS, type Deployment } from './deployments.js';
import { SERVICES, type Service } from './services.js';
import { deleteJobNow } from './delete.js';
import { EVENTS, type Event } from './events.js';
import { Faults } from './faults.js';
import type { ApiContext } from './answer.js';
import { ResourceHandlers } from './handlers.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { namespaceObject } from './namespaces.js';
import { LogBook } from './pod-logs.js';
import { ownedBy } from './pods.js';
import { JOBS, PODS } from './resources.js';
import { createHandler } from './server.js';
import { resourceKey, Store } from './store.js';
import type {
  FakeKubeApiOptions,
  FaultAnswer,
  Job,
  Pod,
  RecordedRequest,
  RequestMatch,
  Step,
} from './types.js';
import { Watches, type ExpiredForm } from './watch.js';

export type {
  ServiceStep,
  Deployment,
  Service,
  Step,
  RecordedRequest,
  RequestMatch,
  FakeKubeApiOptions,
  FaultAnswer,
  Job,
  Pod,
  Event,
};
export { ORPHAN_WARNING } from './delete.js';
export { DEFAULT_SCENARIO } from './scenarios.js';

export interface FakeKubeApi {
  /** `http://127.0.0.1:<port>` (or https with `tls`). */
  readonly url: string;
  /** YAML: this server, skipTLSVerify (http) or CA data (https), a token user, the namespace (default: the first). */
  kubeconfig(opts?: { namespace?: string }): string;
  /** Every request in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** The fake's time; moving it runs the TTL controller and activeDeadlineSeconds. Give it to the backend as `now`. */
  readonly clock: { now(): Date; set(d: Date): void; tick(ms: number): void };
  /** How pods of Jobs with this name (checked first) or this image behave. */
  scenario(imageOrJob: string, steps: Step[]): void;
  /** Applies the next step(s) of the Job's scenario, follow-up controller steps included. Throws for an unknown Job. */
  advance(namespace: string, job: string, steps?: number): Promise<void>;
  /** Applies steps until nothing changes any more (the scenario ended, or admission keeps refusing). */
  runToEnd(namespace: string, job: string): Promise<void>;
  /** RBAC: answer 403 for this verb (`get`, `list`, `watch`, `create`, `delete`, …; '*') on this resource (`jobs`, `pods/log`, '*'). */
  deny(rule: { verb: string; resource: string }): void;
  /** Answers the next matching request with this fault instead. */
  failNext(match: RequestMatch, answer: FaultAnswer): void;
  /** Ends every open watch stream cleanly. */
  closeWatches(): void;
  close(): Promise<void>;

  // Helpers beyond kubernetes.md §8.1 (read-only views and test hooks).

  /** The stored Job (a copy), or undefined. */
  getJob(namespace: string, name: string): Job | undefined;
  /** Pods in a namespace (copies, creation order); with `job`, only pods owned by that Job. */
  pods(namespace: string, job?: string): Pod[];
  /** Events in a namespace (copies). */
  events(namespace: string): Event[];
  /** Number of watch streams currently open (poll it to know an informer is watching). */
  readonly openWatches: number;
  /**
   * An etcd compaction: every resourceVersion handed out so far becomes too old. Watches from them answer
   * a 410 `Expired` ERROR event (`'event'`, the default) or HTTP 410 before streaming (`'http'`).
   */
  expireResourceVersions(form?: ExpiredForm): void;
  /** Resolves once the garbage collector's pending work (pods after a delete) has run. */
  settle(): Promise<void>;

  // Deployments and Services (issue 15).

  /** The stored Deployment (a copy), or undefined. */
  getDeployment(namespace: string, name: string): Deployment | undefined;
  /** The stored Service (a copy), or undefined. */
  getService(namespace: string, name: string): Service | undefined;
  /** The pods of a Deployment (through its ReplicaSet), terminating ones included. */
  deploymentPods(namespace: string, name: string): Pod[];
  /** Makes every pod of the Deployment take this step, then runs the controller's sync. */
  serviceStep(namespace: string, name: string, step: ServiceStep): void;
}

export async function startFakeKubeApi(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const namespaces = opts.namespaces ?? ['default'];
  const serverVersion = opts.serverVersion ?? '1.31';
  const store = new Store(opts.watchWindow ?? 1000);
  const logs = new LogBook();
  const faults = new Faults();
  const watches = new Watches(store);
  const requests: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const pending = new Set<NodeJS.Immediate>();
  let expiredForm: ExpiredForm = 'event';

  const start = new Date(Math.floor(Date.now() / 1000) * 1000);
  // The listener only runs on set()/tick(), after ctx below exists.
  const clock = createFakeClock(start, () => {
    ctx.controller.onClockMove((job) => deleteJobNow(ctx, job));
  });
  const controller = new JobController({
    store,
    logs,
    clock,
    minor: Number(serverVersion.slice(2)),
    ...(opts.openshift ? { uidRange: opts.openshift.uidRange } : {}),
  });
  const later = (fn: () => void): void => {
    const h = setImmediate(() => {
      pending.delete(h);
      fn();
    });
    pending.add(h);
  };
  const deployments = new DeploymentController({
    store,
    logs,
    clock,
    later,
    ...(opts.openshift ? { uidRange: opts.openshift.uidRange } : {}),
  });
  const ctx: ApiContext = {
    store,
    controller,
    deployments,
    logs,
    clock,
    autoAdvance: opts.autoAdvance ?? 'off',
    later,
  };
  for (const ns of namespaces) store.create(resourceKey('', 'namespaces'), namespaceObject(ns));

  const handler = createHandler({
    handlers: new ResourceHandlers(ctx),
    watches,
    faults,
    token: opts.token,
    serverVersion,
    requests,
    now: () => clock.now(),
    expiredForm: () => expiredForm,
    hanging,
  });
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    : createHttpServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const requireJob = (ns: string, name: string): void => {
    if (!store.get(JOBS, ns, name)) throw new Error(`fake kube-api: no Job ${ns}/${name}`);
  };

  return {
    url,
    kubeconfig: (o = {}) =>
      kubeconfigYaml({
        url,
        token: opts.token ?? 'fake-token',
        namespace: o.namespace ?? namespaces[0] ?? 'default',
        ...(opts.tls ? { caCert: opts.tls.cert } : {}),
      }),
    requests,
    clock,
    scenario: (key, steps) => controller.scenario(key, steps),
    advance(ns, job, steps = 1) {
      requireJob(ns, job);
      controller.advance(ns, job, steps);
      return Promise.resolve();
    },
    runToEnd(ns, job) {
      requireJob(ns, job);
      controller.runToEnd(ns, job);
      return Promise.resolve();
    },
    deny: (rule) => faults.deny(rule),
    failNext: (match, answer) => faults.failNext(match, answer),
    closeWatches: () => watches.closeAll(),
    getJob: (ns, name) => store.get(JOBS, ns, name) as Job | undefined,
    pods(ns, job) {
      const all = store.list(PODS, ns) as Pod[];
      if (job === undefined) return all;
      const owner = store.get(JOBS, ns, job);
      return owner
        ? all.filter((p) => ownedBy(p, owner.metadata.uid ?? ''))
        : all.filter((p) => p.metadata.labels?.['job-name'] === job);
    },
    events: (ns) => store.list(EVENTS, ns) as Event[],
    get openWatches() {
      return watches.count;
    },
    expireResourceVersions(form: ExpiredForm = 'event') {
      expiredForm = form;
      store.expireAll();
    },
    getDeployment: (ns, name) => store.get(DEPLOYMENTS, ns, name) as Deployment | undefined,
    getService: (ns, name) => store.get(SERVICES, ns, name) as Service | undefined,
    deploymentPods: (ns, name) => deployments.pods(ns, name),
    serviceStep: (ns, name, step) => deployments.step(ns, name, step),
    async settle() {
      while (pending.size > 0) await new Promise((r) => setImmediate(r));
    },
    async close() {
      watches.closeAll();
      for (const h of pending) clearImmediate(h);
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
