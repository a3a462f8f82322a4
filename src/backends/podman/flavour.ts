// What the docker backend does differently on Podman 4.3's Docker-compatible API (README "Podman").
// Found by running the conformance suite and the Docker end-to-end cases on it
// (test/engine/podman.test.ts); each entry says why.
import type { EngineFlavour } from '../docker/flavour.js';

export const PODMAN_FLAVOUR: EngineFlavour = {
  name: 'podman',
  // The compat API accepts HostConfig.DeviceRequests and ignores it: a job asking for a GPU would
  // run without one and fail (or, worse, succeed slowly on the CPU). Refused instead.
  gpuUnavailableReason:
    "Podman's Docker-compatible API ignores GPU requests (DeviceRequests), so this podman backend cannot give a job a GPU; use CONTAINER_ENV=docker or kubernetes for GPU jobs",
  // Without a PidsLimit Podman applies containers.conf's pids_limit (2048), so JOB_PIDS_LIMIT=0
  // would not mean "no limit" as it does on Docker.
  explicitNoPidsLimit: true,
  // Podman allocates a buffer of `tail` entries before reading: the archive read of a finished
  // job (tail = MAX_SAFE_INTEGER) failed with "makechan: size out of range", and a client's
  // ?tail=1000000000 would make it try to allocate gigabytes. Larger tails are read as "all".
  maxLogTail: 100_000,
  // Podman 4.3 restarts an `unless-stopped` container after a SIGTERM it exits on (only its stop
  // API marks a stop by the user), at once and without backoff, and shows it `stopped` meanwhile
  // (seen on the real service; Docker shows `restarting` and honours a kill as a manual stop).
  killRestartsServices: true,
};
