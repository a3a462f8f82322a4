#!/usr/bin/env bash
# Tear down what make.sh brought up, exactly: the stack or the manifests, a smoke job left behind,
# the storeBase directory and the swarm only if make.sh created them (.make-state says so), and
# nothing else. The job store (every job's history and logs) stays, and unmake.sh says where,
# unless -P asks to delete it too. Idempotent: running it again, or with nothing deployed, succeeds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state_dir="$here/.make-state"
stack=pman_dev_stack

usage() {
  cat <<EOF
Usage: ./unmake.sh [-h] [-O swarm|kubernetes|openshift] [-S storeBase] [-P]

  -O  orchestrator (default: the one make.sh used, else swarm)
  -S  storeBase (default: the one make.sh used); it is removed only if make.sh created it
  -P  also delete the job store, with the history and logs of every job: the volume
      ${stack}_pman-state (swarm) or the PVC pman-state (kubernetes, openshift).
      Without -P it stays, and the next ./make.sh finds it again.
EOF
}

log() { printf '[unmake] %s\n' "$*" >&2; }
die() { printf '[unmake] error: %s\n' "$*" >&2; exit 1; }

# One value from make.sh's state file ("" when absent).
recalled() {
  if [ -f "$state_dir/state" ]; then sed -n "s/^$1=//p" "$state_dir/state" | head -n 1; fi
}

orchestrator="" store="" purge=no
while getopts ':hO:S:P' opt; do
  case "$opt" in
    h) usage; exit 0 ;;
    O) orchestrator="$OPTARG" ;;
    S) store="$OPTARG" ;;
    P) purge=yes ;;
    :) die "-$OPTARG needs a value (see -h)" ;;
    *) die "unknown option -$OPTARG (see -h)" ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die "unexpected arguments: $*"
orchestrator="${orchestrator:-$(recalled ORCHESTRATOR)}"
orchestrator="${orchestrator:-swarm}"
case "$orchestrator" in swarm | kubernetes | openshift) ;; *) die "-O must be swarm, kubernetes or openshift, got '$orchestrator'" ;; esac
recorded_store="$(recalled STOREBASE)"
if [ -n "$store" ] && [ -d "$store" ]; then store="$(cd "$store" && pwd -P)"; fi
store="${store:-$recorded_store}"
kubectl=kubectl
[ "$orchestrator" = openshift ] && command -v oc >/dev/null && kubectl=oc

# Poll (bounded) until a command prints nothing.
until_empty() {
  local what="$1"
  shift
  for _ in $(seq 1 60); do
    [ -z "$("$@" 2>/dev/null)" ] && return 0
    sleep 1
  done
  die "$what still present after 60 s"
}

smoke_jid="$(recalled SMOKE_JID)"
case "$orchestrator" in
  swarm)
    if [ -n "$smoke_jid" ] && docker service inspect "$smoke_jid" >/dev/null 2>&1; then
      docker service rm "$smoke_jid" >/dev/null
    fi
    if docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null | grep -qx active; then
      ns="label=com.docker.stack.namespace=$stack"
      if [ -n "$(docker stack ls --format '{{.Name}}' | grep -x "$stack" || true)" ]; then
        log "removing stack $stack"
        docker stack rm "$stack" >/dev/null
      fi
      # `docker stack rm` returns before the engine has finished; wait so "gone" means gone.
      until_empty "services of $stack" docker service ls -q --filter "$ns"
      until_empty "containers of $stack" docker ps -aq --filter "$ns"
      until_empty "networks of $stack" docker network ls -q --filter "$ns"
      until_empty "secrets of $stack" docker secret ls -q --filter "$ns"
    fi
    # `docker stack rm` never removes volumes; the store's is kept unless -P. (The stack's tasks
    # are gone by now, so nothing holds it.)
    volume="${stack}_pman-state"
    if docker volume inspect "$volume" >/dev/null 2>&1; then
      if [ "$purge" = yes ]; then
        log "removing the job store: docker volume $volume (-P)"
        docker volume rm "$volume" >/dev/null
      else
        log "keeping the job store: docker volume $volume (./unmake.sh -P deletes it)"
      fi
    fi
    ;;
  kubernetes | openshift)
    overlay="$here/kubernetes/openshift"
    [ "$orchestrator" = kubernetes ] && overlay="$here/kubernetes/dev"
    if [ -n "$smoke_jid" ]; then "$kubectl" delete job "$smoke_jid" --ignore-not-found >/dev/null; fi
    log "deleting the resources of $overlay"
    if [ "$purge" = yes ]; then
      "$kubectl" delete -k "$overlay" --ignore-not-found --wait=true
      log "the job store (PVC pman-state) was deleted with them (-P)"
    else
      # Everything but the job store's PVC (kubernetes/base/state.yaml, component=state).
      "$kubectl" delete -k "$overlay" -l 'app.kubernetes.io/component!=state' --ignore-not-found --wait=true
      log "keeping the job store: PVC pman-state (./unmake.sh -P deletes it)"
    fi
    ;;
esac

created_dir="$(recalled CREATED_DIR)"
if [ -n "$created_dir" ] && [ -n "$store" ] && [ "$store" = "$recorded_store" ]; then
  if [ -d "$created_dir" ]; then
    log "removing $created_dir (make.sh created it)"
    rm -rf "${created_dir:?}"
  fi
elif [ -n "$smoke_jid" ] && [ -n "$store" ] && [ -d "$store/key-$smoke_jid" ]; then
  rm -rf "${store:?}/key-$smoke_jid"
fi

if [ "$(recalled INITIALISED_SWARM)" = yes ]; then
  log "leaving the swarm make.sh initialised"
  docker swarm leave --force >/dev/null
fi

rm -rf "$state_dir"
log "done"
