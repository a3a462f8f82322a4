// The podman backend: the docker backend (src/backends/docker) on Podman's socket, with the
// Podman flavour. Loaded by the module's open() only.
import type { Backend, BackendDeps } from '../backend.js';
import { createDockerBackend } from '../docker/docker.js';
import { PODMAN_FLAVOUR } from './flavour.js';
import type { PodmanBackendConfig } from './settings.js';

export function createPodmanBackend(cfg: PodmanBackendConfig, deps: BackendDeps): Promise<Backend> {
  return createDockerBackend({ ...cfg, kind: 'docker', alias: 'podman' }, deps, PODMAN_FLAVOUR);
}
