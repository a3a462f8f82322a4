// POST: Jobs with decoding, server defaults, 422 validation and 409 (kubernetes.md §8.3-8.4), and
// the store-only kinds `kubectl apply` needs, without their controllers.

import { randomUUID } from 'node:crypto';
import { fail, keyOf, type Answer, type ApiContext, type ResourceRoute } from './answer.js';
import { decode, decodeFor, isAnswer, namespaceMismatch } from './decode.js';
import { applyJobDefaults, omitEmpty, serverMetadata } from './defaults.js';
import { apiVersionOf, type ResourceInfo } from './discovery.js';
import { namespaceExists } from './namespaces.js';
import { podName } from './pods.js';
import { JOBS } from './resources.js';
import { alreadyExists, badRequest, invalid, namespaceNotFound } from './status.js';
import type { Job, KubeObject } from './types.js';
import { decodeError, validateJob, validateLabels } from './validate.js';

const JOB_INFO = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' } as ResourceInfo;

/** Decode, defaults, 422 validation, 409, store. */
export function createJob(c: ApiContext, ns: string, body: string): Answer {
  const decoded = decodeFor(body, JOB_INFO, ns);
  if (isAnswer(decoded)) return decoded;
  const input = omitEmpty(decoded) as Job;
  input.metadata ??= {};
  input.spec ??= { template: {} };
  input.spec.template ??= {};
  const bad = decodeError(input);
  if (bad) return fail(badRequest(bad));
  if (!namespaceExists(c.store, ns)) return fail(namespaceNotFound(ns));
  if (!input.metadata.name && input.metadata.generateName)
    input.metadata.name = podName(input.metadata.generateName.replace(/-$/, ''));
  const job = applyJobDefaults(input, randomUUID(), ns, c.clock.now());
  const name = job.metadata.name ?? '';
  const causes = validateJob(job);
  if (causes.length > 0) return fail(invalid(JOB_INFO, name, causes));
  if (c.store.get(JOBS, ns, name)) return fail(alreadyExists(JOB_INFO, name));
  return { code: 201, body: c.store.create(JOBS, job) };
}

/** Store-only kinds (and Namespaces): stored with server metadata, nothing acts on them. */
export function createStored(c: ApiContext, r: ResourceRoute, body: string): Answer {
  const decoded = decode(body, r.info);
  if (isAnswer(decoded)) return decoded;
  const ns = r.info.namespaced ? r.namespace : undefined;
  if (
    ns !== undefined &&
    decoded.metadata.namespace !== undefined &&
    decoded.metadata.namespace !== ns
  ) {
    return namespaceMismatch();
  }
  if (ns !== undefined && !namespaceExists(c.store, ns)) return fail(namespaceNotFound(ns));
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
  if (c.store.get(keyOf(r.info), ns, name)) return fail(alreadyExists(r.info, name));
  serverMetadata(obj, randomUUID(), ns, c.clock.now());
  if (r.info.plural === 'deployments') obj.metadata.generation = 1;
  if (r.info.plural === 'namespaces') obj.status = { phase: 'Active' };
  return { code: 201, body: c.store.create(keyOf(r.info), obj) };
}
