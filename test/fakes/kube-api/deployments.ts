// apps/v1 Deployments (issue 15): decode, server defaults, 422 validation, 409, and the PATCH the
// backend's stop sends (replicas, annotations). The controller side is deployment-controller.ts.

import { randomUUID } from 'node:crypto';
import { fail, type Answer, type ApiContext, type ApiRequest } from './answer.js';
import { decodeFor, isAnswer } from './decode.js';
import { defaultContainer, defaultPodSpec, omitEmpty, serverMetadata } from './defaults.js';
import type { ResourceInfo } from './discovery.js';
import { namespaceExists } from './namespaces.js';
import { mergePatch, readPatch } from './patch.js';
import { alreadyExists, failure, invalid, namespaceNotFound, notFound } from './status.js';
import type { StatusCause } from './status.js';
import type { Container, KubeObject, PodTemplate } from './types.js';
import {
  DNS1123_SUBDOMAIN,
  invalidValue,
  required,
  SUBDOMAIN_TEXT,
  validateLabels,
  validatePodSpec,
} from './validate.js';

export const DEPLOYMENTS = 'apps/deployments';
export const DEPLOYMENT_INFO = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
} as ResourceInfo;

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template: PodTemplate;
    progressDeadlineSeconds?: number;
    revisionHistoryLimit?: number;
    strategy?: unknown;
    minReadySeconds?: number;
    [key: string]: unknown;
  };
  status: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: DeploymentCondition[];
  };
}

/** Decode, defaults, 422, 409, store; the controller then creates the pods. */
export function createDeployment(c: ApiContext, ns: string, body: string): Answer {
  const decoded = decodeFor(body, DEPLOYMENT_INFO, ns);
  if (isAnswer(decoded)) return decoded;
  const input = omitEmpty(decoded) as Deployment;
  input.metadata ??= {};
  input.spec ??= { template: {} };
  input.spec.template ??= {};
  if (!namespaceExists(c.store, ns)) return fail(namespaceNotFound(ns));
  const d = applyDeploymentDefaults(input, ns, c.clock.now());
  const name = d.metadata.name ?? '';
  const causes = validateDeployment(d);
  if (causes.length > 0) return fail(invalid(DEPLOYMENT_INFO, name, causes));
  if (c.store.get(DEPLOYMENTS, ns, name)) return fail(alreadyExists(DEPLOYMENT_INFO, name));
  const stored = c.store.create(DEPLOYMENTS, d) as Deployment;
  c.deployments.sync(ns, name);
  return { code: 201, body: stored };
}

function applyDeploymentDefaults(input: Deployment, ns: string, now: Date): Deployment {
  const d = structuredClone(input);
  d.kind = 'Deployment';
  d.apiVersion = 'apps/v1';
  serverMetadata(d, randomUUID(), ns, now);
  d.metadata.generation = 1;
  d.metadata.annotations = {
    ...d.metadata.annotations,
    'deployment.kubernetes.io/revision': '1',
  };
  const podSpec = d.spec.template.spec ?? {};
  d.spec = {
    ...d.spec,
    replicas: d.spec.replicas ?? 1,
    strategy: d.spec.strategy ?? {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
    },
    revisionHistoryLimit: d.spec.revisionHistoryLimit ?? 10,
    progressDeadlineSeconds: d.spec.progressDeadlineSeconds ?? 600,
    template: {
      ...d.spec.template,
      spec: defaultPodSpec(podSpec, (x) => defaultProbes(defaultContainer(x))),
    },
  };
  d.status = {};
  return d;
}

const PROBE_DEFAULTS = {
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
};

function defaultProbes(c: Container): Container {
  const out: Container = { ...c };
  for (const key of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const probe = out[key] as Record<string, unknown> | undefined;
    if (probe === undefined) continue;
    const httpGet = probe.httpGet as Record<string, unknown> | undefined;
    out[key] = {
      ...probe,
      ...(httpGet ? { httpGet: { ...httpGet, scheme: httpGet.scheme ?? 'HTTP' } } : {}),
      ...Object.fromEntries(Object.entries(PROBE_DEFAULTS).map(([k, v]) => [k, probe[k] ?? v])),
    };
  }
  if (out.ports) {
    out.ports = out.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' }));
  }
  return out;
}

