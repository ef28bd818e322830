#!/usr/bin/env bash
# The GPU measuring campaign, run inside a device bundle (tools/bundle-device.sh copies this file
# there as campaign.sh). Most valuable first, every step bounded, so that a run cut short still
# returns what it measured:
#   1. tests    the CUDA tests (conformance figures are gtest properties: tests.xml), <= 180 s;
#   2. bench    bench on one problem of each class (single chains; batched chains with 4 and 8
#               GEMM lanes; fp32 and tf32), <= 60 s each;
#   3. memcheck compute-sanitizer memcheck over the kernel tests and the graph test, <= 150 s
#               (found on PATH or under the CUDA prefix; logged as skipped where absent).
# Every log starts with its command, the device and the date, so each figure in
# docs/performance.md can be traced to one (commit them under bench/results/).
#
#   out/device-bundle/campaign.sh LOGDIR [PHASE...]   PHASE: tests, bench, memcheck (default: all)
#   out/device-bundle/campaign.sh --dry-run [PHASE...]  the commands and their bounds, nothing run
#
# Writes LOGDIR/campaign.log (each step: "# ok", "# failed: exit N" or "# timed out after S s"),
# LOGDIR/tests.log and tests.xml, LOGDIR/bench.jsonl (one bench --json object a line, each after
# a '# command' line; their stderr in LOGDIR/bench.err) and LOGDIR/memcheck.log. The bounds add
# up to 990 s at worst, more than one 600 s command: where a command's time is limited, run the
# phases as separate commands (the benches take seconds each, not their 60 s bound). Exit 0 when every step ran and passed, 1 when one
# failed or timed out, 2 (at once, nothing run) where no GPU is visible.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dry=0
if [[ ${1:-} == --dry-run ]]; then
  dry=1
  shift
  logs=""
else
  logs="${1:?usage: campaign.sh LOGDIR [tests|bench|memcheck ...] | campaign.sh --dry-run [PHASE ...]}"
  shift
