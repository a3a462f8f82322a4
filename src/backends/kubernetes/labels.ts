// The label every Kubernetes Job and pod we create carries; list() and the informers select on it,
// and read, logs and delete refuse (404) a Job without it: another tool's Job is not ours to touch.
// Its value is this instance's (`pman`, or `pman-<INSTANCE_ID>`), as for Docker and Swarm.
import type { V1Job } from './client.js';

export { MANAGED_BY_VALUE, managedByValue } from '../shared/labels.js';

export const KUBE_MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The label selector of this instance's Jobs and pods. */
export function managedSelector(managedBy: string): string {
  return `${KUBE_MANAGED_BY_LABEL}=${managedBy}`;
}

/** Whether the Job carries this instance's managed-by label. */
export function isOurs(job: V1Job, managedBy: string): boolean {
  return job.metadata?.labels?.[KUBE_MANAGED_BY_LABEL] === managedBy;
}
