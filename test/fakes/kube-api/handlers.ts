// What each resource request does: create with defaults and validation, get, list, watch, patch, logs.

import { randomUUID } from 'node:crypto';
import type { FakeClock } from './clock.js';
import { JOBS, type JobController } from './controller.js';
import { applyJobDefaults, omitEmpty, serverMetadata } from './defaults.js';
import { apiVersionOf, type ResourceInfo } from './discovery.js';
import { deleteObject, type Later } from './delete.js';
import type { LogBook, LogOptions } from './pod-logs.js';
import { podName } from './pods.js';
import type { Route } from './routes.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  alreadyExists,
  badRequest,
  failure,
  invalid,
  methodNotAllowed,
  namespaceNotFound,
  notFound,
  type StatusError,
} from './status.js';
import { resourceKey, type Store } from './store.js';
import type { Job, JsonObject, KubeObject, Pod } from './types.js';
import { decodeError, validateJob, validateLabels } from './validate.js';
import type { WatchRequest } from './watch.js';

export interface Answer {
  code: number;
  body: JsonObject | Buffer;
  headers?: Record<string, string>;
}

export type Outcome = Answer | { watch: WatchRequest };

export interface ApiContext {
  store: Store;
  controller: JobController;
  logs: LogBook;
  clock: FakeClock;
  autoAdvance: 'off' | 'perRead';
  later: Later;
}

export interface ApiRequest {
  method: string;
  query: Record<string, string>;
  body: string;
  contentType: string;
}

type ResourceRoute = Extract<Route, { kind: 'resource' }>;

const NAMESPACES = resourceKey('', 'namespaces');

export function keyOf(info: ResourceInfo): string {
  return resourceKey(info.group, info.plural);
}

function fail(e: StatusError): Answer {
  return { code: e.code, body: e.body, ...(e.headers ? { headers: e.headers } : {}) };
}

export function namespaceExists(store: Store, ns: string): boolean {
  return store.get(NAMESPACES, undefined, ns) !== undefined;
}

