#!/usr/bin/env bash
# Rootful Podman's Docker-compatible API for CONTAINER_ENV=podman and its tests (idempotent):
# Debian's podman, a containers.conf this sandbox can run with, `podman system service` on
# unix:///run/pman-podman/podman.sock, and the busybox test image in Podman's own store.
#
# Why the containers.conf: Podman's default ulimits (nofile/nproc) exceed this machine's hard
# limits, so every `podman run` failed with "error setting rlimits … operation not permitted";
# `default_ulimits = []` keeps the service's own limits. No systemd runs here, so cgroups are
# managed directly (cgroupfs) and events and container logs go to files, not the journal.
set -euo pipefail
dir=/run/pman-podman
sock="$dir/podman.sock"
conf="$dir/containers.conf"
image=127.0.0.1:5999/pman-ts/busybox:test
cd "$(dirname "$0")/.."

if ! command -v podman >/dev/null 2>&1; then
  echo "[podman-up] podman missing: apt-get install -y podman" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
fi

mkdir -p "$dir"
cat >"$conf" <<'EOF'
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$conf"

ping() { curl -fsS --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; }

if ! ping; then
  rm -f "$sock"
  # Detached from this shell (setsid + nohup): the service outlives the CI step that started it.
  # Started in $dir: conmon writes files such as `oom` into its working directory, which must not
  # be the checkout.
  (
    cd "$dir"
    setsid nohup podman system service --time=0 "unix://$sock" >"$dir/service.log" 2>&1 </dev/null &
    echo $! >"$dir/service.pid"
  )
  for _ in $(seq 1 60); do
    ping && break
    sleep 0.5
  done
  ping || {
    echo "[podman-up] podman system service did not answer on $sock:" >&2
    cat "$dir/service.log" >&2
    exit 1
  }
fi

if ! podman image exists "$image"; then
  if command -v docker >/dev/null 2>&1 && docker image inspect "$image" >/dev/null 2>&1; then
    # The very image the Docker tests use (scripts/test-images.sh builds it).
    docker save "$image" | podman load -q >/dev/null
  else
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/share/incoming" "$root/share/outgoing"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $("$root/bin/busybox" --list); do
      [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    chmod 1777 "$root/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar -C "$root" -c . | podman import -q -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
  fi
  echo "[podman-up] $image in Podman's store" >&2
fi
echo "[podman-up] Podman $(podman --version | awk '{print $3}') answers on unix://$sock" >&2
