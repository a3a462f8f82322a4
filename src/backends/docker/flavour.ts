// Which engine speaks the Docker Engine API to this backend: Docker itself, or Podman through its
// Docker-compatible socket (src/backends/podman). The one place where the two are told apart;
// everything else in this folder serves both alike.

export interface EngineFlavour {
  /** The CONTAINER_ENV the backend serves (container_env on the wire). */
  readonly name: 'docker' | 'podman';
  /** Why GPU requests are refused (400) on this engine; undefined: they are passed on. */
  readonly gpuUnavailableReason?: string;
  /** JOB_PIDS_LIMIT=0 ("no limit") is sent as PidsLimit -1: Podman applies its own default
   *  (containers.conf pids_limit, 2048) when the field is left out, Docker none. */
  readonly explicitNoPidsLimit: boolean;
  /** Log tails above this many lines are asked as "all" and cut by us; undefined: none. */
  readonly maxLogTail?: number;
  /**
   * Podman: a kill is no manual stop (a service container is restarted by its policy after it),
   * and between a crash and that restart the container shows `stopped`/`exited`, not
   * `restarting`. Service jobs are then stopped with the engine's stop, and an exit counts as
   * final only once the backend stopped it or it stayed down (docker.ts). Docker: false.
   */
  readonly killRestartsServices?: boolean;
}

export const DOCKER_FLAVOUR: EngineFlavour = { name: 'docker', explicitNoPidsLimit: false };
