#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for the test suite (Debian's slurm-wlm and munge):
#   scripts/slurm-test-cluster.sh start DIR   starts munged, slurmctld and slurmd (as root), with a
#                                             minimal slurm.conf, state, spool, logs and the munge key
#                                             under DIR, ports on the loopback interface only; prints
#                                             `export SLURM_CONF=DIR/slurm.conf` when the node is idle
#   scripts/slurm-test-cluster.sh stop DIR    stops exactly the daemons it started (by their PIDs)
# Clients (sbatch, squeue, scontrol) reach this cluster through SLURM_CONF=DIR/slurm.conf.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 64; }
[ $# -eq 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

stop() {
  for name in slurmd slurmctld munged; do
    pidfile="$dir/$name.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

# Closes every inherited descriptor but stdin, stdout, stderr (and bash's own 255), so that the
# daemons started next hold none: a caller's pipe or socket held by a daemon would keep the caller
# waiting for this script's end forever.
close_inherited_descriptors() {
  local fd
  for fd in $(ls /proc/$$/fd); do
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

start() {
  [ "$(id -u)" -eq 0 ] || { echo "$0: the daemons run as root (slurmd starts jobs as their users)" >&2; exit 1; }
  for tool in munged slurmctld slurmd scontrol; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
  done
  stop
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
  chmod 700 "$dir/munge"
  head -c 1024 /dev/urandom > "$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  # Every daemon's output goes to DIR/log, so the caller's pipes close when this script ends.
  close_inherited_descriptors
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed" \
    >"$dir/log/munged.out" 2>&1 < /dev/null
  for _ in $(seq 1 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done

  local host cpus memory ctld_port slurmd_port
  host=$(hostname -s)
  cpus=$(nproc)
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  cat > "$dir/slurm.conf" <<CONF
ClusterName=nintest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobRequeue=1
KillWait=20
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  : > "$dir/plugstack.conf"
  export SLURM_CONF="$dir/slurm.conf"
  setsid slurmctld -D -i -f "$dir/slurm.conf" >"$dir/log/slurmctld.out" 2>&1 < /dev/null &
  echo $! > "$dir/slurmctld.pid"
  setsid slurmd -D -f "$dir/slurm.conf" -N "$host" >"$dir/log/slurmd.out" 2>&1 < /dev/null &
  echo $! > "$dir/slurmd.pid"
  for _ in $(seq 1 300); do
    if scontrol show node "$host" 2>/dev/null | grep -q "State=IDLE"; then
      echo "export SLURM_CONF=$dir/slurm.conf"
      return
    fi
    sleep 0.2
  done
  echo "$0: the node did not become idle within 60 s; logs in $dir/log" >&2
  tail -n 20 "$dir/log/"*.log >&2 || true
  stop
  exit 1
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
