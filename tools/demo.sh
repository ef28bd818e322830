#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo end to end: the exact LLC of a network, then
# a sweep of all five samplers over tiny problems into a new HDF5 store (about a minute on 2
# cores; under mpirun with 3 ranks when OpenMPI is installed), which prints the benchmark's
# summary table, then a query of that store, then its report.
# LLCB_DEMO_BUILT=1 skips the install and the build and uses build/bin/llcbench as it is (the docs
# test runs the demo so).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${LLCB_DEMO_BUILT:-0}" != 1 ]]; then
  bash tools/install-deps.sh
  bash tools/build.sh >/dev/null
fi
llcbench=build/bin/llcbench
mkdir -p out
store="out/demo-$(date +%Y%m%d-%H%M%S).h5"   # a new file each time: stores are never overwritten

echo "== llcbench truth --widths 5,8,6,7 --rank 3"
"$llcbench" truth --widths 5,8,6,7 --rank 3 | tail -2
echo
if command -v mpirun >/dev/null; then
  # Rank 0 schedules and writes the store; ranks 1 and 2 run chains (one per core here).
  # As root in a container OpenMPI needs --allow-run-as-root, and --oversubscribe lets 3 ranks
  # share 2 cores (docs/cluster.md).
  launch=(mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader -np 3)
else
  launch=()
fi
echo "== ${launch[*]} llcbench sweep configs/demo.ini --store $store"
"${launch[@]}" "$llcbench" sweep configs/demo.ini --store "$store" --log-level warn
echo
echo "== llcbench query $store jobs --where sampler=sgld --where problem_index=0"
"$llcbench" query "$store" jobs --where sampler=sgld --where problem_index=0 \
  --columns job_id,step_size,status,truth_status,lambda_hat,lambda_true,lambda_lower,rel_error,diverged,divergence_reason
echo
report="${store%.h5}-report"
echo "== llcbench report $store --out $report"
"$llcbench" report "$store" --out "$report"
echo "open $report/index.html in a browser: the figures, the summary and the config of this sweep"
