#!/usr/bin/env bash
# The device bundle (tools/bundle-device.sh) as a GPU machine with only the NVIDIA driver and the
# CUDA runtime libraries would see it:
#   1. it is made, under the 60 MiB limit, from the binaries of this build;
#   2. every library its binaries load, at link time (ldd) and while running (the loader's own
#      record of the objects it initialised, which includes what is dlopen'ed), comes from the
#      bundle or from the set left to the target machine: glibc and the loader, the NVIDIA driver
#      (libcuda) and the CUDA libraries (cudart, cuBLAS, cuBLASLt). Nothing from OpenMPI, HDF5,
#      Boost, OpenBLAS, spdlog or the compiler's runtime may come from this machine's system;
#   3. the bundled CLI runs a CPU bench, and the bundled CUDA tests start;
#   4. the campaign's dry run lists its bounded steps, tests first, memcheck last;
#   5. without a GPU, --backend cuda is a one-line error with exit code 2, and the campaign stops
#      at once with exit code 2, saying why.
#
#   test_device_bundle.sh SOURCE_DIR BIN_DIR WORK_DIR
set -euo pipefail
src="$1" bin="$2" work="$3"
bundle="$work/device-bundle"
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$src/tools/bundle-device.sh" "$bundle" "$bin" || fail "bundle-device.sh failed"
[[ -x $bundle/run.sh && -x $bundle/bin/llcbench-bench && -x $bundle/bin/test_cuda ]] || fail "bundle incomplete"
size_mib=$(( $(du -sk "$bundle" | cut -f1) / 1024 ))
(( size_mib <= 60 )) || fail "bundle is $size_mib MiB"

target='/(ld-linux[^/]*|libc\.so[^/]*|libm\.so[^/]*|libdl\.so[^/]*|libpthread\.so[^/]*|librt\.so[^/]*|libresolv\.so[^/]*|libcuda\.so[^/]*|libcudart\.so[^/]*|libcublas\.so[^/]*|libcublasLt\.so[^/]*)$'
check_paths() {  # reads library paths, one a line; fails on one from outside the bundle and target set
  local what="$1" n=0 path
  while read -r path; do
    n=$((n + 1))
    [[ $path == "$bundle"/lib/* ]] && continue
    [[ $path =~ $target ]] && continue
    fail "$what loads $path from this machine, not from the bundle"
  done
  (( n > 0 )) || fail "$what: no libraries listed"
}

lib_path() { "$bundle/run.sh" bash -c 'echo "$LD_LIBRARY_PATH"'; }
for exe in llcbench-bench test_cuda; do
  LD_LIBRARY_PATH="$(lib_path)" ldd "$bundle/bin/$exe" | awk '$2 == "=>" {print $3} $1 ~ /^\// {print $1}' |
    check_paths "ldd $exe"
done

out="$work/bench.json"
# Straight from this shell, so that the loader's record holds the bench's libraries alone.
LD_LIBRARY_PATH="$(lib_path)" LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/loader" \
  "$bundle/bin/llcbench-bench" bench --backend cpu --class tiny --seed 1 --steps 200 \
  --gemm-size 64 --copy-mib 1 --json > "$out" || fail "bundled bench exited $?"
grep -q '"steps_per_second"' "$out" || fail "bundled bench printed no steps_per_second: $(cat "$out")"
cat "$work"/loader.* | sed -n 's/.*calling init: //p' | sort -u | check_paths "bench at run time"

"$bundle/run.sh" bin/test_cuda --gtest_list_tests > "$work/tests.txt" || fail "bundled test_cuda does not start"
grep -q "Conformance" "$work/tests.txt" || fail "bundled test_cuda lists no conformance tests"

# The campaign's dry run lists every step with its bound, in the order of value.
"$bundle/campaign.sh" --dry-run > "$work/dry.txt" || fail "campaign --dry-run exited $?"
[[ $(cut -c1-8 "$work/dry.txt" | tr -d ' ' | uniq | head -3 | paste -sd,) == tests,bench,memcheck ]] ||
  fail "campaign steps out of order: $(cat "$work/dry.txt")"
grep -q "^at most [0-9]*s in all$" "$work/dry.txt" || fail "campaign --dry-run gives no total: $(cat "$work/dry.txt")"
(( $(grep -c "^bench    <= 60s" "$work/dry.txt") >= 10 )) || fail "bench steps unbounded: $(cat "$work/dry.txt")"

if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then
  # Without a GPU the campaign stops at once, says so, and runs nothing.
  set +e
  start=$SECONDS
  "$bundle/campaign.sh" "$work/campaign" > /dev/null 2> "$work/campaign.err"
  code=$?
  set -e
  (( code == 2 )) || fail "the campaign without a GPU exited $code, expected 2"
  (( SECONDS - start < 10 )) || fail "the campaign without a GPU took $((SECONDS - start)) s"
  grep -q "no GPU visible" "$work/campaign/campaign.log" || fail "campaign.log: $(cat "$work/campaign/campaign.log")"
  [[ ! -e $work/campaign/tests.log ]] || fail "the campaign without a GPU ran the tests"
  set +e
  "$bundle/run.sh" bin/llcbench-bench run --backend cuda --class tiny --seed 1 --sampler sgld \
    --step-size 1e-4 --steps 10 > "$work/cuda.out" 2> "$work/cuda.err"
  code=$?
  set -e
  (( code == 2 )) || fail "--backend cuda without a GPU exited $code, expected 2"
  grep -q "no usable CUDA device" "$work/cuda.err" || fail "unexpected message: $(cat "$work/cuda.err")"
  (( $(wc -l < "$work/cuda.err") == 1 )) || fail "expected a one-line error: $(cat "$work/cuda.err")"
fi
rm -rf "$work"
echo "device bundle: $size_mib MiB; loads only bundled and target libraries; runs"
