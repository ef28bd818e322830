// Device code shared by the kernels that reduce per-thread values over a thread block (the
// residual, the fused update and step_end): one tree in shared memory, in a fixed order, so the
// same inputs give the same bits on every launch.
#pragma once

namespace llcb::cuda {

// Adds acc[m] over the block's kThreads threads (blockDim.x == kThreads, a power of two) for each
// of the M values; afterwards sums[m][0] holds total m. Every thread of the block must call it.
template <int kThreads, int M, class T>
__device__ void block_sums(T (&sums)[M][kThreads], const T (&acc)[M]) {
  for (int m = 0; m < M; ++m) sums[m][threadIdx.x] = acc[m];
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      for (int m = 0; m < M; ++m) sums[m][threadIdx.x] += sums[m][threadIdx.x + stride];
    }
    __syncthreads();
  }
}

}  // namespace llcb::cuda
