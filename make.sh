#!/usr/bin/env bash
# Bring up a pman-ts development environment: build the image, create storeBase, deploy on Swarm,
# Kubernetes or OpenShift, wait for GET /health, run a smoke job, print how to use it, follow logs.
# Everything it creates is written to .make-state so that unmake.sh removes exactly that, except
# the job store (the swarm volume pman_dev_stack_pman-state, the PVC pman-state): it outlives
# unmake.sh, so the next make.sh finds its history again, until `./unmake.sh -P`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state_dir="$here/.make-state"
stack=pman_dev_stack

usage() {
  cat <<EOF
Usage: ./make.sh [-h] [-O swarm|kubernetes|openshift] [-S storeBase] [-s] [-U] [-i] [repo[:tag]]

  -O  orchestrator (default: swarm)
  -S  storeBase directory on this host (default: ./CHRIS_REMOTE_FS); created if missing
  -s  skip the image build (the image must already exist locally)
  -U  skip the smoke test
  -i  do not follow the service's logs at the end (use in CI)
  repo[:tag]  the image to build and deploy (default: \$PMAN_IMAGE or 127.0.0.1:5999/pman-ts:dev)

Environment: PMAN_PORT (published port, default 30010), PMAN_PUBLISH_MODE (swarm: ingress or host),
PMAN_URL (where this host reaches the service; default http://127.0.0.1:\$PMAN_PORT),
PMAN_SMOKE_IMAGE (the smoke job's image, default 127.0.0.1:5999/pman-ts/busybox:test).
EOF
}

log() { printf '[make] %s\n' "$*" >&2; }
die() { printf '[make] error: %s\n' "$*" >&2; exit 1; }

orchestrator=swarm store="$here/CHRIS_REMOTE_FS" build=yes smoke=yes follow=yes
while getopts ':hO:S:sUi' opt; do
  case "$opt" in
    h) usage; exit 0 ;;
    O) orchestrator="$OPTARG" ;;
    S) store="$OPTARG" ;;
    s) build=no ;;
    U) smoke=no ;;
    i) follow=no ;;
    :) die "-$OPTARG needs a value (see -h)" ;;
    *) die "unknown option -$OPTARG (see -h)" ;;
  esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || die "at most one image argument, got: $*"
image="${1:-${PMAN_IMAGE:-127.0.0.1:5999/pman-ts:dev}}"
case "$orchestrator" in swarm | kubernetes | openshift) ;; *) die "-O must be swarm, kubernetes or openshift, got '$orchestrator'" ;; esac
port="${PMAN_PORT:-30010}"
url="${PMAN_URL:-http://127.0.0.1:$port}"
smoke_image="${PMAN_SMOKE_IMAGE:-127.0.0.1:5999/pman-ts/busybox:test}"
command -v curl >/dev/null || die "curl is needed for the health check and the smoke test"
kubectl=kubectl
[ "$orchestrator" = openshift ] && command -v oc >/dev/null && kubectl=oc

# The state of an earlier run is kept: what it created is still ours to remove.
mkdir -p "$state_dir"
touch "$state_dir/state"
remember() { grep -q "^$1=" "$state_dir/state" || printf '%s=%s\n' "$1" "$2" >>"$state_dir/state"; }
remember ORCHESTRATOR "$orchestrator"

# storeBase: remember the outermost directory we create, and remove only that later.
created=""
probe="$store"
while [ ! -e "$probe" ]; do created="$probe" probe="$(dirname "$probe")"; done
mkdir -p "$store"
store="$(cd "$store" && pwd -P)"
[ -z "$created" ] || remember CREATED_DIR "$(cd "$created" && pwd -P)"
remember STOREBASE "$store"
log "storeBase: $store"

if [ "$build" = yes ]; then
  log "building $image"
  docker build -t "$image" "$here"
elif [ "$orchestrator" = swarm ]; then
  docker image inspect "$image" >/dev/null 2>&1 || die "-s given but image $image is not present locally"
fi

case "$orchestrator" in
  swarm)
    if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
      log "no active swarm: docker swarm init --advertise-addr 127.0.0.1"
      docker swarm init --advertise-addr 127.0.0.1 >/dev/null
      remember INITIALISED_SWARM yes
    fi
    [ -s "$state_dir/secret_key" ] || (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$state_dir/secret_key")
    log "deploying stack $stack on port $port"
    # The job store's volume is local to one node: this one, which also holds storeBase.
    STOREBASE="$store" PMAN_IMAGE="$image" PMAN_PORT="$port" PMAN_SECRET_FILE="$state_dir/secret_key" \
      DOCKER_GID="$(stat -c %g /var/run/docker.sock 2>/dev/null || echo 0)" \
      PMAN_NODE="$(docker node inspect self --format '{{.Description.Hostname}}')" \
      docker stack deploy --resolve-image never -c "$here/swarm/stack.yml" "$stack" >/dev/null
    ;;
  kubernetes | openshift)
    overlay=openshift
    [ "$orchestrator" = kubernetes ] && overlay=dev
    # Our own overlay on top of kubernetes/<overlay>: this image and (dev) this storeBase as the
    # hostPath. It lives in the state folder because kustomize wants relative resource paths.
    mkdir -p "$state_dir/overlay"
    {
      printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n'
      printf 'resources:\n  - ../../kubernetes/%s\n' "$overlay"
      printf 'patches:\n  - target: {kind: Deployment, name: pman}\n    patch: |-\n'
      printf '      - {op: replace, path: /spec/template/spec/containers/0/image, value: "%s"}\n' "$image"
      if [ "$orchestrator" = kubernetes ]; then
        # By position: the `test` ops stop the render if storeBase is no longer the first volume
        # and mount (the pod has more since the job store's, issue 11).
        printf '      - {op: test, path: /spec/template/spec/volumes/0/name, value: storebase}\n'
        printf '      - {op: test, path: /spec/template/spec/containers/0/volumeMounts/0/name, value: storebase}\n'
        printf '      - {op: replace, path: /spec/template/spec/volumes/0/hostPath/path, value: "%s"}\n' "$store"
        printf '      - {op: replace, path: /spec/template/spec/containers/0/volumeMounts/0/mountPath, value: "%s"}\n' "$store"
        printf '  - target: {kind: ConfigMap, name: pman-config}\n    patch: |-\n'
        printf '      - {op: replace, path: /data/STOREBASE, value: "%s"}\n' "$store"
      fi
    } >"$state_dir/overlay/kustomization.yaml"
    log "applying kubernetes/$overlay with $kubectl"
    "$kubectl" apply -k "$state_dir/overlay"
    "$kubectl" rollout status deployment/pman --timeout=300s
    ;;
