#!/usr/bin/env bash
# The body of a Slurm batch job that runs a sweep: the job scripts beside it (sweep-srun.sbatch,
# sweep-mpirun.sbatch) set the allocation and exec this.
#
#   sweep-job.sh srun|mpirun CONFIG STORE [SWEEP OPTIONS]
#
# - Starts `llcbench sweep CONFIG --store STORE` on every task of the allocation, with
#   `srun --mpi=pmix` or through tools/mpirun-sweep.sh (mpirun takes the task count from the
#   allocation); adds --resume when STORE (or its journal) exists, so a requeued job continues.
# - With SLURM_CPUS_PER_TASK set, adds --threads (unless given) and sets OPENBLAS_NUM_THREADS.
# - SIGUSR1 to this shell (`#SBATCH --signal=B:USR1@SECONDS`, sent that long before the time
#   limit) stops the sweep cleanly: running chains stop, their jobs stay pending, rank 0 writes
#   the summary, and the sweep exits 3. This job then requeues itself (`scontrol requeue`, up to
#   LLCB_MAX_REQUEUES times, default 20) and a later run resumes the store.
# - SIGTERM or SIGINT to this shell (`scancel --batch --signal=TERM JOBID`, or a plain `scancel`,
#   which signals everything) stops it the same way without a requeue.
# - Exits with the sweep's code: 0 done, 1 some jobs failed, 2 refused, 3 interrupted.
# Environment: LLCBENCH_HOME (default SLURM_SUBMIT_DIR: submit from the llcbench checkout),
# LLCBENCH (default LLCBENCH_HOME/build/bin/llcbench), LLCB_MAX_REQUEUES.
set -uo pipefail

usage="usage: sweep-job.sh srun|mpirun CONFIG STORE [SWEEP OPTIONS] (inside a Slurm batch job)"
if (($# < 3)) || [[ "$1" != srun && "$1" != mpirun ]]; then
  echo "sweep-job: $usage" >&2
  exit 2
fi
if [[ -z "${SLURM_JOB_ID:-}" ]]; then
  echo "sweep-job: error: not inside a Slurm job (submit it with sbatch)" >&2
  exit 2
fi
launcher="$1" config="$2" store="$3"
shift 3
home="${LLCBENCH_HOME:-${SLURM_SUBMIT_DIR:-.}}"
llcbench="${LLCBENCH:-$home/build/bin/llcbench}"
max_requeues="${LLCB_MAX_REQUEUES:-20}"
restarts="${SLURM_RESTART_COUNT:-0}"
[[ -x "$llcbench" ]] || { echo "sweep-job: error: no llcbench at $llcbench (set LLCBENCH_HOME or LLCBENCH)" >&2; exit 2; }

args=("$config" --store "$store")
[[ -e "$store" || -e "$store.journal" ]] && args+=(--resume)
if [[ -n "${SLURM_CPUS_PER_TASK:-}" ]]; then
  export OPENBLAS_NUM_THREADS="$SLURM_CPUS_PER_TASK"
  [[ " $* " == *" --threads"* ]] || args+=(--threads "$SLURM_CPUS_PER_TASK")
fi
args+=("$@")

echo "sweep-job: job $SLURM_JOB_ID, run $((restarts + 1)), ${SLURM_NTASKS:-1} tasks on ${SLURM_JOB_NODELIST:-?}," \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ): $launcher llcbench sweep ${args[*]}"
if [[ "$launcher" == srun ]]; then
  srun --mpi=pmix "$llcbench" sweep "${args[@]}" &
else
  LLCBENCH="$llcbench" "$home/tools/mpirun-sweep.sh" --bind-to none -- "${args[@]}" &
fi
step=$!

why=""
stop_sweep() {
  [[ -n "$why" ]] && return
  why="$1"
  echo "sweep-job: $why: stopping the sweep cleanly ($(date -u +%H:%M:%SZ))" >&2
  if [[ "$launcher" == srun ]]; then
    # srun itself answers SIGTERM by killing its step; the tasks are signalled instead.
    scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null || kill -TERM "$step" 2>/dev/null
  else
    kill -TERM "$step" 2>/dev/null  # the wrapper forwards it to mpirun, which forwards it to the ranks
  fi
}
trap 'stop_sweep "the time limit is near"' USR1
trap 'stop_sweep "cancelled"' TERM INT
# wait returns early (above 128) when a trapped signal arrives: wait again until the step is gone.
while true; do
  wait "$step"
  rc=$?
  kill -0 "$step" 2>/dev/null || break
done

if ((rc == 3)) && [[ "$why" == "the time limit is near" ]]; then
  if ((restarts >= max_requeues)); then
    echo "sweep-job: interrupted by the time limit $((restarts + 1)) times; not requeued again" \
      "(LLCB_MAX_REQUEUES=$max_requeues): resubmit to continue" >&2
  elif scontrol requeue "$SLURM_JOB_ID"; then
    echo "sweep-job: requeued job $SLURM_JOB_ID; its next run resumes $store" >&2
  else
    echo "sweep-job: scontrol requeue failed: resubmit the job to continue $store" >&2
  fi
fi
echo "sweep-job: llcbench sweep exited $rc" >&2
exit "$rc"
