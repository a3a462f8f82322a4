// A service job (issue 15) as an apps/v1 Deployment plus a v1 Service (pure). The pod template is
// the batch Job's (toJob): same limits and limit modes, storeBase mounts, security context, user,
// tolerations and labels; only what a long-running server needs differs (restartPolicy Always,
// probes, a container port, a selector of its own).
import { InvalidSpecError } from '../../domain/errors.js';
import type { JobSpec, ServiceSpec } from '../../domain/job.js';
import type { V1Deployment, V1Probe, V1Service } from './client.js';
import { toJob } from './manifest.js';
import type { ManifestOptions } from './manifest.js';

/** The label (and annotation) that says a Deployment is a service job, and on which port it listens. */
export const SERVICE_PORT_LABEL = 'pman.service.port';
/** The per-job label the Deployment selects its pods by and the Service routes to. */
export const SERVICE_JOB_LABEL = 'pman.service.job';
/** Set by stop(): when the service was scaled to 0 for good (the terminal timestamp). */
export const STOPPED_AT_ANNOTATION = 'pman.service.stopped-at';

/**
 * A Service name is a DNS-1035 label (it must start with a letter); the Kubernetes job-name rule
 * lets a jid start with a digit, so a service jid is checked once more before anything is created.
 */
export const SERVICE_NAME_RULE = {
  pattern: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  rule: "on Kubernetes a service job's jid names its Service: 1-63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit",
} as const;

/** What toDeployment needs beyond the batch manifest options. */
export interface ServiceManifestOptions extends ManifestOptions {
  /** SERVICE_START_TIMEOUT_SECONDS: the Deployment's progressDeadlineSeconds (then Progressing=False). */
  progressDeadlineSeconds: number;
}

/** Probe thresholds: ready after one pass; once up, restarted after ~30 s of failing liveness. */
const PROBE_PERIOD_SECONDS = 5;
const LIVENESS_FAILURES = 6;

/** InvalidSpecError (400) naming `jid` when the name cannot be a Service name. */
export function assertServiceName(name: string): void {
  if (!SERVICE_NAME_RULE.pattern.test(name)) {
    throw new InvalidSpecError(
      `jid "${name}" cannot name a service job here: ${SERVICE_NAME_RULE.rule}`,
    );
  }
}

function serviceOf(spec: JobSpec): ServiceSpec {
  if (spec.service === undefined) throw new Error(`job ${spec.name} is not a service job`);
  return spec.service;
}

/** The labels of both objects and the pods: the batch ones plus the port and the per-job label. */
export function serviceLabels(spec: JobSpec, opts: ManifestOptions): Record<string, string> {
  const job = toJob(spec, opts);
  return {
    ...job.metadata?.labels,
    [SERVICE_PORT_LABEL]: String(serviceOf(spec).port),
    [SERVICE_JOB_LABEL]: spec.name,
  };
}

/** The Deployment's and the Service's metadata: named by the jid, the port as an annotation too. */
function objectMeta(
  spec: JobSpec,
  opts: ManifestOptions,
  labels: Record<string, string>,
): NonNullable<V1Service['metadata']> {
  return {
    name: spec.name,
    namespace: opts.namespace,
    labels,
    annotations: { [SERVICE_PORT_LABEL]: String(serviceOf(spec).port) },
  };
}

/** The readiness check: HTTP GET healthPath when given, else a TCP connect to the port. */
function probe(service: ServiceSpec): Pick<V1Probe, 'httpGet' | 'tcpSocket'> {
  return service.healthPath === undefined
    ? { tcpSocket: { port: service.port } }
    : { httpGet: { path: service.healthPath, port: service.port } };
}

export function toDeployment(spec: JobSpec, opts: ServiceManifestOptions): V1Deployment {
  const service = serviceOf(spec);
  const job = toJob(spec, opts);
  const template = job.spec?.template;
  const podSpec = template?.spec;
  const container = podSpec?.containers[0];
  if (podSpec === undefined || container === undefined) throw new Error('toJob made no pod');
  const labels = serviceLabels(spec, opts);
  const check = probe(service);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(spec, opts, labels),
    spec: {
      replicas: spec.resources.workers,
      selector: { matchLabels: { [SERVICE_JOB_LABEL]: spec.name } },
      // The job service ends a service that is not healthy after SERVICE_START_TIMEOUT_SECONDS; the
      // Deployment says Progressing=False (ProgressDeadlineExceeded) at the same moment.
      progressDeadlineSeconds: opts.progressDeadlineSeconds,
      revisionHistoryLimit: 0,
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          ...podSpec,
          restartPolicy: 'Always',
          containers: [
            {
              ...container,
              ports: [{ name: 'service', containerPort: service.port, protocol: 'TCP' }],
              readinessProbe: {
                ...check,
                periodSeconds: PROBE_PERIOD_SECONDS,
                timeoutSeconds: 2,
                successThreshold: 1,
                failureThreshold: 3,
              },
              // A slow server (a model to load) has the whole start timeout to come up, as on
              // Docker: liveness only begins once the startup probe passed, so it never kills a
              // server while it boots; the job service ends one that never comes up.
              startupProbe: {
                ...check,
                periodSeconds: PROBE_PERIOD_SECONDS,
                timeoutSeconds: 2,
                failureThreshold: Math.max(
                  1,
                  Math.ceil(opts.progressDeadlineSeconds / PROBE_PERIOD_SECONDS),
                ),
              },
              livenessProbe: {
                ...check,
                periodSeconds: PROBE_PERIOD_SECONDS,
                timeoutSeconds: 2,
                failureThreshold: LIVENESS_FAILURES,
              },
            },
          ],
        },
      },
    },
  };
}

export function toService(spec: JobSpec, opts: ManifestOptions): V1Service {
  const service = serviceOf(spec);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(spec, opts, serviceLabels(spec, opts)),
    spec: {
      type: service.exposure,
      selector: { [SERVICE_JOB_LABEL]: spec.name },
      ports: [{ name: 'service', port: service.port, targetPort: service.port, protocol: 'TCP' }],
    },
  };
}
