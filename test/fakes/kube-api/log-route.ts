// GET …/pods/{name}/log: the kubelet's log endpoint with the API server's checks in front (kubernetes.md §8.9).

import { fail, intParam, type ApiContext, type Outcome } from './answer.js';
import type { ResourceInfo } from './discovery.js';
import type { LogOptions } from './pod-logs.js';
import { badRequest, notFound } from './status.js';
import { resourceKey } from './store.js';
import type { Pod } from './types.js';

const POD_INFO = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' } as ResourceInfo;

/** The kubelet's words for a container that cannot have output yet. */
function waitingDetail(reason: string): string {
  if (reason === 'ErrImagePull') return "image can't be pulled";
  if (reason === 'ImagePullBackOff') return 'trying and failing to pull image';
  return reason;
}

export function podLog(
  c: ApiContext,
  ns: string,
  name: string,
  query: Record<string, string>,
): Outcome {
  const pod = c.store.get(resourceKey('', 'pods'), ns, name) as Pod | undefined;
  if (!pod) return fail(notFound(POD_INFO, name));
  const names = [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])].map(
    (ct) => ct.name ?? '',
  );
  let container = query.container;
  if (container === undefined || container === '') {
    const main = (pod.spec.containers ?? []).map((ct) => ct.name ?? '');
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
    const detail = waitingDetail(state?.waiting?.reason ?? 'ContainerCreating');
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
  const text = c.logs.read(ns, name, container, opts, c.clock.now());
  if (query.follow === 'true') {
    const key = container;
    const all = (): Buffer =>
      c.logs.read(ns, name, key, { timestamps: opts.timestamps }, c.clock.now());
    const start = all().length;
    return {
      follow: {
        first: text,
        appended: () => all().subarray(start),
        ended: () => {
          const now = c.store.get(resourceKey('', 'pods'), ns, name) as Pod | undefined;
          const st = now?.status.containerStatuses?.find((s) => s.name === key)?.state;
          return now === undefined || st?.terminated !== undefined;
        },
      },
    };
  }
  return { code: 200, body: text, headers: { 'Content-Type': 'text/plain' } };
}
