// The label every Docker container and Swarm service we create carries; list() and the event
// stream filter on it, and a container or service without it is never ours to report or remove.
export const DOCKER_MANAGED_BY_LABEL = 'org.chrisproject.managed-by';
/** The value without INSTANCE_ID: what every pman before INSTANCE_ID wrote, so it stays the default. */
export const MANAGED_BY_VALUE = 'pman';

/**
 * The managed-by value of this instance: `pman`, or `pman-<INSTANCE_ID>` (src/config/instance.ts
 * reads and checks INSTANCE_ID). Each instance filters on its own value, so two pman servers on
 * one engine or namespace never see, or delete, each other's jobs (issue 10, 12).
 */
export function managedByValue(instanceId: string | undefined): string {
  return instanceId === undefined ? MANAGED_BY_VALUE : `${MANAGED_BY_VALUE}-${instanceId}`;
}
