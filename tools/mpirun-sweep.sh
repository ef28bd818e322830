#!/usr/bin/env bash
# Runs a sweep under mpirun and exits with the sweep's verdict even when mpirun was signalled.
#
#   tools/mpirun-sweep.sh [MPIRUN OPTIONS] -- CONFIG --store FILE [SWEEP OPTIONS]
#   e.g. tools/mpirun-sweep.sh -np 4 -- configs/demo.ini --store run.h5
#
# Why: SIGTERM or SIGINT sent to mpirun itself (a batch system's time limit, Ctrl-C) is forwarded
# to the ranks, which stop cleanly (running jobs stay pending, the store resumes), but Open MPI's
# mpirun then reports its own status (1), not the ranks' exit code 3. This wrapper forwards those
# signals to mpirun, and when it had to, asks the store (`llcbench status`) and exits 3 if jobs
# are pending. Any other outcome passes mpirun's exit code through unchanged. As root it adds
# --allow-run-as-root (unless OMPI_ALLOW_RUN_AS_ROOT is set).
# Environment: MPIRUN (default mpirun), LLCBENCH (default build/bin/llcbench beside this script).
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
mpirun_cmd="${MPIRUN:-mpirun}"
llcbench="${LLCBENCH:-$here/build/bin/llcbench}"

mpi_opts=()
while (($#)) && [[ "$1" != "--" ]]; do
  mpi_opts+=("$1")
  shift
done
if [[ "${1:-}" != "--" ]]; then
  echo "mpirun-sweep: usage: tools/mpirun-sweep.sh [MPIRUN OPTIONS] -- CONFIG --store FILE [SWEEP OPTIONS]" >&2
  exit 2
fi
shift
sweep_args=("$@")
store=""
for ((i = 0; i < ${#sweep_args[@]}; ++i)); do
  case "${sweep_args[i]}" in
    --store) store="${sweep_args[i + 1]:-}" ;;
    --store=*) store="${sweep_args[i]#--store=}" ;;
  esac
done
if [[ -z "$store" ]]; then
  echo "mpirun-sweep: error: --store FILE is required among the sweep options" >&2
  exit 2
fi

# Open MPI refuses to run as root without this (containers, some batch systems).
if ((EUID == 0)) && [[ -z "${OMPI_ALLOW_RUN_AS_ROOT:-}" && " ${mpi_opts[*]} " != *" --allow-run-as-root "* ]]; then
  mpi_opts=(--allow-run-as-root "${mpi_opts[@]}")
fi

signalled=0
"$mpirun_cmd" "${mpi_opts[@]}" "$llcbench" sweep "${sweep_args[@]}" &
launcher=$!
forward() {
  signalled=1
  kill -"$1" "$launcher" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT
# wait returns early (above 128) when a trapped signal arrives: wait again until mpirun is gone.
while true; do
  wait "$launcher"
  rc=$?
  kill -0 "$launcher" 2>/dev/null || break
done

if ((rc != 0 && signalled)) && [[ -f "$store" ]]; then
  # Read the store only once its writer is gone: rank 0 may outlive mpirun by a moment.
  for _ in $(seq 1 60); do
    "$llcbench" status "$store" --json 2>/dev/null | grep -q '"running":true' || break
    sleep 1
  done
  "$llcbench" status "$store" >&2
  if (($? == 3)); then exit 3; fi
fi
exit "$rc"
