// The only importer of @kubernetes/client-node (kubernetes.md §7): configuration loading, API
// clients with a timeout on every call, informers, and the one ApiException → domain error map.
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  Log,
  ServerConfiguration,
  VersionApi,
  Watch,
  createConfiguration,
} from '@kubernetes/client-node';
import type {
  CoreV1Event,
  KubernetesListObject,
  KubernetesObject,
  V1Deployment,
  V1Job,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { KubernetesBackendConfig } from './settings.js';
import {
  BackendRefusedError,
  BackendUnavailableError,
  ConflictError,
  InvalidSpecError,
  JobError,
  NotFoundError,
} from '../../domain/errors.js';
import { unreachableCodes } from '../shared/net-errors.js';

export type {
  CoreV1Event,
  V1Container,
  V1Deployment,
  V1Node,
  V1Probe,
  V1Service,
  V1Job,
  V1Pod,
  V1PodSpec,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';

/** Where in-cluster credentials live (loadFromCluster appends its own `/var/run/secrets/...`). */
export interface InClusterOptions {
  /** Prefix of the service-account directory; '' in a real pod, a temporary dir in tests. */
  pathPrefix?: string;
  /** KUBERNETES_SERVICE_HOST / _PORT as read by the caller (client-node reads process.env itself). */
  env?: Readonly<Record<string, string | undefined>>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadedConfig {
  kc: KubeConfig;
  server: string;
  /** JOB_NAMESPACE, else the context's (trimmed) namespace, else 'default'. */
  namespace: string;
}

/**
 * Loads credentials without falling back to client-node's silent `http://localhost:8080`:
 * in a pod the service account, else the KUBECONFIG list (first file loaded, the rest merged),
 * else ~/.kube/config; none of them → a clear BackendRefusedError.
 */
export function loadKubeConfig(
  cfg: Pick<KubernetesBackendConfig, 'inCluster' | 'kubeconfig' | 'namespace'>,
  home: string | undefined,
  inCluster: InClusterOptions = {},
): LoadedConfig {
  const kc = new KubeConfig();
  try {
    if (cfg.inCluster) {
      const prefix = inCluster.pathPrefix ?? '';
      if (!existsSync(`${prefix}${SERVICE_ACCOUNT_DIR}/token`)) {
        throw new BackendRefusedError(
          `kubernetes: KUBERNETES_SERVICE_HOST is set but no service-account token exists at ${prefix}${SERVICE_ACCOUNT_DIR}/token`,
        );
      }
      kc.loadFromCluster(prefix);
      // client-node reads KUBERNETES_SERVICE_HOST/PORT from process.env; prefer the caller's view.
      const server = inClusterServer(inCluster.env);
      if (server !== undefined) kc.clusters = kc.clusters.map((c) => ({ ...c, server }));
    } else {
      const files = (cfg.kubeconfig ?? '').split(delimiter).filter((f) => f !== '');
      const fallback = home === undefined ? undefined : join(home, '.kube', 'config');
      if (files.length === 0 && fallback !== undefined && existsSync(fallback))
        files.push(fallback);
      const [first, ...rest] = files;
      if (first === undefined) {
        throw new BackendRefusedError(
          'kubernetes: no cluster configured: set KUBECONFIG, provide ~/.kube/config, or run in a pod with a service account',
        );
      }
      kc.loadFromFile(first);
      for (const file of rest) {
        const more = new KubeConfig();
        more.loadFromFile(file);
        kc.mergeConfig(more, true);
      }
    }
  } catch (err) {
    if (err instanceof JobError) throw err;
    throw new BackendRefusedError(
      `kubernetes: cannot load the cluster configuration: ${errText(err)}`,
      {
        cause: err,
      },
    );
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new BackendRefusedError(
      `kubernetes: the configuration has no current cluster (context "${kc.getCurrentContext()}")`,
    );
  }
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace?.trim();
  const namespace =
    cfg.namespace ??
    (contextNamespace !== undefined && contextNamespace !== '' ? contextNamespace : 'default');
  return { kc, server: cluster.server, namespace };
}

/** `https://host:port` as loadFromCluster builds it (http for 80, 8080, 8001; IPv6 bracketed). */
function inClusterServer(env: InClusterOptions['env']): string | undefined {
  const host = env?.KUBERNETES_SERVICE_HOST;
  const port = env?.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') return undefined;
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** What an informer reports to the backend; objects keep the shapes the API sent. */
export interface WatchHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
  /** The informer stopped (a non-410 failure); the owner restarts it. Already a domain error. */
  error(err: unknown): void;
  /**
   * The watch stream opened (true) or ended (false, before any re-list or re-watch). The owner
   * trusts its copy only while the stream is open: between the two, changes may be missed.
   */
  watching?(open: boolean): void;
}

/** client-node's Watch, reporting when a stream is open: ListWatch has no such event. */
class ReportingWatch extends Watch {
  readonly #report: (open: boolean) => void;

  constructor(kc: KubeConfig, report: (open: boolean) => void) {
    super(kc);
    this.#report = report;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    let ended = false;
    const controller = await super.watch(path, queryParams, callback, (err: unknown) => {
      ended = true;
      this.#report(false);
      done(err);
    });
    // A refused watch (non-200) has called done already, before super.watch resolved.
    if (!ended) this.#report(true);
    return controller;
  }
}

export interface KubeInformer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The calls of kubernetes.md §1, errors already translated into domain errors. */
export interface KubeClient {
  readonly namespace: string;
  readonly server: string;
  version(): Promise<string>;
  createJob(job: V1Job): Promise<V1Job>;
  readJob(name: string): Promise<V1Job>;
  /**
   * Background propagation, and the uid read before as a precondition (kubernetes.md §7.8): both in
   * the DeleteOptions body, since a server that gets a body ignores the query string.
   * 'changed' when the precondition failed (409: the name now holds another Job); nothing deleted.
   */
  deleteJob(name: string, uid: string | undefined): Promise<'deleted' | 'changed'>;
  listJobs(labelSelector: string): Promise<V1Job[]>;
  listPods(labelSelector: string): Promise<V1Pod[]>;
  listJobEvents(jobName: string): Promise<CoreV1Event[]>;
  /** One container's log; '' when the container never started (the API answers 400). */
  readPodLog(
    pod: string,
    container: string,
    opts: { tailLines?: number; limitBytes?: number },
  ): Promise<string>;
  /**
   * One container's log as a byte stream; empty when it never started. With `follow`, the stream
   * stays open for new output until the container ends (the kubelet closes it) or the signal aborts.
   */
  streamPodLog(
    pod: string,
    container: string,
    tailLines?: number,
    follow?: { signal?: AbortSignal | undefined },
  ): Promise<AsyncIterable<Uint8Array>>;
  jobInformer(labelSelector: string, handlers: WatchHandlers<V1Job>): KubeInformer;
  podInformer(labelSelector: string, handlers: WatchHandlers<V1Pod>): KubeInformer;
  /**
   * Sets the Job's activeDeadlineSeconds (a JSON patch): how a cancel stops it — the Job controller
   * then deletes its pods with their grace and marks it Failed, and never starts another pod.
   * Optional only for test doubles; the real client has it.
   */
  patchJobDeadline?(name: string, seconds: number): Promise<void>;
  /** GET /api/v1/nodes (cluster scope: needs a ClusterRole to list nodes). */
  listNodes?(): Promise<V1Node[]>;
  /** Service jobs (issue 15): an apps/v1 Deployment and a v1 Service per job. Optional only for
   *  test doubles; the real client has them. */
  services?: ServiceCalls;
}

/** The calls a service job needs (kubernetes.md, issue 15), errors already translated. */
export interface ServiceCalls {
  createDeployment(body: V1Deployment): Promise<V1Deployment>;
  readDeployment(name: string): Promise<V1Deployment>;
  listDeployments(labelSelector: string): Promise<V1Deployment[]>;
  /** Background propagation: the pods go with it. */
  deleteDeployment(name: string): Promise<void>;
  /** replicas 0 for good, with the moment written as an annotation (a JSON patch). */
  stopDeployment(name: string, stoppedAt: string): Promise<void>;
  createService(body: V1Service): Promise<V1Service>;
  readService(name: string): Promise<V1Service>;
  deleteService(name: string): Promise<void>;
  deploymentInformer(labelSelector: string, handlers: WatchHandlers<V1Deployment>): KubeInformer;
}

export function createKubeClient(loaded: LoadedConfig, timeoutMs: number): KubeClient {
  const { kc, namespace, server } = loaded;
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: kc },
    // client-node has no default timeout: a server that never answers would hang the call forever.
    promiseMiddleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return Promise.resolve(ctx);
        },
        post: (res) => Promise.resolve(res),
      },
    ],
  });
  const batch = new BatchV1Api(configuration);
  const core = new CoreV1Api(configuration);
  const versionApi = new VersionApi(configuration);
  const apps = new AppsV1Api(configuration);
  const deploymentsPath = `/apis/apps/v1/namespaces/${namespace}/deployments`;
  const jobsPath = `/apis/batch/v1/namespaces/${namespace}/jobs`;
  const podsPath = `/api/v1/namespaces/${namespace}/pods`;

  const call = async <T>(what: string, fn: () => Promise<T>, name?: string): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toDomainError(err, { what, name, namespace });
    }
  };

  function informer<T extends KubernetesObject>(
    path: string,
    labelSelector: string,
    list: () => Promise<KubernetesListObject<T>>,
    handlers: WatchHandlers<T>,
  ): KubeInformer {
    const watch = new ReportingWatch(kc, (open) => handlers.watching?.(open));
    // What makeInformer builds, with a Watch that reports open/closed streams.
    const inf = new ListWatch<T>(path, watch, list, false, labelSelector);
    inf.on('add', (o) => handlers.upsert(o));
    inf.on('update', (o) => handlers.upsert(o));
    inf.on('delete', (o) => handlers.remove(o));
    inf.on('error', (err: unknown) =>
      handlers.error(toDomainError(err, { what: `watch ${path}`, namespace })),
    );
    return { start: () => inf.start(), stop: () => inf.stop() };
  }

  return {
    namespace,
    server,
    version: () => call('get /version', async () => (await versionApi.getCode()).gitVersion),
    createJob: (body) =>
      call('create job', () => batch.createNamespacedJob({ namespace, body }), body.metadata?.name),
    readJob: (name) => call('read job', () => batch.readNamespacedJob({ name, namespace }), name),
    deleteJob: async (name, uid) => {
      const body = {
        propagationPolicy: 'Background',
        ...(uid !== undefined && { preconditions: { uid } }),
      };
      try {
        await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background', body });
        return 'deleted';
      } catch (err) {
        if (uid !== undefined && err instanceof ApiException && err.code === 409) return 'changed';
        throw toDomainError(err, { what: 'delete job', name, namespace });
      }
    },
    patchJobDeadline: async (name, seconds) => {
      // JSON patch (the generated client's default patch type); `add` replaces a present field.
      const body = [{ op: 'add', path: '/spec/activeDeadlineSeconds', value: seconds }];
      await call('patch job', () => batch.patchNamespacedJob({ name, namespace, body }), name);
    },
    listNodes: () => call('list nodes', async () => (await core.listNode()).items),
    services: {
      createDeployment: (body) =>
        call(
          'create deployment',
          () => apps.createNamespacedDeployment({ namespace, body }),
          body.metadata?.name,
        ),
      readDeployment: (name) =>
        call('read deployment', () => apps.readNamespacedDeployment({ name, namespace }), name),
      listDeployments: (labelSelector) =>
        call(
          'list deployments',
          async () => (await apps.listNamespacedDeployment({ namespace, labelSelector })).items,
        ),
      // No body (kubernetes.md §7.8): the query's propagationPolicy is then the one read.
      deleteDeployment: (name) =>
        call(
          'delete deployment',
          async () => {
            await apps.deleteNamespacedDeployment({
              name,
              namespace,
              propagationPolicy: 'Background',
            });
          },
          name,
        ),
      stopDeployment: (name, stoppedAt) =>
        call(
          'stop deployment',
          async () => {
            // JSON patch (the generated client's default type); annotations exist from create.
            const body = [
              { op: 'replace', path: '/spec/replicas', value: 0 },
              {
                op: 'add',
                path: '/metadata/annotations/pman.service.stopped-at',
                value: stoppedAt,
              },
            ];
            await apps.patchNamespacedDeployment({ name, namespace, body });
          },
          name,
        ),
      createService: (body) =>
        call(
          'create service',
          () => core.createNamespacedService({ namespace, body }),
          body.metadata?.name,
        ),
      readService: (name) =>
        call('read service', () => core.readNamespacedService({ name, namespace }), name),
      deleteService: (name) =>
        call(
          'delete service',
          async () => {
            await core.deleteNamespacedService({ name, namespace });
          },
          name,
        ),
      deploymentInformer: (labelSelector, handlers) =>
        informer<V1Deployment>(
          deploymentsPath,
          labelSelector,
          () => apps.listNamespacedDeployment({ namespace, labelSelector }),
          handlers,
        ),
    },
    listJobs: (labelSelector) =>
      call(
        'list jobs',
        async () => (await batch.listNamespacedJob({ namespace, labelSelector })).items,
      ),
    listPods: (labelSelector) =>
      call(
        'list pods',
        async () => (await core.listNamespacedPod({ namespace, labelSelector })).items,
      ),
    listJobEvents: (jobName) =>
      call('list events', async () => {
        const fieldSelector = `involvedObject.kind=Job,involvedObject.name=${jobName}`;
        return (await core.listNamespacedEvent({ namespace, fieldSelector })).items;
      }),
    readPodLog: async (pod, container, opts) => {
      try {
        return await core.readNamespacedPodLog({ name: pod, namespace, container, ...opts });
      } catch (err) {
        // 400: "waiting to start", "does not have a host assigned" → the container printed nothing.
        // 404: the pod went away between the list and this read.
        if (err instanceof ApiException && (err.code === 400 || err.code === 404)) return '';
        throw toDomainError(err, { what: 'read pod log', namespace });
      }
    },
    streamPodLog: async (pod, container, tailLines, follow) => {
      const out = new PassThrough();
      const timer = AbortSignal.timeout(timeoutMs);
      // node-fetch emits an abort or a cut connection as an 'error' on the response body piped in
      // here, which nobody else listens to (it would crash the process): the stream just ends.
      out.on('pipe', (source) => source.on('error', () => out.end()));
      try {
        const started = new Log(kc).log(namespace, pod, container, out, {
          follow: follow !== undefined,
          ...(tailLines !== undefined && { tailLines }),
        });
        // A followed log never ends by itself while the container runs: the caller's abort ends
        // the request (and the stream it feeds).
        const signal = follow?.signal;
        if (signal !== undefined)
          void started.then(
            (request) => {
              const end = (): void => {
                request.abort();
                out.end();
              };
              if (signal.aborted) end();
              else signal.addEventListener('abort', end, { once: true });
            },
            () => undefined,
          );
        // Log.log has no timeout of its own until the response starts.
        await Promise.race([
          started,
          new Promise((_, reject) => {
            timer.addEventListener('abort', () => reject(timer.reason as Error), { once: true });
          }),
        ]);
      } catch (err) {
        out.destroy();
        if (err instanceof ApiException && (err.code === 400 || err.code === 404))
          return emptyStream();
        throw toDomainError(err, { what: 'stream pod log', namespace });
      }
      return out;
    },
    jobInformer: (labelSelector, handlers) =>
      informer<V1Job>(
        jobsPath,
        labelSelector,
        () => batch.listNamespacedJob({ namespace, labelSelector }),
        handlers,
      ),
    podInformer: (labelSelector, handlers) =>
      informer<V1Pod>(
        podsPath,
        labelSelector,
        () => core.listNamespacedPod({ namespace, labelSelector }),
        handlers,
      ),
  };
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}

