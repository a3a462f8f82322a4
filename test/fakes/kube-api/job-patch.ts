// PATCH of a Job (issue 13, the backend's cancel): JSON patch or merge patch of the one mutable field
// the backend changes, spec.activeDeadlineSeconds. The real server accepts more; anything else is
// refused here as the immutable-field 422 would be, so a test notices a patch it did not expect.
// A deadline already passed is acted on at once, as the Job controller's next sync would.

import { fail, type Answer, type ApiContext, type ApiRequest } from './answer.js';
import { readPatch } from './patch.js';
import { JOBS } from './resources.js';
import { failure } from './status.js';
import type { Job } from './types.js';

export function patchJob(c: ApiContext, namespace: string, name: string, req: ApiRequest): Answer {
  const patch = readPatch(req);
  if ('code' in patch) return patch;
  const current = c.store.get(JOBS, namespace, name) as Job | undefined;
  if (current === undefined) {
    return fail(
      failure(404, 'NotFound', `jobs.batch "${name}" not found`, {
        name,
        group: 'batch',
        kind: 'jobs',
      }),
    );
  }
  const seconds = patch.jsonPatch ? fromJsonPatch(patch.body) : fromMergePatch(patch.body);
  if (typeof seconds === 'string') {
    return fail(failure(422, 'Invalid', `Job.batch "${name}" is invalid: ${seconds}`));
  }
  const updated: Job = { ...current, spec: { ...current.spec, activeDeadlineSeconds: seconds } };
  const saved = c.store.update(JOBS, updated) as Job;
  // The controller's next sync: a deadline already passed fails the Job now.
  c.controller.onClockMove(() => undefined);
  return { code: 200, body: c.store.get(JOBS, namespace, name) ?? saved };
}

/** The new activeDeadlineSeconds, or what is wrong with the patch. */
function fromJsonPatch(body: unknown): number | string {
  if (!Array.isArray(body) || body.length !== 1) return 'the fake takes one JSON patch operation';
  const op = body[0] as { op?: unknown; path?: unknown; value?: unknown };
  if ((op.op !== 'add' && op.op !== 'replace') || op.path !== '/spec/activeDeadlineSeconds')
    return 'only spec.activeDeadlineSeconds may be patched in this fake';
  return positive(op.value);
}

function fromMergePatch(body: unknown): number | string {
  const spec = (body as { spec?: Record<string, unknown> } | null)?.spec;
  if (
    spec === undefined ||
    Object.keys(body as object).length !== 1 ||
    Object.keys(spec).length !== 1
  )
    return 'only spec.activeDeadlineSeconds may be patched in this fake';
  return positive(spec.activeDeadlineSeconds);
}

function positive(value: unknown): number | string {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
    ? value
    : 'spec.activeDeadlineSeconds: Invalid value: must be greater than or equal to 1';
}
