#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo: the exact true LLC of a few deep linear
# networks, a problem drawn from a model class, and SGMCMC chains estimating an LLC.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh >/dev/null
llcbench=build/bin/llcbench
echo "== llcbench truth --widths 5,3,5 --rank 0"
"$llcbench" truth --widths 5,3,5 --rank 0
echo
echo "== llcbench truth --widths 50,40,60,30,70,20 --rank 10 --json"
"$llcbench" truth --widths 50,40,60,30,70,20 --rank 10 --json
echo
echo "== llcbench problem --class 100K --seed 11"
"$llcbench" problem --class 100K --seed 11
echo
echo "== llcbench run: five samplers on widths 5,8,6,7 rank 3 (true lambda 16.5), 20000 steps each"
for s in "sgld 4.6e-7" "rmsprop_sgld 2.2e-8" "adam_sgld 4.6e-9" "sghmc 1e-8" "sgnht 1e-8"; do
  set -- $s
  printf '%-13s' "$1"
  "$llcbench" run --widths 5,8,6,7 --rank 3 --sampler "$1" --step-size "$2" --steps 20000 \
    --burn-in 10000 | grep -E '^(diverged|rel_error|lambda_hat|steps/s)' | paste -sd ' '
done
