// fromDeployment(deployment, pods, endpoint, now): a service job's Deployment and its pods → JobInfo
// (pure; issue 15). Never terminal while the Deployment runs or restarts its pods: the job service
// decides the end (SERVICE_START_TIMEOUT_SECONDS) and calls stop, which scales it to 0 for good.
import type { JobInfo } from '../../domain/job.js';
import { formatStamp, sortPods } from './status.js';
import type { ContainerStatusView, PodView, Stamp } from './status.js';

/** The fields of an apps/v1 Deployment we read. */
export interface DeploymentView {
  metadata?: {
    name?: string;
    creationTimestamp?: Stamp;
    annotations?: Readonly<Record<string, string>>;
  };
  spec?: {
    replicas?: number;
    template?: {
      spec?: { containers?: readonly { image?: string; command?: readonly string[] }[] };
    };
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: readonly {
      type?: string;
      status?: string;
      reason?: string;
      message?: string;
      lastUpdateTime?: Stamp;
      lastTransitionTime?: Stamp;
    }[];
  };
}

/** A container status with what a restarting server shows: restart count and last termination. */
export interface ServiceContainerView extends ContainerStatusView {
  ready?: boolean;
  restartCount?: number;
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

/** A pod as fromDeployment reads it (V1Pod and a watch event's raw object both fit). */
export interface ServicePodView extends PodView {
  status?: Omit<NonNullable<PodView['status']>, 'containerStatuses'> & {
    startTime?: Stamp;
    containerStatuses?: readonly ServiceContainerView[];
  };
}

export function fromDeployment(
  deployment: DeploymentView,
  pods: readonly ServicePodView[],
  endpoint: string | undefined,
  now: Date,
  stoppedAnnotation: string,
): JobInfo {
  const container = deployment.spec?.template?.spec?.containers?.[0];
  const created = deployment.metadata?.creationTimestamp;
  const restarts = pods
    .flatMap((p) => p.status?.containerStatuses ?? [])
    .reduce((sum, cs) => sum + (cs.restartCount ?? 0), 0);
  const base = {
    name: deployment.metadata?.name ?? '',
    image: container?.image ?? '',
    command: [...(container?.command ?? [])],
  };
  const service = (healthy: boolean) => ({
    ...(endpoint !== undefined && { endpoint }),
    healthy,
    restarts,
  });
  const stoppedAt = deployment.metadata?.annotations?.[stoppedAnnotation];
  if (deployment.spec?.replicas === 0 || stoppedAt !== undefined) {
    // The job service supplies the reason (a cancel, a deadline, a failed start).
    return {
      ...base,
      status: 'finishedWithError',
      message: 'stopped',
      timestamp: formatStamp(stoppedAt ?? created, now),
      service: service(false),
    };
  }
  const sorted = sortPods(pods);
  const progress = deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  const stuck =
    progress?.status === 'False'
      ? `${progress.reason ?? 'Progressing'}: ${progress.message ?? ''}`.trim()
      : undefined;
  const running = sorted.find((p) =>
    p.status?.containerStatuses?.some((cs) => cs.state?.running !== undefined),
  );
  const startedAt = (running ?? sorted[0])?.status?.containerStatuses?.find(
    (cs) => cs.state?.running !== undefined,
  )?.state?.running?.startedAt;
  if ((deployment.status?.availableReplicas ?? 0) >= 1) {
    return {
      ...base,
      status: 'started',
      message: 'running',
      timestamp: formatStamp(startedAt ?? running?.status?.startTime ?? created, now),
      service: service(true),
    };
  }
  const restarting = sorted.find((p) =>
    p.status?.containerStatuses?.some((cs) => (cs.restartCount ?? 0) > 0),
  );
  if (running !== undefined || restarting !== undefined) {
    const told = restarting !== undefined ? restartText(restarting) : 'running, not ready';
    return {
      ...base,
      status: 'started',
      message: stuck === undefined ? told : `${told}; ${stuck}`,
      timestamp: formatStamp(startedAt ?? running?.status?.startTime ?? created, now),
      service: service(false),
    };
  }
  // No server process yet (pulling, unschedulable, refused): notstarted, even past the progress
  // deadline; the reason stays in the message (a `started` one would read "waiting for health
  // check" instead), and the job service ends it after SERVICE_START_TIMEOUT_SECONDS.
  const why = pendingText(sorted[0], deployment);
  return {
    ...base,
    status: 'notstarted',
    message: stuck === undefined ? why : `${stuck}; ${why}`,
    timestamp: formatStamp(created, now),
    service: service(false),
  };
}

/** `restarting after exit code 1 (3 restarts)`, from the container the kubelet restarts. */
function restartText(pod: ServicePodView): string {
  const cs = pod.status?.containerStatuses?.find((c) => (c.restartCount ?? 0) > 0);
  const count = cs?.restartCount ?? 0;
  const last = cs?.lastState?.terminated;
  const exit =
    last?.exitCode === undefined
      ? (last?.reason ?? 'exit')
      : `exit code ${last.exitCode}${last.reason === 'OOMKilled' ? ' (OOMKilled)' : ''}`;
  const times = `${count} restart${count === 1 ? '' : 's'}`;
  return cs?.state?.running !== undefined
    ? `running after ${exit} (${times}), not ready`
    : `restarting after ${exit} (${times})`;
}

/** Why no server runs yet: the first pod's waiting reason or scheduling, else the Deployment's. */
function pendingText(pod: ServicePodView | undefined, deployment: DeploymentView): string {
  const failure = deployment.status?.conditions?.find(
    (c) => c.type === 'ReplicaFailure' && c.status === 'True',
  );
  if (pod === undefined) {
    return failure !== undefined
      ? `${failure.reason ?? 'ReplicaFailure'}: ${failure.message ?? ''}`.trim()
      : 'deployment created';
  }
  const waiting = pod.status?.containerStatuses?.find((cs) => cs.state?.waiting !== undefined)
    ?.state?.waiting;
  if (waiting?.reason !== undefined) {
    return waiting.message === undefined ? waiting.reason : `${waiting.reason}: ${waiting.message}`;
  }
  const unscheduled = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False',
  );
  if (unscheduled !== undefined) {
    return `${unscheduled.reason ?? 'Unschedulable'}: ${unscheduled.message ?? ''}`.trim();
  }
  return 'pending';
}

