#!/usr/bin/env bash
# The deployment proof that .ci/run runs after `npm ci` (architecture.md §11); it builds dist/ itself:
#  1. the image: CI base image, a PREBUILT=1 build, its user, health check, `pman --version`, the
#     job store's native addon loading and its volume (STATE_DIR=/var/lib/pman, 1000, 0700);
#  2. swarm, for real: make.sh -O swarm (its own smoke job) → our own job through the published
#     port → the store file in the stack's volume → unmake.sh keeps that volume and nothing else →
#     make.sh again: the history still holds the job → unmake.sh -P → nothing of ours left
#     (services, containers, networks, volumes, secrets, storeBase, state), and it again succeeds;
#  3. kubernetes/openshift: the manifest test (kustomize render + schemas + semantics) and, when
#     the fake Kubernetes API is present, `kubectl apply -k` of every variant against it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

log() { printf '[deploy-proof] %s\n' "$*" >&2; }
fail() { printf '[deploy-proof] FAILED: %s\n' "$*" >&2; exit 1; }

run_id="$(date +%s)-$$"
image="127.0.0.1:5999/pman-ts:proof-$run_id"
stack=pman_dev_stack
state_volume="${stack}_pman-state"
export PMAN_PUBLISH_MODE="${PMAN_PUBLISH_MODE:-host}" # the routing mesh does not work in CI sandboxes

# Always build: the image ships dist/ as it is, so a stale one would prove the wrong code.
log "npm run build"
npm run build >/dev/null || fail "npm run build failed"
[ -f dist/src/main.js ] || fail "npm run build produced no dist/src/main.js"
[ ! -e .make-state ] || fail ".make-state exists: a make.sh environment is up here; run ./unmake.sh first"
if docker stack ls --format '{{.Name}}' | grep -qx "$stack"; then fail "stack $stack already deployed"; fi
# Someone's kept job store (./unmake.sh without -P): never ours to reuse or delete.
if docker volume inspect "$state_volume" >/dev/null 2>&1; then
  fail "volume $state_volume exists: the job store an earlier ./make.sh kept; ./unmake.sh -P or docker volume rm it first"
fi

# A free port for the published service (30010 unless taken).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port="${PMAN_PORT:-}"
if [ -z "$port" ]; then
  for candidate in $(seq 30010 30099); do
    if ! port_in_use "$candidate"; then port="$candidate"; break; fi
  done
fi
[ -n "$port" ] || fail "no free port in 30010-30099"
export PMAN_PORT="$port"
url="http://127.0.0.1:$port"

