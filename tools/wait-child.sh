# Sourced by tools/mpirun-sweep.sh and tools/slurm/sweep-job.sh, which trap signals and forward
# them to a child (mpirun, or a Slurm step) rather than die of them.
#
#   wait_child PID     waits until PID is gone and sets rc to its exit status.
#
# wait returns early (above 128) when a trapped signal arrives: wait again until the child is
# gone, and once it is, once more for its own status if a signal had cut the last wait short.
wait_child() {
  local pid="$1" last
  while true; do
    wait "$pid"
    rc=$?
    kill -0 "$pid" 2>/dev/null && continue
    if ((rc > 128)); then
      wait "$pid" 2>/dev/null
      last=$?
      ((last != 127)) && rc=$last
    fi
    break
  done
}