/** The fields of a v1 Service the endpoint comes from. */
export interface ServiceObjectView {
  spec?: {
    type?: string;
    clusterIP?: string;
    ports?: readonly { port?: number; nodePort?: number }[];
  };
}

/**
 * `http://<clusterIP>:<port>`; for a NodePort Service `http://<nodeAddress>:<nodePort>` (the address
 * from SERVICE_NODE_ADDRESS or a node's InternalIP). Undefined until the API assigned them.
 */
export function serviceEndpoint(
  service: ServiceObjectView,
  nodeAddress: string | undefined,
): string | undefined {
  const port = service.spec?.ports?.[0];
  if (service.spec?.type === 'NodePort') {
    if (nodeAddress === undefined || port?.nodePort === undefined) return undefined;
    return `http://${hostPart(nodeAddress)}:${port.nodePort}`;
  }
  const ip = service.spec?.clusterIP;
  if (ip === undefined || ip === '' || ip === 'None' || port?.port === undefined) return undefined;
  return `http://${hostPart(ip)}:${port.port}`;
}

function hostPart(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** The InternalIP of the first node that has one (then ExternalIP): where a NodePort answers. */
export function nodeAddress(
  nodes: readonly { status?: { addresses?: readonly { type?: string; address?: string }[] } }[],
): string | undefined {
  for (const kind of ['InternalIP', 'ExternalIP']) {
    for (const node of nodes) {
      const found = node.status?.addresses?.find((a) => a.type === kind)?.address;
      if (found !== undefined && found !== '') return found;
    }
  }
  return undefined;
}
