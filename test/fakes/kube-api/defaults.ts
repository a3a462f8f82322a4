// What the API server adds on create (kubernetes.md §8.4), and Go's omitempty applied to request bodies.

import { apiTime } from './clock.js';
import { canonicalQuantity } from './quantity.js';
import type { Container, Job, JsonObject, KubeObject, PodSpec, Volume } from './types.js';

/** Map-typed fields (Go maps with omitempty): dropped when empty. Struct pointers such as `securityContext: {}` stay. */
const MAP_FIELDS = new Set([
  'labels',
  'annotations',
  'nodeSelector',
  'matchLabels',
  'limits',
  'requests',
]);
/** Plain (non-pointer) booleans with omitempty that the server drops when false. */
const PLAIN_BOOLS = new Set(['readOnly', 'stdin', 'stdinOnce', 'tty']);

/** Drops what Go's encoder would omit: nulls, '' strings, empty slices, empty maps, false plain booleans. */
export function omitEmpty(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => omitEmpty(v)).filter((v) => v !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (value === null || value === undefined || value === '') return undefined;
  if (value === false && PLAIN_BOOLS.has(key)) return undefined;
  if (typeof value !== 'object') return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const kept = omitEmpty(v, k);
    if (kept !== undefined) out[k] = kept;
  }
  if (Object.keys(out).length === 0 && MAP_FIELDS.has(key)) return undefined;
  return out;
}

/** `Always` for `:latest` or untagged images (no digest), else `IfNotPresent`. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function canonical(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!map) return undefined;
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(canonicalQuantity(v))]));
}

export function defaultContainer(c: Container): Container {
  const limits = canonical(c.resources?.limits);
  const requests = canonical(c.resources?.requests) ?? (limits ? { ...limits } : undefined);
  const out: Container = { ...c };
  out.resources = {
    ...(limits ? { limits } : {}),
    ...(requests ? { requests: { ...limits, ...requests } } : {}),
  };
  out.terminationMessagePath ??= '/dev/termination-log';
  out.terminationMessagePolicy ??= 'File';
  out.imagePullPolicy ??= defaultPullPolicy(c.image ?? '');
  return out;
}

/** emptyDir.sizeLimit is a Quantity too. */
export function canonicalVolume(v: Volume): Volume {
  const emptyDir = v.emptyDir as { sizeLimit?: unknown } | undefined;
  if (emptyDir?.sizeLimit === undefined) return v;
  return { ...v, emptyDir: { ...emptyDir, sizeLimit: canonicalQuantity(emptyDir.sizeLimit) } };
}

/** Metadata the server owns on every created object. */
export function serverMetadata(
  obj: KubeObject,
  uid: string,
  namespace: string | undefined,
  now: Date,
): void {
  const m = obj.metadata;
  if (namespace !== undefined) m.namespace = namespace;
  m.uid = uid;
  m.creationTimestamp = apiTime(now);
  delete m.resourceVersion;
  delete m.deletionTimestamp;
}

/** The four labels that tie a Job, its template and its pods together (1.27+ names plus the legacy ones). */
export function controllerLabels(uid: string, name: string): Record<string, string> {
  return {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
}

/** A pod template's spec as the API server defaults it (a Job's, a Deployment's); `container`
 *  defaults each container (a Deployment's probes get their own defaults on top). */
export function defaultPodSpec(
  podSpec: PodSpec,
  container: (c: Container) => Container = defaultContainer,
): PodSpec {
  return {
    ...podSpec,
    restartPolicy: podSpec.restartPolicy ?? 'Always',
    terminationGracePeriodSeconds: podSpec.terminationGracePeriodSeconds ?? 30,
    dnsPolicy: podSpec.dnsPolicy ?? 'ClusterFirst',
    securityContext: podSpec.securityContext ?? {},
    schedulerName: podSpec.schedulerName ?? 'default-scheduler',
    ...(podSpec.volumes ? { volumes: podSpec.volumes.map(canonicalVolume) } : {}),
    containers: (podSpec.containers ?? []).map(container),
    ...(podSpec.initContainers ? { initContainers: podSpec.initContainers.map(container) } : {}),
  };
}

/** Job, selector, template and container defaults of a 1.27+ API server; returns a new object. */
export function applyJobDefaults(input: Job, uid: string, namespace: string, now: Date): Job {
  const job = structuredClone(input);
  job.kind = 'Job';
  job.apiVersion = 'batch/v1';
  serverMetadata(job, uid, namespace, now);
  const name = job.metadata.name ?? '';
  const labels = controllerLabels(uid, name);
  job.metadata = { ...job.metadata, generation: 1, labels: { ...job.metadata.labels, ...labels } };
  const s = job.spec;
  const template = {
    metadata: { ...s.template.metadata, labels: { ...s.template.metadata?.labels, ...labels } },
    spec: defaultPodSpec(s.template.spec ?? {}),
  };
  job.spec = {
    parallelism: s.parallelism ?? 1,
    // Only both-unset defaults completions; parallelism alone leaves a work-queue Job (completions nil).
    completions: s.completions ?? (s.parallelism === undefined ? 1 : undefined),
    ...(s.activeDeadlineSeconds !== undefined
      ? { activeDeadlineSeconds: s.activeDeadlineSeconds }
      : {}),
    backoffLimit: s.backoffLimit ?? 6,
    selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
    manualSelector: s.manualSelector,
    template,
    ...(s.ttlSecondsAfterFinished !== undefined
      ? { ttlSecondsAfterFinished: s.ttlSecondsAfterFinished }
      : {}),
    completionMode: s.completionMode ?? 'NonIndexed',
    suspend: s.suspend ?? false,
    podReplacementPolicy: s.podReplacementPolicy ?? 'TerminatingOrFailed',
  };
  if (job.spec.manualSelector === undefined) delete job.spec.manualSelector;
  if (job.spec.completions === undefined) delete job.spec.completions;
  job.status = {};
  return job;
}
