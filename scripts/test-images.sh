#!/usr/bin/env bash
# Build the test image from Debian's busybox-static with `docker import` (no registry is
# reachable). The 127.0.0.1:5999 prefix makes Swarm's mandatory pull fail fast on loopback and
# fall back to the local image.
set -euo pipefail
image=127.0.0.1:5999/pman-ts/busybox:test
if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
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
tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "[test-images] imported $image" >&2
