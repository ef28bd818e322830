#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo: the exact true LLC of a few deep linear
# networks and a problem drawn from a model class.
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
