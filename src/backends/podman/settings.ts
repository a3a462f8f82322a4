// CONTAINER_ENV=podman: Podman's socket (PODMAN_HOST) and the container settings it shares with
// the docker backend, read from the shared EnvReader. Pure and light (no dockerode).
import type { EnvReader } from '../../config/env-reader.js';
import { DOCKER_VARIABLES, readContainerSettings } from '../docker/settings.js';
import type { ContainerSettings } from '../docker/settings.js';
import type { EngineConnection } from '../shared/engine-settings.js';

/** Where rootful `podman system service` listens by default (podman.socket). */
export const PODMAN_DEFAULT_HOST = 'unix:///run/podman/podman.sock';

export interface PodmanBackendConfig extends ContainerSettings {
  kind: 'podman';
  /** PODMAN_HOST: Podman's Docker-compatible API (no TLS: a unix socket, or plain tcp/http). */
  engine: EngineConnection;
}

/** Warned about when set for another backend; the container settings are shared with docker. */
export const PODMAN_VARIABLES = ['PODMAN_HOST', ...DOCKER_VARIABLES] as const;

/**
 * PODMAN_HOST rather than DOCKER_HOST: a host running both engines keeps DOCKER_HOST for Docker,
 * and pman never drives the one when the other was meant.
 */
function readPodmanHost(r: EnvReader): string {
  const host = r.string('PODMAN_HOST') ?? PODMAN_DEFAULT_HOST;
  if (!/^(unix|tcp|http):\/\/./.test(host)) {
    r.problem(
      'PODMAN_HOST',
      `"${host}" is not a unix://, tcp:// or http:// address of \`podman system service\``,
    );
  }
  return host;
}

export function readPodmanSettings(r: EnvReader): PodmanBackendConfig {
  return {
    kind: 'podman',
    engine: { host: readPodmanHost(r), tlsVerify: false },
    ...readContainerSettings(r),
  };
}
