#!/usr/bin/env bash
# Runs a sweep under mpirun and exits with the sweep's verdict even when mpirun was signalled.
#
#   tools/mpirun-sweep.sh [MPIRUN OPTIONS] -- CONFIG --store FILE [SWEEP OPTIONS]
#   e.g. tools/mpirun-sweep.sh -np 4 -- configs/demo.ini --store run.h5
#
# Why: SIGTERM or SIGINT sent to mpirun itself (a batch system's time limit, Ctrl-C) is forwarded
# to the ranks, but Open MPI's mpirun then kills them 1 s later and reports its own status (1),
# not the ranks' exit code 3. This wrapper sends such a signal to the local ranks instead, so
# that they stop cleanly (running jobs stay pending, the store resumes), and when it had to,
# asks the store (`llcbench status`) and exits 3 if jobs are pending. Any other outcome passes mpirun's exit code through unchanged. As root it adds
# --allow-run-as-root (unless OMPI_ALLOW_RUN_AS_ROOT is set).
# Environment: MPIRUN (default mpirun), LLCBENCH (default build/bin/llcbench beside this script).
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/wait-child.sh
source "$here/tools/wait-child.sh"
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

# The traps come first: a signal that arrives while mpirun starts is kept and forwarded.
signalled=0
pending_signal=""
launcher=""
# The signal goes to the ranks on this node (mpirun's children, rank 0 among them), not to mpirun:
# mpirun answers a SIGTERM by killing its ranks 1 s later (Open MPI's odls_base_sigkill_timeout),
# too soon for rank 0 to finish its write and close the store. Rank 0 then hands out no more
# work, and mpirun exits when the ranks do. Ranks on other nodes finish the job they run.
forward() {
  signalled=1
  if [[ -z "$launcher" ]]; then
    pending_signal="$1"
    return
  fi
  local ranks
  ranks="$(pgrep -P "$launcher" | tr '\n' ' ')"
  if [[ -n "${ranks// /}" ]]; then
    # shellcheck disable=SC2086
    kill -"$1" $ranks 2>/dev/null
  else
    kill -"$1" "$launcher" 2>/dev/null
  fi
}
trap 'forward TERM' TERM
trap 'forward INT' INT
"$mpirun_cmd" "${mpi_opts[@]}" "$llcbench" sweep "${sweep_args[@]}" &
launcher=$!
[[ -n "$pending_signal" ]] && kill -"$pending_signal" "$launcher" 2>/dev/null  # ranks not started yet
wait_child "$launcher"  # sets rc

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
