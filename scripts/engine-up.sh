#!/usr/bin/env bash
# Bring up what the engine tests need on a Debian machine: dockerd, a single-node swarm and the
# test images (made with `docker import`, since no registry can be reached). Idempotent.
set -euo pipefail

log() { printf '[engine-up] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages ${need_pkgs[*]} and not root: install them and re-run"; exit 1
  fi
  log "installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/var/log/pman-ts-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /var/log/pman-ts-dockerd.log"; exit 1; }
fi

swarm_state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$swarm_state" != "active" ]; then
  log "initialising swarm (state: $swarm_state)"
  docker swarm leave --force >/dev/null 2>&1 || true
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi

# A swarm that survived a dockerd restart can stop scheduling tasks: probe it with a tiny service.
images_dir=$(dirname "$0")
"$images_dir/test-images.sh"

probe="pman-ts-swarm-probe-$$"
docker service create --detach --quiet --name "$probe" --restart-condition none \
  127.0.0.1:5999/pman-ts/busybox:test true >/dev/null 2>&1 || true
ok=no
for _ in $(seq 1 30); do
  state=$(docker service ps "$probe" --format '{{.CurrentState}}' 2>/dev/null | head -1 || true)
  case "$state" in Complete*) ok=yes; break ;; esac
  sleep 1
done
docker service rm "$probe" >/dev/null 2>&1 || true
if [ "$ok" != yes ]; then
  log "swarm does not schedule tasks; re-initialising"
  docker swarm leave --force >/dev/null 2>&1 || true
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi
log "engine ready: $(docker version --format '{{.Server.Version}}'), swarm $(docker info --format '{{.Swarm.LocalNodeState}}')"
