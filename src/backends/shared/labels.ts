// The label every Docker container and Swarm service we create carries; list() and the event
// stream filter on it, and a container or service without it is never ours to report or remove.
export const DOCKER_MANAGED_BY_LABEL = 'org.chrisproject.managed-by';
export const MANAGED_BY_VALUE = 'pman';