fi
phases=("$@")
(( ${#phases[@]} > 0 )) || phases=(tests bench memcheck)
for p in "${phases[@]}"; do
  [[ $p == tests || $p == bench || $p == memcheck ]] || { echo "campaign: unknown phase '$p'" >&2; exit 2; }
done
wants() { local p; for p in "${phases[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }
cd "$here"

TESTS_LIMIT=180 BENCH_LIMIT=60 MEMCHECK_LIMIT=150
BENCHES=(
  "--class 100K --seed 1 --steps 2000 --gemm-size 8192 --copy-mib 4096"
  "--class 100K --seed 1 --steps 2000 --chains 16 --lanes 4 --gemm-size 0 --copy-mib 0"
  "--class 100K --seed 1 --steps 2000 --chains 16 --gemm-size 0 --copy-mib 0"
  "--class 100K --seed 1 --steps 2000 --chains 32 --gemm-size 0 --copy-mib 0"
  "--class 100K --seed 1 --steps 2000 --chains 32 --precision tf32 --gemm-size 0 --copy-mib 0"
  "--class 100K --seed 1 --steps 2000 --chains 16 --graphs off --gemm-size 0 --copy-mib 0"
  "--class 1M --seed 1 --steps 1000 --gemm-size 0 --copy-mib 0"
  "--class 1M --seed 1 --steps 1000 --chains 8 --gemm-size 0 --copy-mib 0"
  "--class 10M --seed 1 --steps 300 --gemm-size 0 --copy-mib 0"
  "--class 100M --seed 2 --steps 100 --repeats 2 --gemm-size 0 --copy-mib 0"
  "--class 100M --seed 2 --steps 100 --repeats 2 --precision tf32 --gemm-size 0 --copy-mib 0"
)
# Every kernel and both step paths (graph and direct, a batch of chains), not the long chains of
# the other tests: memcheck makes each launch many times slower.
MEMCHECK_FILTER='CudaRng.*:CudaUpdate.*:CudaData.*:CudaBackend.GraphsOnAndOffGiveTheSameBits'

sanitizer() {
  local c
  for c in "$(command -v compute-sanitizer 2>/dev/null)" "${CUDA_HOME:-/usr/local/cuda}/bin/compute-sanitizer" \
           /usr/local/cuda*/bin/compute-sanitizer /opt/nvidia/*/compute-sanitizer/compute-sanitizer; do
    [[ -n $c && -x $c ]] && { echo "$c"; return 0; }
  done
  return 1
}

if (( dry )); then
  total=0
  wants tests && { echo "tests    <= ${TESTS_LIMIT}s  ./run.sh bin/test_cuda --gtest_output=xml:LOGDIR/tests.xml"; total=$((total + TESTS_LIMIT)); }
  if wants bench; then
    for b in "${BENCHES[@]}"; do echo "bench    <= ${BENCH_LIMIT}s  ./run.sh bin/llcbench-bench bench --backend cuda --json $b"; done
    total=$((total + BENCH_LIMIT * ${#BENCHES[@]}))
  fi
  if wants memcheck; then
    echo "memcheck <= ${MEMCHECK_LIMIT}s  compute-sanitizer --tool memcheck bin/test_cuda --gtest_filter=$MEMCHECK_FILTER" \
         "($(sanitizer || echo 'compute-sanitizer not found here: the step would be skipped'))"
    total=$((total + MEMCHECK_LIMIT))
  fi
  echo "at most ${total}s in all"
  exit 0
fi

mkdir -p "$logs"
logs="$(cd "$logs" && pwd)"
log() { echo "$*" >> "$logs/campaign.log"; }
: > "$logs/campaign.log"
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  log "# no GPU visible (nvidia-smi -L failed): nothing measured"
  echo "campaign: no GPU visible (nvidia-smi -L failed): nothing measured" >&2
  exit 2
fi

header() {
  echo "# command: $*"
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
}

status=0
# run_step NAME LIMIT LOGFILE ERRFILE CMD...: runs CMD under `timeout`, appends its stdout to
# LOGFILE and its stderr to ERRFILE, and a verdict line to campaign.log (a timeout is told apart
# from a failure).
run_step() {
  local name="$1" limit="$2" file="$3" err="$4"
  shift 4
  local start=$SECONDS code
  timeout --kill-after=10 "$limit" "$@" >> "$file" 2>> "$err"
  code=$?
  if (( code == 124 || code == 137 )); then
    log "# $name: timed out after ${limit}s"
    echo "# timed out after ${limit}s" >> "$file"
    status=1
  elif (( code != 0 )); then
    log "# $name: failed: exit $code ($((SECONDS - start))s)"
    echo "# failed: exit $code" >> "$file"
    status=1
  else
    log "# $name: ok ($((SECONDS - start))s)"
  fi
}

if wants tests; then
  { header ./run.sh bin/test_cuda; nvidia-smi 2>&1; } > "$logs/tests.log"
  run_step tests "$TESTS_LIMIT" "$logs/tests.log" "$logs/tests.log" ./run.sh bin/test_cuda --gtest_output="xml:$logs/tests.xml"
fi

if wants bench; then
  : > "$logs/bench.jsonl"
  : > "$logs/bench.err"
  for b in "${BENCHES[@]}"; do
    read -r -a args <<< "$b"
    echo "# command: ./run.sh bin/llcbench-bench bench --backend cuda --json $b  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      >> "$logs/bench.jsonl"
    echo "# command: bench $b" >> "$logs/bench.err"
    run_step "bench $b" "$BENCH_LIMIT" "$logs/bench.jsonl" "$logs/bench.err" \
      ./run.sh bin/llcbench-bench bench --backend cuda --json "${args[@]}"
  done
fi

if wants memcheck; then
  if tool="$(sanitizer)"; then
    header "$tool" --tool memcheck bin/test_cuda --gtest_filter="$MEMCHECK_FILTER" > "$logs/memcheck.log"
    run_step memcheck "$MEMCHECK_LIMIT" "$logs/memcheck.log" "$logs/memcheck.log" \
      ./run.sh "$tool" --tool memcheck --error-exitcode 1 bin/test_cuda --gtest_filter="$MEMCHECK_FILTER"
  else
    log "# memcheck: skipped: compute-sanitizer not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda*/bin)"
  fi
fi
exit "$status"
