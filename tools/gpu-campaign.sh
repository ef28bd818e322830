#!/usr/bin/env bash
# The GPU measuring campaign, run inside a device bundle (tools/bundle-device.sh copies this file
# there as campaign.sh): the CUDA tests, compute-sanitizer memcheck over the kernel and backend
# tests, and bench on one problem of each class (single chains, and batched chains where one
# chain leaves the GPU idle, with 4 and 8 GEMM lanes). Every log starts with its command, the
# device and the date, so each figure in docs/performance.md can be traced to one (commit them
# under bench/results/).
#
#   out/device-bundle/campaign.sh LOGDIR [PHASE...]      PHASE: tests, memcheck, bench (default: all)
#
# Writes LOGDIR/tests.log, LOGDIR/memcheck.log and LOGDIR/bench.jsonl (one bench --json object a
# line, each preceded by a '# command' line). Returns non-zero if the tests or memcheck fail.
# The phases can run as separate commands where one command's time is limited.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
logs="${1:?usage: campaign.sh LOGDIR [tests|memcheck|bench ...]}"
shift
phases=("$@")
(( ${#phases[@]} > 0 )) || phases=(tests memcheck bench)
mkdir -p "$logs"
logs="$(cd "$logs" && pwd)"
cd "$here"
wants() { local p; for p in "${phases[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }

header() {
  echo "# command: $*"
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
}

status=0
if wants tests; then
  {
    header ./run.sh bin/test_cuda
    nvidia-smi 2>&1
    ./run.sh bin/test_cuda 2>&1
  } > "$logs/tests.log" || status=1
fi

if wants memcheck && command -v compute-sanitizer >/dev/null; then
  # Every kernel and both step paths (graph and direct, a batch of chains), but not the long
  # chains of the other tests: memcheck makes each launch many times slower. Bounded at 8
  # minutes so that the phase fits one 10-minute command.
  filter='CudaRng.*:CudaUpdate.*:CudaData.*:CudaBackend.GraphsOnAndOffGiveTheSameBits:CudaBackend.AChainInABatchIsBitIdenticalToTheChainAlone'
  {
    header compute-sanitizer --tool memcheck bin/test_cuda --gtest_filter="$filter"
    timeout 480 ./run.sh compute-sanitizer --tool memcheck --error-exitcode 1 bin/test_cuda \
      --gtest_filter="$filter" 2>&1
  } > "$logs/memcheck.log" || status=1
fi

wants bench || exit "$status"
: > "$logs/bench.jsonl"
bench() {
  local cmd=(./run.sh bin/llcbench-bench bench --backend cuda --json "$@")
  echo "# command: ${cmd[*]}  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$logs/bench.jsonl"
  "${cmd[@]}" >> "$logs/bench.jsonl" 2>&1 || echo "# failed: $?" >> "$logs/bench.jsonl"
}
bench --class 100K --seed 1 --steps 2000 --gemm-size 8192 --copy-mib 4096
bench --class 100K --seed 1 --steps 2000 --chains 16 --lanes 4 --gemm-size 0 --copy-mib 0
bench --class 100K --seed 1 --steps 2000 --chains 16 --gemm-size 0 --copy-mib 0
bench --class 100K --seed 1 --steps 2000 --chains 32 --gemm-size 0 --copy-mib 0
bench --class 100K --seed 1 --steps 2000 --chains 32 --precision tf32 --gemm-size 0 --copy-mib 0
bench --class 100K --seed 1 --steps 2000 --chains 16 --graphs off --gemm-size 0 --copy-mib 0
bench --class 1M --seed 1 --steps 1000 --gemm-size 0 --copy-mib 0
bench --class 1M --seed 1 --steps 1000 --chains 8 --gemm-size 0 --copy-mib 0
bench --class 10M --seed 1 --steps 300 --gemm-size 0 --copy-mib 0
bench --class 100M --seed 2 --steps 100 --repeats 2 --gemm-size 0 --copy-mib 0
bench --class 100M --seed 2 --steps 100 --repeats 2 --precision tf32 --gemm-size 0 --copy-mib 0
exit "$status"