function validateProbe(probe: unknown, path: string, liveness: boolean): StatusCause[] {
  if (probe === undefined) return [];
  const p = probe as Record<string, Record<string, unknown> | number | undefined>;
  const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter((k) => p[k] !== undefined);
  const out: StatusCause[] = [];
  if (handlers.length === 0) out.push(required(path, 'must specify a handler type'));
  if (handlers.length > 1)
    out.push({
      reason: 'FieldValueForbidden',
      message: 'Forbidden: may not specify more than 1 handler type',
      field: path,
    });
  for (const k of ['httpGet', 'tcpSocket']) {
    const h = p[k] as Record<string, unknown> | undefined;
    if (h === undefined) continue;
    const port = h.port;
    if (typeof port === 'number' && (port < 1 || port > 65535))
      out.push(invalidValue(`${path}.${k}.port`, port, 'must be between 1 and 65535, inclusive'));
    if (k === 'httpGet' && typeof h.path === 'string' && !h.path.startsWith('/'))
      out.push(invalidValue(`${path}.httpGet.path`, h.path, 'must be an absolute path'));
  }
  if (liveness && p.successThreshold !== undefined && p.successThreshold !== 1)
    out.push(invalidValue(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  return out;
}

/** The 422 causes for a defaulted Deployment. */
function validateDeployment(d: Deployment): StatusCause[] {
  const out: StatusCause[] = [];
  const name = d.metadata.name;
  if (!name) out.push(required('metadata.name', 'name or generateName is required'));
  else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253)
    out.push(invalidValue('metadata.name', name, SUBDOMAIN_TEXT));
  out.push(...validateLabels(d.metadata.labels, 'metadata.labels'));
  const s = d.spec;
  if (typeof s.replicas === 'number' && s.replicas < 0)
    out.push(invalidValue('spec.replicas', s.replicas, 'must be greater than or equal to 0'));
  const match = s.selector?.matchLabels;
  if (match === undefined || Object.keys(match).length === 0) {
    out.push(required('spec.selector'));
  } else {
    const labels = s.template.metadata?.labels ?? {};
    if (!Object.entries(match).every(([k, v]) => labels[k] === v)) {
      out.push(
        invalidValue(
          'spec.template.metadata.labels',
          JSON.stringify(labels),
          '`selector` does not match template `labels`',
        ),
      );
    }
  }
  if (
    typeof s.progressDeadlineSeconds === 'number' &&
    s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)
  )
    out.push(
      invalidValue(
        'spec.progressDeadlineSeconds',
        s.progressDeadlineSeconds,
        'must be greater than minReadySeconds',
      ),
    );
  out.push(...validateLabels(s.template.metadata?.labels, 'spec.template.labels'));
  out.push(...validatePodSpec(s.template.spec, 'spec.template.spec', ['Always']));
  (s.template.spec?.containers ?? []).forEach((c, i) => {
    const path = `spec.template.spec.containers[${i}]`;
    out.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`, false));
    out.push(...validateProbe(c.livenessProbe, `${path}.livenessProbe`, true));
    out.push(...validateProbe(c.startupProbe, `${path}.startupProbe`, true));
    (c.ports ?? []).forEach((p, j) => {
      const port = p.containerPort;
      if (typeof port !== 'number' || port < 1 || port > 65535)
        out.push(
          invalidValue(
            `${path}.ports[${j}].containerPort`,
            port ?? 0,
            'must be between 1 and 65535, inclusive',
          ),
        );
    });
  });
  return out;
}

/**
 * PATCH: a JSON patch of `add`/`replace` operations on spec.replicas and metadata annotations (what
 * the backend's stop sends; other paths answer 422 so a test notices an unexpected patch), or a
 * merge patch (kubectl apply). The controller then syncs (scale down deletes pods).
 */
export function patchDeployment(c: ApiContext, ns: string, name: string, req: ApiRequest): Answer {
  const patch = readPatch(req);
  if ('code' in patch) return patch;
  const { body } = patch;
  const current = c.store.get(DEPLOYMENTS, ns, name) as Deployment | undefined;
  if (current === undefined) return fail(notFound(DEPLOYMENT_INFO, name));
  let next: Deployment;
  if (patch.jsonPatch) {
    const applied = applyJsonPatch(current, body);
    if (typeof applied === 'string') {
      return fail(failure(422, 'Invalid', `Deployment.apps "${name}" is invalid: ${applied}`));
    }
    next = applied;
  } else {
    next = mergePatch(current, body) as Deployment;
    next.metadata = { ...next.metadata, name, namespace: ns, uid: current.metadata.uid };
  }
  const replicas = next.spec.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    return fail(
      invalid(DEPLOYMENT_INFO, name, [
        invalidValue('spec.replicas', replicas ?? 'null', 'must be greater than or equal to 0'),
      ]),
    );
  }
  if (JSON.stringify(next.spec) !== JSON.stringify(current.spec))
    next.metadata.generation = (current.metadata.generation ?? 1) + 1;
  c.store.update(DEPLOYMENTS, next);
  c.deployments.sync(ns, name);
  return { code: 200, body: c.store.get(DEPLOYMENTS, ns, name) ?? next };
}

/** RFC 6902 add/replace on the two places the backend writes; the reason otherwise. */
function applyJsonPatch(current: Deployment, body: unknown): Deployment | string {
  if (!Array.isArray(body)) return 'a JSON patch is an array of operations';
  const next = structuredClone(current);
  for (const raw of body) {
    const op = raw as { op?: unknown; path?: unknown; value?: unknown };
    if (op.op !== 'add' && op.op !== 'replace')
      return `the fake takes add/replace only, got ${String(op.op)}`;
    if (op.path === '/spec/replicas') {
      next.spec.replicas = op.value as number;
      continue;
    }
    const m = /^\/metadata\/annotations\/(.+)$/.exec(String(op.path));
    if (m?.[1] !== undefined) {
      if (next.metadata.annotations === undefined)
        return `doc is missing path: "${String(op.path)}": missing value`;
      const key = m[1].replace(/~1/g, '/').replace(/~0/g, '~');
      if (op.op === 'replace' && !(key in next.metadata.annotations))
        return `replace operation does not apply: doc is missing key: ${String(op.path)}`;
      next.metadata.annotations[key] = String(op.value);
      continue;
    }
    return `only spec.replicas and metadata.annotations may be patched in this fake, got ${String(op.path)}`;
  }
  return next;
}
