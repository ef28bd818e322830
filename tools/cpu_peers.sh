#!/bin/bash
# The CPU comparison of docs/performance.md ("Against devinterp, JAX and PyTorch"), side by side
# and alternating: llcbench `bench` (its default data path, the loss and gradient through the
# narrowest width, and layer by layer as the peers go), tools/torch_chain.py (plain
# PyTorch) and tools/peer_chains.py (devinterp, JAX) on one problem, on 1 core (pinned with
# taskset) and on 2 cores, ROUNDS times. One line a run: steps/s, and for llcbench the floor at the
# step's own shapes (paired with each timed run; the ratio with the step's random draws beside)
# and, on 2 cores, the core-to-core handoff and its control (GB/s, measured after each run).
#
#     bash tools/cpu_peers.sh CLASS STEPS ROUNDS [PYTHON]
#     bash tools/cpu_peers.sh 100K 200 2 out/peers/bin/python
#
# PYTHON needs torch, devinterp and jax (docs/performance.md says which versions and how to
# install them); run from the repository root after tools/build.sh.
set -euo pipefail
CLS=${1:?usage: cpu_peers.sh CLASS STEPS ROUNDS [PYTHON]}
STEPS=${2:?steps}
ROUNDS=${3:?rounds}
PY=${4:-python3}
B=build/bin/llcbench
echo "# command: bash tools/cpu_peers.sh $*"
echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
line() {  # NAME < one JSON object
  python3 -c "
import json, sys
d = json.load(sys.stdin)
extra = []
if d.get('of_shape_floor'):
    extra = ['shape', round(d['shape_floor_ms_per_step'], 2), 'gemms', round(d['shape_gemm_ms'], 2),
             'update', round(d['shape_update_ms'], 3), 'step', round(d['ms_per_step'], 2),
             'of', round(d['of_shape_floor'], 3), 'draws', round(d['shape_draws_ms'], 3),
             'of-with-draws', round(d['of_shape_floor_with_draws'], 3),
             'sgemm', round(d['sgemm_gflops'], 1), 'gflops', round(d['gflops'], 1)]
if d.get('handoff_gbs'):
    extra += ['handoff', round(d['handoff_gbs'], 1), 'own', round(d['handoff_own_gbs'], 1)]
print('$1', round(d['steps_per_second'], 2), *extra)"
}
for round in $(seq "$ROUNDS"); do
  echo "== $CLS round $round"
  for cores in 1 2; do
    pin=""
    [ "$cores" = 1 ] && pin="taskset -c 0"
    $pin $B bench --class "$CLS" --seed 1 --threads $cores --steps "$STEPS" --json | line "llcbench $cores"
    $pin $B bench --class "$CLS" --seed 1 --threads $cores --steps "$STEPS" --gradient layered --json \
      | line "llcbench-layered $cores"
    $pin "$PY" tools/torch_chain.py --class "$CLS" --threads $cores --steps "$STEPS" | line "torch $cores"
    $pin "$PY" tools/peer_chains.py devinterp --class "$CLS" --threads $cores --steps "$STEPS" | line "devinterp $cores"
    $pin "$PY" tools/peer_chains.py jax --class "$CLS" --threads $cores --steps "$STEPS" | line "jax $cores"
  done
done
