#!/usr/bin/env bash
# CI stand-in for the Dockerfile's base image: no registry is reachable in CI, so import a rootfs
# holding the host's `node`, the libraries `ldd` lists, busybox as /bin/sh (RUN steps and the
# HEALTHCHECK need a shell), /etc/passwd and /etc/group (uid 1000 = node, as in the real image) and
# a world-writable /tmp, tagged with the name the Dockerfile's FROM uses. An image already present
# under that name (the real one, or ours from an earlier run) is left alone.
set -euo pipefail

image="${1:-node:20-bookworm-slim}"
log() { printf '[ci-base-image] %s\n' "$*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image already present; using it"
  exit 0
fi

node_bin="$(command -v node)" || { log "no node on PATH"; exit 1; }
node_bin="$(readlink -f "$node_bin")"
major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
[ "$major" = 20 ] || log "warning: host node is v$major, the Dockerfile expects Node 20"
[ -x /bin/busybox ] || { log "/bin/busybox missing (apt-get install busybox-static)"; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/usr/local/bin" "$root/bin" "$root/tmp" "$root/etc" "$root/home/node"
cp "$node_bin" "$root/usr/local/bin/node"
# Every library at the path the dynamic loader will look for it (-L: the file, not the symlink).
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
chmod 1777 "$root/tmp"
chown 1000:1000 "$root/home/node"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"

tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'LABEL org.chrisproject.pman-ts.ci-base=true' \
  -c 'CMD ["node"]' - "$image" >/dev/null
log "imported $image (node $("$node_bin" --version) from $node_bin)"
