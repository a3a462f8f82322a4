#!/usr/bin/env bash
# Bring up a one-node Slurm on this machine for the Slurm backend's engine tests (issue 16):
# munged, slurmctld and slurmd (root), slurmrestd (as nobody, JWT auth, loopback), and an ordinary
# job user in the docker group — the runtime on the node is the Docker engine engine-up.sh started.
# Idempotent: a daemon already up is left alone, except slurmrestd (always started afresh).
# Writes what the tests read to $PMAN_SLURM_DIR/env:
#   SLURM_URL, SLURM_JWT, SLURM_USER, SLURM_PARTITION, SLURM_LOG_ROOT.
set -euo pipefail

log() { printf '[slurm-up] %s\n' "$*" >&2; }

DIR="${PMAN_SLURM_DIR:-/tmp/pman-slurm}"
PORT="${PMAN_SLURM_PORT:-6820}"
JOB_USER="${PMAN_SLURM_USER:-pmanslurm}"
PARTITION=pman
STATE=/var/lib/pman-slurm
LOGS=/var/log/pman-slurm

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs packages and starts slurmctld/slurmd)"; exit 1
fi

need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v slurmrestd >/dev/null 2>&1 || need+=(slurmrestd)
command -v munged >/dev/null 2>&1 || need+=(munge)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The job user: slurmrestd refuses tokens for root, and the jobs run `docker run` as this user.
if ! id "$JOB_USER" >/dev/null 2>&1; then
  log "creating user $JOB_USER"
  useradd --system --create-home --shell /bin/sh "$JOB_USER"
fi
getent group docker >/dev/null 2>&1 || groupadd docker
id -nG "$JOB_USER" | tr ' ' '\n' | grep -qx docker || usermod -aG docker "$JOB_USER"

mkdir -p "$STATE/ctld" "$STATE/d" "$LOGS" "$DIR"
chmod 0755 "$DIR"

# munge: the key the package made, the daemon as its own user.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile /etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge
if ! munge -n </dev/null >/dev/null 2>&1; then
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 20); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.5; done
fi

# The JWT key slurmctld signs and checks tokens with: 32 random bytes, readable by root only.
JWT_KEY=$STATE/jwt.key
if [ ! -s "$JWT_KEY" ]; then
  head -c 32 /dev/urandom >"$JWT_KEY"
fi
chmod 0600 "$JWT_KEY"

# One node (this machine, as slurmd itself measures it) and one partition. Both daemons are
# addressed as 127.0.0.1: a fresh machine's hostname need not resolve (no /etc/hosts entry).
node_line="$(slurmd -C | head -1) NodeAddr=127.0.0.1"
host=$(hostname -s)
conf=$(cat <<EOF
# Written by pman-ts scripts/slurm-up.sh: a one-node test cluster.
ClusterName=pman
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$JWT_KEY
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=/run/pman-slurmctld.pid
SlurmdPidFile=/run/pman-slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
# Finished jobs stay listed an hour: the backend reads them (and the ledger captures them) from there.
MinJobAge=3600
KillWait=5
SchedulerType=sched/backfill
$node_line State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
# Never clobber a slurm.conf this script did not write (a real cluster's).
if [ -f /etc/slurm/slurm.conf ] && ! head -1 /etc/slurm/slurm.conf | grep -q '^# Written by pman-ts scripts/slurm-up.sh' \
  && [ "${PMAN_SLURM_FORCE:-0}" != 1 ]; then
  log "/etc/slurm/slurm.conf was not written by this script; set PMAN_SLURM_FORCE=1 to replace it"; exit 1
fi
if [ ! -f /etc/slurm/slurm.conf ] || [ "$(cat /etc/slurm/slurm.conf)" != "$conf" ]; then
  log "writing /etc/slurm/slurm.conf"
  printf '%s\n' "$conf" >/etc/slurm/slurm.conf
  chmod 0644 /etc/slurm/slurm.conf
  conf_changed=1
else
  conf_changed=0
fi

# A pid file names our daemon only while that pid is alive and is that program (a stale file's pid
# may have been reused by another process after a reboot or a crash).
running() {
  local pid
  [ -f "$1" ] && pid=$(cat "$1") && kill -0 "$pid" 2>/dev/null \
    && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

if ! running /run/pman-slurmctld.pid slurmctld; then
  log "starting slurmctld"
  slurmctld
elif [ "$conf_changed" -eq 1 ]; then
  scontrol reconfigure
fi
if ! running /run/pman-slurmd.pid slurmd; then
  log "starting slurmd"
  slurmd
fi
for _ in $(seq 1 40); do
  state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null || true)
  case "$state" in idle*|mixed*|allocated*) break ;; esac
  sleep 0.5
done
state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null || true)
case "$state" in
  idle*|mixed*|allocated*) ;;
  *) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
esac

# slurmrestd refuses to run as root; SLURM_JWT=daemon makes it take each request's token.
# Always a fresh one, detached from this shell (setsid + nohup): one left by an earlier run was
# seen to die in the middle of the next run's tests (its starting session had ended).
REST_PID=$DIR/slurmrestd.pid
# The daemon itself, not its runuser parent (which exits with it): killing runuser first left the
# daemon an unreaped orphan.
rest="^slurmrestd .*127.0.0.1:$PORT"
if pgrep -f "$rest" >/dev/null; then
  log "restarting slurmrestd"
  pkill -f "$rest" || true
  for _ in $(seq 1 20); do pgrep -f "$rest" >/dev/null || break; sleep 0.25; done
fi
log "starting slurmrestd on 127.0.0.1:$PORT"
nohup setsid runuser -u nobody -- env SLURM_JWT=daemon \
  slurmrestd -s openapi/v0.0.38 "127.0.0.1:$PORT" >"$LOGS/slurmrestd.log" 2>&1 </dev/null &
echo $! >"$REST_PID"

token=$(scontrol token username="$JOB_USER" lifespan=172800 | sed -n 's/^SLURM_JWT=//p')
url="http://127.0.0.1:$PORT"
for _ in $(seq 1 40); do
  if curl -fsS -H "X-SLURM-USER-NAME: $JOB_USER" -H "X-SLURM-USER-TOKEN: $token" \
    "$url/slurm/v0.0.38/ping" >/dev/null 2>&1; then
    break
  fi
  sleep 0.5
done
curl -fsS -H "X-SLURM-USER-NAME: $JOB_USER" -H "X-SLURM-USER-TOKEN: $token" \
  "$url/slurm/v0.0.38/ping" >/dev/null || {
  log "slurmrestd does not answer; see $LOGS/slurmrestd.log"; exit 1
}

# Job output: written by the job user on the node, read (and removed) by the server (root).
mkdir -p "$DIR/logs"
chown "$JOB_USER" "$DIR/logs"
chmod 0755 "$DIR/logs"

umask 077
cat >"$DIR/env" <<EOF
SLURM_URL=$url
SLURM_JWT=$token
SLURM_USER=$JOB_USER
SLURM_PARTITION=$PARTITION
SLURM_LOG_ROOT=$DIR/logs
EOF
log "up: $url (partition $PARTITION, job user $JOB_USER); settings in $DIR/env"
