#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/rng_kernels.hpp"
#include "lib/core/random.hpp"

namespace llcb::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void philox_words_kernel(std::uint64_t seed, Stream stream, std::uint32_t sub,
                                    std::uint64_t first, std::uint64_t blocks, std::uint32_t* out) {
  const std::uint64_t b = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (b >= blocks) return;
  const PhiloxBlock r = draw_block(seed, stream, first + b, sub);
  for (int w = 0; w < 4; ++w) out[4 * b + w] = r.v[w];
}

__global__ void normal_floats_kernel(std::uint64_t seed, Stream stream, std::uint32_t sub,
                                     std::uint64_t first, std::uint64_t blocks, float* out) {
  const std::uint64_t b = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (b >= blocks) return;
  const Normal4f z = normal4f(draw_block(seed, stream, first + b, sub));
  for (int w = 0; w < 4; ++w) out[4 * b + w] = z.z[w];
}

unsigned grid_for(std::uint64_t blocks) {
  return static_cast<unsigned>((blocks + kThreads - 1) / kThreads);
}

}  // namespace

void philox_words(std::uint64_t seed, Stream stream, std::uint32_t sub, std::uint64_t first,
                  std::uint64_t blocks, std::uint32_t* out) {
  if (blocks == 0) return;
  philox_words_kernel<<<grid_for(blocks), kThreads>>>(seed, stream, sub, first, blocks, out);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

void normal_floats(std::uint64_t seed, Stream stream, std::uint32_t sub, std::uint64_t first,
                   std::uint64_t blocks, float* out) {
  if (blocks == 0) return;
  normal_floats_kernel<<<grid_for(blocks), kThreads>>>(seed, stream, sub, first, blocks, out);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace llcb::cuda