/** The Namespace object startFakeKubeApi() puts in the store for each configured namespace. */
export function namespaceObject(name: string): KubeObject {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { name, uid: randomUUID() },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** Parses a JSON object body; the 400 text names the kind the way the decoder does. */
function decode(body: string, info: ResourceInfo): KubeObject | Answer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return fail(
      badRequest(
        `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${why}`,
      ),
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(
      badRequest(
        `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: json: cannot unmarshal into Go value of type struct`,
      ),
    );
  }
  const obj = parsed as KubeObject;
  if (obj.kind !== undefined && obj.kind !== info.kind) {
    return fail(
      badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(info)})`,
      ),
    );
  }
  obj.metadata ??= {};
  return obj;
}

function isAnswer(x: KubeObject | Answer): x is Answer {
  return (
    typeof (x as Answer).code === 'number' && (x as Answer).body !== undefined && !('metadata' in x)
  );
}

/** Typed lists carry no kind/apiVersion on their items. */
function listOf(info: ResourceInfo, items: KubeObject[], rv: number): JsonObject {
  return {
    kind: `${info.kind}List`,
    apiVersion: apiVersionOf(info),
    metadata: { resourceVersion: String(rv) },
    items: items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
  };
}

function intParam(query: Record<string, string>, name: string): number | undefined | Answer {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw))
    return fail(badRequest(`strconv.ParseInt: parsing "${raw}": invalid syntax`));
  return Number(raw);
}

export class ResourceHandlers {
  readonly #c: ApiContext;

  constructor(c: ApiContext) {
    this.#c = c;
  }

  handle(r: ResourceRoute, req: ApiRequest): Outcome {
    const { info } = r;
    const watch = req.query.watch === 'true' || req.query.watch === '1';
    switch (req.method) {
      case 'GET':
        if (r.name === undefined) return watch ? this.#watch(r, req) : this.#list(r, req);
        if (r.sub === 'log' && info.plural === 'pods')
          return this.#podLog(r.namespace ?? '', r.name, req.query);
        if (r.sub !== undefined) return fail(methodNotAllowed());
        return this.#get(r, r.name);
      case 'POST':
        if (r.name !== undefined) return fail(methodNotAllowed());
        if (info.plural === 'jobs') return this.#createJob(r.namespace ?? '', req.body);
        if (info.storeOnly || info.plural === 'namespaces') return this.#createStored(r, req.body);
        return fail(methodNotAllowed());
      case 'DELETE':
        if (r.name === undefined || r.sub !== undefined) return fail(methodNotAllowed());
        return deleteObject(this.#c, info, r.namespace, r.name, req.query, req.body);
      case 'PATCH':
        if (!info.storeOnly || r.name === undefined || r.sub !== undefined)
          return fail(methodNotAllowed());
        return this.#patch(r, r.name, req);
      default:
        return fail(methodNotAllowed());
    }
  }

  #get(r: ResourceRoute, name: string): Answer {
    const key = keyOf(r.info);
    if (this.#c.autoAdvance === 'perRead' && key === JOBS && r.namespace) {
      this.#c.controller.advance(r.namespace, name, 1);
    }
    const obj = this.#c.store.get(key, r.namespace, name);
    return obj ? { code: 200, body: obj } : fail(notFound(r.info, name));
  }

  #selectors(r: ResourceRoute, req: ApiRequest): ((o: KubeObject) => boolean) | Answer {
    const labels = parseLabelSelector(req.query.labelSelector);
    if (!labels.ok) return fail(badRequest(labels.message));
    const fields = parseFieldSelector(req.query.fieldSelector, r.info.plural);
    if (!fields.ok) return fail(badRequest(fields.message));
    return (o) => labels.match(o) && fields.match(o);
  }

  #list(r: ResourceRoute, req: ApiRequest): Answer {
    const match = this.#selectors(r, req);
    if (typeof match !== 'function') return match;
    const items = this.#c.store.list(keyOf(r.info), r.namespace).filter(match);
    return { code: 200, body: listOf(r.info, items, this.#c.store.resourceVersion) };
  }

  #watch(r: ResourceRoute, req: ApiRequest): Outcome {
    const match = this.#selectors(r, req);
    if (typeof match !== 'function') return match;
    const timeout = intParam(req.query, 'timeoutSeconds');
    if (typeof timeout === 'object') return timeout;
    return {
      watch: {
        resource: keyOf(r.info),
        kind: r.info.kind,
        apiVersion: apiVersionOf(r.info),
        namespace: r.namespace,
        match,
        resourceVersion: req.query.resourceVersion,
        timeoutSeconds: timeout,
        bookmarks: req.query.allowWatchBookmarks === 'true',
      },
    };
  }

  /** Decode, defaults, 422 validation, 409, store (kubernetes.md §8.3-8.4). */
  #createJob(ns: string, body: string): Answer {
    const info = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' } as ResourceInfo;
    const decoded = decode(body, info);
    if (isAnswer(decoded)) return decoded;
    if (decoded.metadata.namespace !== undefined && decoded.metadata.namespace !== ns) {
      return fail(
        badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        ),
      );
    }
    const input = omitEmpty(decoded) as Job;
    input.metadata ??= {};
    input.spec ??= { template: {} };
    input.spec.template ??= {};
    const bad = decodeError(input);
    if (bad) return fail(badRequest(bad));
    if (!namespaceExists(this.#c.store, ns)) return fail(namespaceNotFound(ns));
    if (!input.metadata.name && input.metadata.generateName)
      input.metadata.name = podName(input.metadata.generateName.replace(/-$/, ''));
    const job = applyJobDefaults(input, randomUUID(), ns, this.#c.clock.now());
    const name = job.metadata.name ?? '';
    const causes = validateJob(job);
    if (causes.length > 0) return fail(invalid(info, name, causes));
    if (this.#c.store.get(JOBS, ns, name)) return fail(alreadyExists(info, name));
    return { code: 201, body: this.#c.store.create(JOBS, job) };
  }

  /** Store-only kinds (and Namespaces): what `kubectl apply` needs, without their controllers. */
  #createStored(r: ResourceRoute, body: string): Answer {
    const decoded = decode(body, r.info);
    if (isAnswer(decoded)) return decoded;
    const ns = r.info.namespaced ? r.namespace : undefined;
    if (
      ns !== undefined &&
      decoded.metadata.namespace !== undefined &&
      decoded.metadata.namespace !== ns
    ) {
      return fail(
        badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        ),
      );
    }
    if (ns !== undefined && !namespaceExists(this.#c.store, ns)) return fail(namespaceNotFound(ns));
    const obj = omitEmpty(decoded) as KubeObject;
    obj.metadata ??= {};
    obj.kind = r.info.kind;
    obj.apiVersion = apiVersionOf(r.info);
    const name = obj.metadata.name ?? '';
    const causes = name
      ? validateLabels(obj.metadata.labels, 'metadata.labels')
      : [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: name or generateName is required',
            field: 'metadata.name',
          },
        ];
    if (causes.length > 0) return fail(invalid(r.info, name, causes));
    if (this.#c.store.get(keyOf(r.info), ns, name)) return fail(alreadyExists(r.info, name));
    serverMetadata(obj, randomUUID(), ns, this.#c.clock.now());
    if (r.info.plural === 'deployments') obj.metadata.generation = 1;
    if (r.info.plural === 'namespaces') obj.status = { phase: 'Active' };
    return { code: 201, body: this.#c.store.create(keyOf(r.info), obj) };
  }

  /** JSON merge patch semantics for both merge-patch and strategic-merge-patch (lists are replaced). */
  #patch(r: ResourceRoute, name: string, req: ApiRequest): Answer {
    const type = req.contentType.split(';')[0]?.trim() ?? '';
    if (
      type !== 'application/merge-patch+json' &&
      type !== 'application/strategic-merge-patch+json'
    ) {
      return fail(
        failure(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
        ),
      );
    }
    const current = this.#c.store.get(keyOf(r.info), r.namespace, name);
    if (!current) return fail(notFound(r.info, name));
    let patch: unknown;
    try {
      patch = JSON.parse(req.body);
    } catch (e) {
      return fail(badRequest(e instanceof Error ? e.message : String(e)));
    }
    const merged = mergePatch(current, patch) as KubeObject;
    merged.metadata = {
      ...merged.metadata,
      name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
    };
    return { code: 200, body: this.#c.store.update(keyOf(r.info), merged) };
  }

  /** The kubelet's log endpoint with the API server's checks in front (kubernetes.md §8.9). */
  #podLog(ns: string, name: string, query: Record<string, string>): Answer {
    const info = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' } as ResourceInfo;
    const pod = this.#c.store.get(resourceKey('', 'pods'), ns, name) as Pod | undefined;
    if (!pod) return fail(notFound(info, name));
    const names = [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])].map(
      (c) => c.name ?? '',
    );
    let container = query.container;
    if (container === undefined || container === '') {
      const main = (pod.spec.containers ?? []).map((c) => c.name ?? '');
      if (main.length !== 1) {
        return fail(
          badRequest(
            `a container name must be specified for pod ${name}, choose one of: [${main.join(' ')}]`,
          ),
        );
      }
      container = main[0] ?? '';
    } else if (!names.includes(container)) {
      return fail(badRequest(`container ${container} is not valid for pod ${name}`));
    }
    if (!pod.spec.nodeName) return fail(badRequest(`pod "${name}" does not have a host assigned`));
    if (query.previous === 'true') {
      return fail(
        badRequest(`previous terminated container "${container}" in pod "${name}" not found`),
      );
    }
    const state = pod.status.containerStatuses?.find((s) => s.name === container)?.state;
    if (!state || state.waiting) {
      const reason = state?.waiting?.reason ?? 'ContainerCreating';
      const detail =
        reason === 'ErrImagePull'
          ? "image can't be pulled"
          : reason === 'ImagePullBackOff'
            ? 'trying and failing to pull image'
            : reason;
      return fail(
        badRequest(`container "${container}" in pod "${name}" is waiting to start: ${detail}`),
      );
    }
    const opts: LogOptions = { timestamps: query.timestamps === 'true' };
    for (const key of ['tailLines', 'limitBytes', 'sinceSeconds'] as const) {
      const v = intParam(query, key);
      if (typeof v === 'object') return v;
      if (v !== undefined) opts[key] = v;
    }
    const text = this.#c.logs.read(ns, name, container, opts, this.#c.clock.now());
    return { code: 200, body: text, headers: { 'Content-Type': 'text/plain' } };
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: JsonObject =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as JsonObject) }
      : {};
  for (const [k, v] of Object.entries(patch as JsonObject)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
