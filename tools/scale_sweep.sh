#!/usr/bin/env bash
# Scheduler scale test: 10,000 tiny jobs of a few steps each through N ranks (default 4), so
# that the time is dominated by scheduling, messages and store writes rather than by chains.
# Prints the wall time, jobs/s, the scheduler's cost per job and rank 0's message rate.
# Usage: bash tools/scale_sweep.sh [RANKS] [PROBLEMS:PER_DECADE, default 400:6 = 400 x 25 jobs]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-4}
IFS=: read -r problems per_decade <<< "${2:-400:6}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/scale.ini" <<INI
[sweep]
samplers = sgld
threads = 1
[problems]
class = tiny
count = $problems
[chain]
steps = 10
batch_size = 10
[sgld]
step_start = 1e-9
step_stop = 1e-5
per_decade = $per_decade
INI
jobs=$(( problems * (4 * per_decade + 1) ))   # step sizes 1e-9 .. 1e-5
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OPENBLAS_NUM_THREADS=1
start=$(date +%s.%N)
if [[ "$ranks" -gt 1 ]]; then
  mpiexec -np "$ranks" build/bin/llcbench sweep "$work/scale.ini" --store "$work/scale.h5" --log-level warn > /dev/null
else
  build/bin/llcbench sweep "$work/scale.ini" --store "$work/scale.h5" --log-level warn > /dev/null
fi
end=$(date +%s.%N)
done_jobs=$(build/bin/llcbench query "$work/scale.h5" jobs --where status=done --columns job_id --format csv | tail -n +2 | wc -l)
chain_s=$(build/bin/llcbench query "$work/scale.h5" jobs --columns seconds --format csv | tail -n +2 | awk '{s+=$1} END {printf "%.3f", s}')
awk -v t0="$start" -v t1="$end" -v n="$done_jobs" -v total="$jobs" -v r="$ranks" -v cs="$chain_s" 'BEGIN {
  wall = t1 - t0;
  printf "ranks %d, jobs %d (done %d), wall %.2f s, %.0f jobs/s\n", r, total, n, wall, n / wall;
  printf "chain time (sum over jobs) %.2f s; wall per job %.3f ms; rank-0 messages ~2 per job (request + result): %.0f msg/s\n", cs, 1000 * wall / n, 2 * n / wall;
}'
