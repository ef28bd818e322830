#!/usr/bin/env bash
# The GPU measuring campaign, run inside a device bundle (tools/bundle-device.sh copies this file
# there as campaign.sh): the CUDA tests, compute-sanitizer memcheck over the kernel and backend
# tests, and bench on one problem of each class (single chains, and 16 batched chains where one
# chain leaves the GPU idle). Every log starts with its command, the device and the date, so each
# figure in docs/performance.md can be traced to one (commit them under bench/results/).
#
#   out/device-bundle/campaign.sh LOGDIR
#
# Writes LOGDIR/tests.log, LOGDIR/memcheck.log and LOGDIR/bench.jsonl (one bench --json object a
# line, each preceded by a '# command' line). Returns non-zero if the tests fail.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
logs="${1:?usage: campaign.sh LOGDIR}"
mkdir -p "$logs"
cd "$here"

header() {
  echo "# command: $*"
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
}

status=0
{
  header ./run.sh bin/test_cuda
  nvidia-smi 2>&1
  ./run.sh bin/test_cuda 2>&1
} > "$logs/tests.log" || status=1

if command -v compute-sanitizer >/dev/null; then
  filter='CudaRng.*:CudaUpdate.*:CudaData.*:CudaBackend.*:Conformance.BatchedChains*'
  {
    header compute-sanitizer --tool memcheck bin/test_cuda --gtest_filter="$filter"
    ./run.sh compute-sanitizer --tool memcheck --error-exitcode 1 bin/test_cuda --gtest_filter="$filter" 2>&1
  } > "$logs/memcheck.log" || status=1
fi

: > "$logs/bench.jsonl"
bench() {
  local cmd=(./run.sh bin/llcbench-bench bench --backend cuda --json "$@")
  echo "# command: ${cmd[*]}  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$logs/bench.jsonl"
  "${cmd[@]}" >> "$logs/bench.jsonl" 2>&1 || echo "# failed: $?" >> "$logs/bench.jsonl"
}
bench --class 100K --seed 1 --steps 2000 --gemm-size 8192 --copy-mib 4096
bench --class 100K --seed 1 --steps 2000 --chains 16 --gemm-size 0 --copy-mib 0
bench --class 1M --seed 1 --steps 1000 --gemm-size 0 --copy-mib 0
bench --class 1M --seed 1 --steps 1000 --chains 8 --gemm-size 0 --copy-mib 0
bench --class 10M --seed 1 --steps 300 --gemm-size 0 --copy-mib 0
bench --class 100M --seed 2 --steps 100 --repeats 2 --gemm-size 0 --copy-mib 0
bench --class 100M --seed 2 --steps 100 --repeats 2 --precision tf32 --gemm-size 0 --copy-mib 0
exit "$status"