work="$(mktemp -d)"
# mktemp makes a 0700 directory; the service runs as uid 1000 and must reach storeBase below it.
chmod 755 "$work"
store="$work/CHRIS_REMOTE_FS"
cleanup() {
  local rc=$?
  if [ -e "$repo/.make-state" ] || docker stack ls --format '{{.Name}}' | grep -qx "$stack"; then
    log "cleaning up after a failure"
    "$repo/unmake.sh" -O swarm -S "$store" -P || true
  fi
  # Ours: the check above made sure no one else's was there.
  docker volume rm "$state_volume" >/dev/null 2>&1 || true
  docker image rm -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# ── 1. image ────────────────────────────────────────────────────────────────────────────────────
log "base image"
bash scripts/ci-base-image.sh
log "staging the PREBUILT=1 context: dist/ and the production node_modules"
ctx="$work/context"
mkdir -p "$ctx"
cp Dockerfile package.json package-lock.json "$ctx/"
cp -a dist "$ctx/dist"
cp -a ui "$ctx/ui"
npm ls --omit=dev --parseable --all 2>/dev/null | sed "s|^$repo/||" | grep '^node_modules/' |
  while read -r dep; do
    # Parents come first; a nested dependency is already inside its parent's copy.
    [ -e "$ctx/$dep" ] && continue
    mkdir -p "$ctx/$(dirname "$dep")"
    cp -a "$dep" "$ctx/$dep"
  done
[ -d "$ctx/node_modules/hono" ] || fail "production dependencies were not staged"
[ ! -e "$ctx/node_modules/vitest" ] || fail "a dev dependency (vitest) was staged"
version="$(node -p 'require("./package.json").version')-proof"
log "docker build $image"
DOCKER_BUILDKIT=0 docker build -q --build-arg PREBUILT=1 --build-arg BUILD_VERSION="$version" \
  -t "$image" "$ctx" >/dev/null
rm -rf "$ctx"
[ "$(docker image inspect -f '{{.Config.User}}' "$image")" = 1000 ] || fail "image user is not 1000"
docker image inspect -f '{{json .Config.Healthcheck.Test}}' "$image" | grep -q '/health' ||
  fail "image has no /health HEALTHCHECK"
[ "$(docker run --rm "$image" pman --version)" = "Version: $version" ] || fail "pman --version"
docker run --rm "$image" sh -c '[ ! -e node_modules/vitest ] && [ ! -e src ]' ||
  fail "the image ships dev dependencies or sources"
docker run --rm "$image" sh -c '[ -f ui/index.html ] && [ -f node_modules/swagger-ui-dist/swagger-ui-bundle.js ]' ||
  fail "the image lacks /ui/'s files or Swagger UI's (/docs)"
# The job store: the native addon loads on this base, and STATE_DIR is a volume private to 1000.
docker run --rm "$image" node -e "require('better-sqlite3')(':memory:').close()" ||
  fail "better-sqlite3's native addon does not load in the image"
docker image inspect -f '{{json .Config.Volumes}}' "$image" | grep -q '"/var/lib/pman"' ||
  fail "the image declares no VOLUME /var/lib/pman"
docker image inspect -f '{{json .Config.Env}}' "$image" | grep -q '"STATE_DIR=/var/lib/pman"' ||
  fail "the image does not set STATE_DIR=/var/lib/pman"
[ "$(docker run --rm "$image" stat -c '%u %a' /var/lib/pman)" = "1000 700" ] ||
  fail "/var/lib/pman is not owned by 1000 with mode 0700"
log "image ok: user 1000, HEALTHCHECK /health, pman --version = $version, STATE_DIR volume, better-sqlite3 loads"

# ── 2. swarm ────────────────────────────────────────────────────────────────────────────────────
log "make.sh -O swarm -S $store -s -i (port $port, publish mode $PMAN_PUBLISH_MODE)"
./make.sh -O swarm -S "$store" -s -i "$image"

jid="pman-proof-$run_id"
mkdir -p "$store/key-$jid/incoming/sub"
# No outgoing/: the service (uid 1000) creates it, as it may for pfcon; key-<jid> is its to write.
chown 1000 "$store/key-$jid"
echo "first file" >"$store/key-$jid/incoming/a.txt"
printf 'nested é ✓\n' >"$store/key-$jid/incoming/sub/b.txt"
curl -fsS "$url/api/v1/" | grep -q '"container_env": "swarm"' || fail "server info does not say swarm"
# $1 and $2 are for the job's sh: pman appends /share/incoming and /share/outgoing as its arguments.
# shellcheck disable=SC2016
body=$(printf '{"jid": "%s", "auid": "proof", "image": "127.0.0.1:5999/pman-ts/busybox:test", "type": "ds",
  "entrypoint": ["/bin/sh", "-c", "cp -r \\"$1\\"/. \\"$2\\"/ && echo copied", "sh"], "args": [], "env": [],
  "input_dir": "key-%s/incoming", "output_dir": "key-%s/outgoing",
  "number_of_workers": 1, "cpu_limit": 500, "memory_limit": 64, "gpu_limit": 0}' "$jid" "$jid" "$jid")
code=$(curl -sS -o "$work/job.json" -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$url/api/v1/")
[ "$code" = 201 ] || fail "POST answered $code: $(cat "$work/job.json")"
status=""
for _ in $(seq 1 60); do
  curl -sS -o "$work/job.json" "$url/api/v1/$jid/"
  status=$(sed -n 's/.*"status": *"\([A-Za-z]*\)".*/\1/p' "$work/job.json")
  case "$status" in finishedSuccessfully | finishedWithError | undefined) break ;; esac
  sleep 2
done
[ "$status" = finishedSuccessfully ] || fail "job ended as '$status': $(cat "$work/job.json")"
grep -q 'copied' "$work/job.json" || fail "the job's logs are missing: $(cat "$work/job.json")"
diff -r "$store/key-$jid/incoming" "$store/key-$jid/outgoing" || fail "outgoing differs from incoming"
[ "$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$url/api/v1/$jid/")" = 204 ] || fail "DELETE"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "$url/api/v1/$jid/")" = 404 ] || fail "GET after DELETE"
log "job $jid: POST 201 → finishedSuccessfully → outputs equal inputs → DELETE 204 → 404"