interface ErrorContext {
  what: string;
  name?: string;
  namespace: string;
}

/** The Status object an ApiException carries as raw text (client-node 1.x), when it parses. */
function statusOf(err: ApiException<unknown>): {
  message?: string;
  reason?: string;
  details?: { kind?: string; retryAfterSeconds?: number };
} {
  const body = err.body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null) return parsed;
    } catch {
      return { message: body };
    }
  }
  if (typeof body === 'object' && body !== null) return body;
  return {};
}

function retryAfter(
  err: ApiException<unknown>,
  fromStatus: number | undefined,
): number | undefined {
  const header = Object.entries(err.headers ?? {}).find(
    ([k]) => k.toLowerCase() === 'retry-after',
  )?.[1];
  const seconds = header === undefined ? fromStatus : Number(header);
  return seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

// UND_ERR_SOCKET: undici's name for a socket that failed under a request.
const NETWORK_CODES = unreachableCodes('UND_ERR_SOCKET');

/**
 * Every client-node failure → a domain error, the original kept as `cause` (kubernetes.md §7.5):
 * 404 → NotFound (a missing namespace → Refused), 409 → Conflict, 400/422 → InvalidSpec,
 * 401/403 → Refused (naming the refused permission), 429/5xx/network/timeout → Unavailable.
 */
export function toDomainError(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof JobError) return err;
  const jid = ctx.name === undefined ? 'job' : `job "${ctx.name}"`;
  if (err instanceof ApiException) {
    const status = statusOf(err);
    const message = status.message ?? `HTTP ${err.code}`;
    switch (err.code) {
      case 404:
        if (status.details?.kind === 'namespaces' || /^namespaces "/.test(message)) {
          return new BackendRefusedError(
            `kubernetes: namespace "${ctx.namespace}" does not exist (${message})`,
            {
              cause: err,
            },
          );
        }
        return new NotFoundError(`${jid} not found`, { cause: err });
      case 409:
        return new ConflictError(`${jid} already exists`, { cause: err });
      case 400:
      case 422:
        return new InvalidSpecError(`kubernetes refused the job: ${message}`, { cause: err });
      case 401:
        return new BackendRefusedError(
          `kubernetes: our credentials were rejected (401 Unauthorized) on ${ctx.what}; check the token or kubeconfig`,
          { cause: err },
        );
      case 403:
        return new BackendRefusedError(`kubernetes: permission denied on ${ctx.what}: ${message}`, {
          cause: err,
        });
      default:
        break;
    }
    const seconds = retryAfter(err, status.details?.retryAfterSeconds);
    return new BackendUnavailableError(
      `kubernetes API error ${err.code} on ${ctx.what}: ${message}`,
      {
        cause: err,
        ...(seconds !== undefined && { retryAfterSeconds: seconds }),
      },
    );
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    name?: string;
    code?: string;
    type?: string;
    message?: string;
  };
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.type === 'aborted') {
    return new BackendUnavailableError(`kubernetes API did not answer in time (${ctx.what})`, {
      cause: err,
    });
  }
  if (
    e.name === 'FetchError' ||
    (e.code !== undefined && NETWORK_CODES.has(e.code)) ||
    e.type === 'system'
  ) {
    return new BackendUnavailableError(
      `kubernetes API unreachable (${ctx.what}): ${e.code ?? errText(err)}`,
      {
        cause: err,
      },
    );
  }
  // A watch that fails to connect rejects with a plain Error carrying statusCode.
  const statusCode = (err as { statusCode?: unknown }).statusCode;
  if (typeof statusCode === 'number') {
    return toDomainError(new ApiException(statusCode, errText(err), undefined, {}), ctx);
  }
  return err instanceof Error ? err : new Error(errText(err));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
