#!/usr/bin/env bash
# A private single-node Slurm for trying and testing the job scripts of tools/slurm/.
#
#   tools/slurm/local-slurm.sh install          Debian's slurm-wlm and munge (as root)
#   tools/slurm/local-slurm.sh start [CPUS]     munged, slurmctld and slurmd; CPUS (default 4) is
#                                               what the node offers, whatever the machine has
#   tools/slurm/local-slurm.sh run CMD [ARG...] runs CMD beside the daemons (sbatch, srun, squeue,
#                                               scontrol, sacct ...)
#   tools/slurm/local-slurm.sh stop             ends its jobs, stops the daemons and whatever
#                                               still runs in its namespace, by PID
#   tools/slurm/local-slurm.sh status           exit 0 while the daemons run
# Exit codes: 0, 2 (an error, said in one line), 77 (start: this machine cannot make the private
# network namespace, e.g. an unprivileged container).
#
# Everything lives under $LLCB_SLURM_DIR (default /tmp/llcbench-slurm): the config, a munge key
# made for it, state, spool, logs (log/) and PID files. The daemons run in a network namespace of
# their own that holds only a loopback interface (unshare -n), so they listen on 127.0.0.1 and
# nothing outside this machine, or on it outside that namespace, can reach them; `run` enters it.
# Slurm runs jobs as the user who submits them; the daemons run as root (SlurmUser=root), so
# start needs root. Not a production setup: one node, no accounting, no cgroups.
set -euo pipefail

dir="${LLCB_SLURM_DIR:-/tmp/llcbench-slurm}"
conf="$dir/slurm.conf"

die() {
  echo "local-slurm: $*" >&2
  exit 2
}

# Whether PID runs (a zombie, which nobody may reap in a container, does not).
running() { [[ -e "/proc/$1" ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

pid_alive() { [[ -f "$1" ]] && running "$(cat "$1")"; }

netns() { echo "/proc/$(cat "$dir/netns.pid")/ns/net"; }

# Runs a command inside the daemons' network namespace with their config.
# Open MPI looks for a network interface other than loopback for its out-of-band channel and
# TCP transport; the namespace has only loopback, so they are pointed at it.
in_ns() {
  pid_alive "$dir/netns.pid" || die "not started (tools/slurm/local-slurm.sh start)"
  SLURM_CONF="$conf" OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo \
    nsenter --net="$(netns)" -- "$@"
}

cmd_install() {
  local missing=()
  for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

write_config() {
  local host cpus="$1"
  host="$(hostname -s)"
  cat >"$conf" <<EOF
# Written by tools/slurm/local-slurm.sh: one node, private loopback, daemons as root.
ClusterName=llcbench
MailProg=/bin/true
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
# cred_expire: a requeued job may start again that many seconds later (Slurm default 120).
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobRequeue=1
# A job's tasks get SIGTERM, then SIGKILL this many seconds later (at a time limit or scancel).
KillWait=15
MinJobAge=600
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

cmd_start() {
  local cpus="${1:-4}"
  ((EUID == 0)) || die "start needs root (the daemons run as root)"
  command -v slurmctld >/dev/null && command -v munged >/dev/null || die "Slurm is not installed (install first)"
  pid_alive "$dir/slurmctld.pid" && die "already running (stop first)"
  mkdir -p "$dir"/{state,spool,log,munge,key}
  chmod 755 "$dir/munge"  # the socket: clients must reach it
  chmod 700 "$dir/key"
  [[ -f "$dir/key/munge.key" ]] || mungekey --create --keyfile="$dir/key/munge.key" 2>/dev/null ||
    dd if=/dev/urandom of="$dir/key/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/key/munge.key"
  write_config "$cpus"
  # The namespace lives as long as this sleeper; its loopback is the only interface.
  unshare -n sleep infinity </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/netns.pid"
  # Until unshare has run, the sleeper's namespace is this one: wait until it is not.
  local _ own
  own="$(readlink /proc/self/ns/net)"
  for _ in $(seq 1 100); do
    [[ "$(readlink "$(netns)" 2>/dev/null)" != "$own" && -e "$(netns)" ]] && break
    sleep 0.1
  done
  # Slurm resolves its listening address with AI_ADDRCONFIG, which ignores loopback addresses:
  # a private address on the same loopback interface satisfies it and reaches nothing outside.
  if ! kill -0 "$(cat "$dir/netns.pid")" 2>/dev/null || [[ "$(readlink "$(netns)")" == "$own" ]] ||
    ! nsenter --net="$(netns)" -- ip link set lo up; then
    kill "$(cat "$dir/netns.pid")" 2>/dev/null
    rm -f "$dir/netns.pid"
    echo "local-slurm: cannot make a private network namespace here (unshare -n)" >&2
    exit 77
  fi
  nsenter --net="$(netns)" -- ip addr add 10.253.0.1/32 dev lo
  munged --force --num-threads=10 --socket="$dir/munge/munge.socket" --key-file="$dir/key/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/key/seed"
  in_ns slurmctld -f "$conf" -c  # a clean start: no jobs of an earlier run
  in_ns slurmd -f "$conf"
  for _ in $(seq 1 60); do
    if in_ns sinfo -h -o '%t' 2>/dev/null | grep -qx 'idle'; then
      echo "local-slurm: running (config $conf, logs $dir/log)"
      return 0
    fi
    sleep 0.5
  done
  die "the node did not become idle in 30 s (see $dir/log)"
}

kill_and_wait() {  # kill_and_wait PID...: SIGTERM, up to 5 s, then SIGKILL what is left
  local pid _ left
  kill "$@" 2>/dev/null || true
  for _ in $(seq 1 50); do
    left=0
    for pid in "$@"; do running "$pid" && left=1; done
    ((left)) || return 0
    sleep 0.1
  done
  for pid in "$@"; do running "$pid" && kill -9 "$pid" 2>/dev/null; done
  return 0
}

# Stops the jobs, the daemons and every process left in the private namespace (job steps,
# slurmstepd), by PID.
cmd_stop() {
  local f ns pids=() p
  if pid_alive "$dir/netns.pid"; then
    in_ns scancel --full --signal=KILL --user="$(id -un)" >/dev/null 2>&1 || true
    ns="$(readlink "$(netns)")"
  fi
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    pid_alive "$f" && kill_and_wait "$(cat "$f")"
    rm -f "$f"
  done
  if [[ -n "${ns:-}" ]]; then
    for p in /proc/[0-9]*; do
      [[ "${p#/proc/}" != "$(cat "$dir/netns.pid")" && "$(readlink "$p/ns/net" 2>/dev/null)" == "$ns" ]] &&
        pids+=("${p#/proc/}")
    done
    ((${#pids[@]})) && kill_and_wait "${pids[@]}"
    kill_and_wait "$(cat "$dir/netns.pid")"
  fi
  rm -f "$dir/netns.pid"
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  run) shift; in_ns "$@" ;;
  stop) cmd_stop ;;
  status) pid_alive "$dir/slurmctld.pid" && pid_alive "$dir/slurmd.pid" ;;
  *) die "usage: tools/slurm/local-slurm.sh install|start [CPUS]|run CMD...|stop|status" ;;
esac
