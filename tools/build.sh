#!/usr/bin/env bash
# Configures and builds llcbench into ./build (Release). Extra arguments go to CMake's configure
# step, e.g. bash tools/build.sh -DLLCB_WITH_CUDA=OFF. The binary lands at build/bin/llcbench.
set -euo pipefail
cd "$(dirname "$0")/.."
# nvcc lives outside PATH in the CUDA toolkit's default prefix; let CMake find it there.
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