esac

log "waiting for $url/health"
healthy=no
for _ in $(seq 1 30); do
  if curl -fsS -m 5 "$url/health" >/dev/null 2>&1; then healthy=yes; break; fi
  sleep 5
done
[ "$healthy" = yes ] || die "$url/health did not answer 200 within 150 s"
log "healthy: $(curl -fsS -m 5 "$url/health")"

if [ "$smoke" = yes ]; then
  jid="pman-smoke-$(date +%s)-$$"
  printf 'SMOKE_JID=%s\n' "$jid" >>"$state_dir/state"
  mkdir -p "$store/key-$jid/incoming" "$store/key-$jid/outgoing"
  echo "hello from make.sh" >"$store/key-$jid/incoming/hello.txt"
  # pman appends /share/incoming and /share/outgoing to the command; `sh -c` takes them as $1 $2.
  body=$(printf '{"jid": "%s", "auid": "make.sh", "image": "%s", "type": "ds", "args": [], "env": [],
    "entrypoint": ["/bin/sh", "-c", "cp -r /share/incoming/. /share/outgoing/ && echo done", "sh"],
    "input_dir": "key-%s/incoming", "output_dir": "key-%s/outgoing",
    "number_of_workers": 1, "cpu_limit": 1000, "memory_limit": 200, "gpu_limit": 0}' \
    "$jid" "$smoke_image" "$jid" "$jid")
  log "smoke job $jid ($smoke_image)"
  code=$(curl -sS -m 60 -o "$state_dir/smoke.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "$body" "$url/api/v1/")
  [ "$code" = 201 ] || die "POST /api/v1/ answered $code: $(cat "$state_dir/smoke.json")"
  status=""
  for _ in $(seq 1 60); do
    curl -sS -m 30 -o "$state_dir/smoke.json" "$url/api/v1/$jid/" || true
    status=$(sed -n 's/.*"status": *"\([A-Za-z]*\)".*/\1/p' "$state_dir/smoke.json")
    case "$status" in finishedSuccessfully | finishedWithError | undefined) break ;; esac
    sleep 2
  done
  [ "$status" = finishedSuccessfully ] || die "smoke job ended as '$status': $(cat "$state_dir/smoke.json")"
  # On a PVC (openshift) this host cannot see the output; there the status is the proof.
  if [ "$orchestrator" != openshift ]; then
    cmp -s "$store/key-$jid/incoming/hello.txt" "$store/key-$jid/outgoing/hello.txt" ||
      die "smoke job finished but $store/key-$jid/outgoing/hello.txt is missing or differs"
  fi
  code=$(curl -sS -m 60 -o /dev/null -w '%{http_code}' -X DELETE "$url/api/v1/$jid/")
  [ "$code" = 204 ] || die "DELETE /api/v1/$jid/ answered $code"
  rm -rf "${store:?}/key-$jid" "$state_dir/smoke.json"
  sed -i "/^SMOKE_JID=$jid\$/d" "$state_dir/state"
  log "smoke job copied incoming to outgoing and was deleted"
fi

cat <<EOF

pman-ts is up at $url/api/v1/ ($orchestrator, storeBase $store). With HTTPie:

  http $url/api/v1/
  http POST $url/api/v1/ jid=chris-jid-1 auid=chris image=$smoke_image type=fs \\
    entrypoint:='["/bin/sh", "-c", "echo hello > /share/outgoing/hello.txt", "sh"]' args:='[]' \\
    input_dir=key-chris-jid-1/incoming output_dir=key-chris-jid-1/outgoing \\
    number_of_workers=1 cpu_limit=1000 memory_limit=200 gpu_limit=0
  http $url/api/v1/chris-jid-1/
  http DELETE $url/api/v1/chris-jid-1/

(create $store/key-chris-jid-1/incoming first.) Tear down with ./unmake.sh -O $orchestrator
EOF

if [ "$follow" = yes ]; then
  case "$orchestrator" in
    swarm) exec docker service logs -f "${stack}_pman" ;;
    *) exec "$kubectl" logs -f deployment/pman ;;
  esac
fi
