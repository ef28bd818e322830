#!/usr/bin/env bash
# Packs the GPU benchmark binary (llcbench-bench: truth, problem, run and bench, without the store
# and MPI commands) and the CUDA tests with the shared libraries they need into one folder
# that runs on a machine with only the NVIDIA driver and the CUDA runtime libraries (libcudart,
# libcublas, libcublasLt of CUDA 13): no OpenMPI, HDF5, Boost or OpenBLAS installation, no package
# registry. That is how GPU benchmark machines are often handed out.
#
#   bash tools/bundle-device.sh [OUT [BIN]]  (default OUT: out/device-bundle; BIN: the folder with
#                                             the built binaries; default: a portable build of its
#                                             own in build-device/, made or updated here)
#
# The default build is for any x86-64 machine (LLCB_NATIVE=OFF): the GPU machine's CPU may lack
# the build machine's AVX-512 or AMX, which -march=native would use. Results do not change with
# it (-ffp-contract=off everywhere, fixed summation lanes: docs/performance.md).
#
# OUT holds bin/ (llcbench-bench, test_cuda), lib/ (every non-system library they load, found with
# ldd), configs/, and run.sh, which sets LD_LIBRARY_PATH and runs its arguments, e.g.
#   OUT/run.sh bin/test_cuda                 the CUDA conformance and kernel tests
#   OUT/run.sh bin/llcbench-bench bench --class 100K --seed 1 --backend cuda
#   OUT/campaign.sh LOGDIR                   all of the GPU checks and measurements (gpu-campaign.sh)
# The CUDA libraries, glibc and the dynamic loader are left to the target machine (cuBLAS alone
# is several hundred MiB); the script fails if the folder exceeds 60 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-out/device-bundle}"
bin="${2:-}"
limit_mib=60

if [[ -z "$bin" ]]; then
  if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
    export PATH="/usr/local/cuda/bin:$PATH"
  fi
  cmake -S . -B build-device -DCMAKE_BUILD_TYPE=Release -DLLCB_NATIVE=OFF -DLLCB_BUILD_TESTS=ON \
        -DLLCB_WITH_MPI=OFF >/dev/null
  cmake --build build-device -j "$(nproc)" --target llcbench-bench test_cuda >/dev/null
  bin=build-device/bin
fi
[[ -x $bin/test_cuda ]] || { echo "bundle-device: $bin/test_cuda missing (no CUDA in this build)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
cp "$bin/llcbench-bench" "$bin/test_cuda" "$out/bin/"
if [[ $bin == build-device/bin ]] && command -v objdump >/dev/null; then
  # The portable build must not carry AVX-512 (zmm) code the GPU machine's CPU may lack.
  for exe in "$out"/bin/*; do
    if objdump -d --no-show-raw-insn "$exe" | grep -q '%zmm'; then
      echo "bundle-device: $exe has AVX-512 instructions although built with LLCB_NATIVE=OFF" >&2
      exit 1
    fi
  done
fi
cp -r configs "$out/"
cp tools/gpu-campaign.sh "$out/campaign.sh"

# Left to the target: glibc and the loader, the NVIDIA driver and the CUDA runtime libraries.
system='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libcuda\.so|libcudart\.so|libcublas\.so|libcublasLt\.so|libnccl\.so)'
for exe in "$out"/bin/*; do
  ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  [[ "$name" =~ $system ]] && continue
  cp -L "$path" "$out/lib/$name"
done

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs a bundled binary with the bundled libraries first on the search path, then the CUDA
# toolkit's usual library folders where they exist.
here="$(cd "$(dirname "$0")" && pwd)"
path="$here/lib"
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [[ -d "$d" ]] && path="$path:$d"
done
export LD_LIBRARY_PATH="$path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$here"
exec "$@"
RUN
chmod +x "$out/run.sh"

size_mib=$(( $(du -sk "$out" | cut -f1) / 1024 ))
echo "bundle-device: $out ($size_mib MiB, $(ls "$out/lib" | wc -l) libraries)"
if (( size_mib > limit_mib )); then
  echo "bundle-device: error: $size_mib MiB exceeds the $limit_mib MiB limit" >&2
  exit 1
fi
