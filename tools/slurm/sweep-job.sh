#!/usr/bin/env bash
# The body of a Slurm batch job that runs a sweep: the job scripts beside it (sweep-srun.sbatch,
# sweep-mpirun.sbatch) set the allocation and exec this.
#
#   sweep-job.sh srun|mpirun CONFIG STORE [SWEEP OPTIONS]
#
# - Starts `llcbench sweep CONFIG --store STORE` on every task of the allocation, with
#   `srun --mpi=pmix` or through tools/mpirun-sweep.sh (mpirun takes the task count from the
#   allocation); adds --resume when STORE (or its journal) exists, so a requeued job continues.
# - With SLURM_CPUS_PER_TASK set, passes it to srun, adds --threads (unless --threads or
#   --set sweep.threads=N is given) and sets OPENBLAS_NUM_THREADS.
# - SIGUSR1 to this shell (`#SBATCH --signal=B:USR1@SECONDS`, sent that long before the time
#   limit) stops the sweep cleanly: running chains stop, their jobs stay pending, rank 0 writes
#   the summary, and the sweep exits 3. If the store then has pending jobs, this job requeues
#   itself (`scontrol requeue`, up to LLCB_MAX_REQUEUES times, default 20) and a later run
#   resumes the store.
# - SIGTERM or SIGINT to this shell (`scancel --batch --signal=TERM JOBID`) stops it the same way
#   without a requeue. A plain `scancel` signals every process of the job at once: srun then
#   kills its tasks, so use --batch (the store stays sound either way: docs/store.md).
# - Exits with the sweep's code: 0 done, 1 some jobs failed, 2 refused, 3 interrupted.
# Environment: LLCBENCH_HOME (default SLURM_SUBMIT_DIR: submit from the llcbench checkout),
# LLCBENCH (default LLCBENCH_HOME/build/bin/llcbench), LLCB_MAX_REQUEUES.
set -uo pipefail
# shellcheck source=tools/wait-child.sh
source "$(dirname "${BASH_SOURCE[0]}")/../wait-child.sh"

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

given() {  # given OPTION [SET_KEY]: whether the user's sweep options hold it
  local a
  for a in "${user_args[@]}"; do
    [[ "$a" == "$1" || "$a" == "$1="* ]] && return 0
    [[ -n "${2:-}" && "$a" == "$2="* ]] && return 0
  done
  return 1
}
user_args=("$@")
args=("$config" --store "$store")
if [[ -e "$store" || -e "$store.journal" ]] && ! given --resume; then args+=(--resume); fi
if [[ -n "${SLURM_CPUS_PER_TASK:-}" ]]; then
  export OPENBLAS_NUM_THREADS="$SLURM_CPUS_PER_TASK"
  given --threads sweep.threads || args+=(--threads "$SLURM_CPUS_PER_TASK")
fi
args+=("$@")

# The traps come first: a signal that arrives while the step starts is kept and delivered.
step=""
why=""
cancelled=0
signal_step() {
  if [[ "$launcher" == srun ]]; then
    # srun answers SIGTERM by killing its tasks, so the tasks are signalled through Slurm, once
    # the step exists (a step that is still starting would miss the signal).
    local _
    for _ in $(seq 1 60); do
      if squeue -h -s -j "$SLURM_JOB_ID" -o %i 2>/dev/null | grep -qE '^[0-9_]+\.[0-9]+$'; then
        scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null && return
      fi
      kill -0 "$step" 2>/dev/null || return
      sleep 1
    done
    kill -TERM "$step" 2>/dev/null
  else
    kill -TERM "$step" 2>/dev/null  # the wrapper forwards it to mpirun, which forwards it to the ranks
  fi
}
stop_sweep() {
  [[ "$1" == cancelled ]] && cancelled=1
  [[ -n "$why" ]] && return
  why="$1"
  echo "sweep-job: $why: stopping the sweep cleanly ($(date -u +%H:%M:%SZ))" >&2
  [[ -n "$step" ]] && signal_step
}
trap 'stop_sweep "the time limit is near"' USR1
trap 'stop_sweep cancelled' TERM INT

echo "sweep-job: job $SLURM_JOB_ID, run $((restarts + 1)), ${SLURM_NTASKS:-1} tasks on ${SLURM_JOB_NODELIST:-?}," \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ): $launcher llcbench sweep ${args[*]}"
if [[ "$launcher" == srun ]]; then
  # Since Slurm 22.05 srun does not inherit --cpus-per-task from the allocation.
  srun --mpi=pmix ${SLURM_CPUS_PER_TASK:+--cpus-per-task=$SLURM_CPUS_PER_TASK} "$llcbench" sweep "${args[@]}" &
else
  LLCBENCH="$llcbench" "$home/tools/mpirun-sweep.sh" --bind-to none -- "${args[@]}" &
fi
step=$!
[[ -n "$why" ]] && signal_step  # a signal came before the step had started

wait_child "$step"  # sets rc

# Requeue only a sweep that the time limit stopped with jobs still pending, never one that was
# cancelled. The store has the last word: srun's code is the highest of its tasks', and a task
# that the stop reached before it could catch signals ends 143, though the store is sound.
if ((!cancelled)) && [[ "$why" == "the time limit is near" ]]; then
  "$llcbench" status "$store" >/dev/null 2>&1
  pending=$?
  # 3: jobs pending; 2: no store yet (stopped before rank 0 made it): both run again.
  ((pending == 3 || pending == 2)) && rc=3
  if ((pending != 3 && pending != 2)); then
    # Finished (the stop came as it ended): the job is done, whatever a rank the stop reached said.
    ((pending == 0)) && rc=0
    echo "sweep-job: the store has no pending jobs (status exit $pending): not requeued" >&2
  elif ((restarts >= max_requeues)); then
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