# The store is in the stack's volume, as the image and the stack say: the file, private to 1000.
# (Read through a throw-away container: the volume's folder on the host is root's.)
files="$(docker run --rm -v "$state_volume:/s:ro" 127.0.0.1:5999/pman-ts/busybox:test \
  sh -c 'stat -c "%n %u %a" /s /s/pman.db')" || fail "no job store in volume $state_volume"
[ "$files" = "$(printf '/s 1000 700\n/s/pman.db 1000 600')" ] ||
  fail "job store files in $state_volume are not 1000's and private: $files"
log "job store: pman.db in volume $state_volume, owned by 1000, 0700/0600"

# The history outlives the stack: unmake.sh keeps the volume (and only it), make.sh finds it again.
history_of() { curl -sS -o "$work/history.json" -w '%{http_code}' "$url/api/v1/history/$jid/"; }
log "unmake.sh (keeps the job store)"
./unmake.sh -O swarm -S "$store" 2>"$work/unmake.log" || { cat "$work/unmake.log" >&2; fail "unmake.sh"; }
cat "$work/unmake.log" >&2
grep -q "keeping the job store: docker volume $state_volume" "$work/unmake.log" ||
  fail "unmake.sh did not say where the job store stays"
docker volume inspect "$state_volume" >/dev/null 2>&1 || fail "unmake.sh removed the job store without -P"
[ -z "$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack")" ] || fail "unmake.sh left services"
log "make.sh again on the kept job store"
./make.sh -O swarm -S "$store" -s -i -U "$image"
code="$(history_of)"
[ "$code" = 200 ] || fail "GET /api/v1/history/$jid/ after the redeploy answered $code: $(cat "$work/history.json")"
grep -q "\"$jid\"" "$work/history.json" || fail "the history lost $jid: $(cat "$work/history.json")"
grep -q 'finishedSuccessfully' "$work/history.json" || fail "the history of $jid: $(cat "$work/history.json")"
log "history of $jid survived unmake.sh and a new deployment"

log "unmake.sh -P"
./unmake.sh -O swarm -S "$store" -P
ns="label=com.docker.stack.namespace=$stack"
leftovers=""
check_none() { if [ -n "$("${@:2}")" ]; then leftovers="$leftovers $1"; fi; }
check_none stack sh -c "docker stack ls --format '{{.Name}}' | grep -x '$stack' || true"
check_none services docker service ls -q --filter "$ns"
check_none containers docker ps -aq --filter "$ns"
check_none networks docker network ls -q --filter "$ns"
check_none volumes docker volume ls -q --filter "$ns"
check_none secrets docker secret ls -q --filter "$ns"
check_none job-store sh -c "docker volume ls -q | grep -x '$state_volume' || true"
check_none job-services sh -c "docker service ls --format '{{.Name}}' | grep -E '^pman-(smoke|proof)-' || true"
# Job containers of a deleted service go away asynchronously: wait for them, bounded.
for _ in $(seq 1 30); do
  [ -z "$(docker ps -aq --filter name=pman-proof- --filter name=pman-smoke-)" ] && break
  sleep 1
done
check_none job-containers docker ps -aq --filter name=pman-proof- --filter name=pman-smoke-
[ ! -e "$store" ] || leftovers="$leftovers storeBase"
[ ! -e .make-state ] || leftovers="$leftovers .make-state"
[ -z "$leftovers" ] || fail "left behind after unmake.sh:$leftovers"
./unmake.sh -O swarm -S "$store" -P || fail "a second unmake.sh failed (not idempotent)"
log "swarm ok: nothing of ours left, unmake.sh idempotent"

# ── 3. kubernetes / openshift ───────────────────────────────────────────────────────────────────
log "manifest check (kubectl kustomize + kubernetes-models schemas + semantics)"
npx vitest run --project unit test/unit/manifests.test.ts
if grep -qs 'export.*startFakeKubeApi' test/fakes/kube-api/index.ts; then
  log "kubectl apply -k against the fake Kubernetes API"
  npx tsx scripts/deploy-proof-kube.ts
else
  log "NOTICE: test/fakes/kube-api has no startFakeKubeApi yet: kubectl apply against it skipped"
fi
log "deployment proof passed"
