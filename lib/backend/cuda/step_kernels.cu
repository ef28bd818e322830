#include <algorithm>

#include "lib/backend/cuda/block_sums.cuh"
#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/step_kernels.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 4;

__global__ void residual_kernel(const float* out, const float* y, float* g, std::int64_t count,
                                std::int64_t ostride, std::int64_t gstride, float scale, double* partial) {
  __shared__ double sums[1][kThreads];
  const std::int64_t c = blockIdx.y;
  out += c * ostride;
  y += c * ostride;
  g += c * gstride;
  const std::int64_t first =
      (blockIdx.x * static_cast<std::int64_t>(kThreads) + threadIdx.x) * kPerThread;
  double acc[1] = {0};
  for (int q = 0; q < kPerThread; ++q) {
    const std::int64_t e = first + q;
    if (e >= count) break;
    const float r = out[e] - y[e];
    acc[0] += static_cast<double>(r) * r;
    g[e] = r * scale;
  }
  block_sums(sums, acc);
  if (threadIdx.x == 0) partial[c * gridDim.x + blockIdx.x] = sums[0][0];
}

template <class Rule>
__global__ void step_end_kernel(ChainState<Rule> state, const double* loss_partial,
                                std::int64_t loss_blocks, double normaliser,
                                const double* update_partial, std::int64_t update_blocks,
                                std::int64_t d, double* ring, std::int64_t ring_len) {
  __shared__ double sums[5][kThreads];
  const std::int64_t c = blockIdx.x;
  loss_partial += c * loss_blocks;
  update_partial += c * 4 * update_blocks;
  double acc[5] = {0, 0, 0, 0, 0};
  for (std::int64_t i = threadIdx.x; i < loss_blocks; i += kThreads) acc[0] += loss_partial[i];
  for (std::int64_t i = threadIdx.x; i < update_blocks; i += kThreads) {
    for (int m = 0; m < 4; ++m) acc[1 + m] += update_partial[4 * i + m];
  }
  block_sums(sums, acc);
  if (threadIdx.x != 0) return;
  const std::int64_t t = state.t[c];
  double* slot = ring + 4 * (c * ring_len + t % ring_len);
  slot[0] = sums[0][0] / normaliser;  // the loss at w_t (before this step's update)
  slot[1] = sums[1][0];               // drift^2
  slot[2] = sums[2][0];               // noise^2
  slot[3] = sums[4][0];               // ||w_{t+1} - w*||^2
  samplers::StepTotals totals;
  totals.drift2 = sums[1][0];
  totals.noise2 = sums[2][0];
  totals.aux = sums[3][0];
  const samplers::SamplerConfig config = state.config[c];
  Rule::after_step(state.scalars[c], totals, config, d);
  state.k[c] = Rule::coeffs(config, t + 2, state.scalars[c]);
  state.t[c] = t + 1;
}

__global__ void checksum_kernel(const float* w, std::int64_t n, unsigned long long* sum) {
  unsigned long long acc = 0;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(kThreads) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * kThreads) {
    acc += __float_as_uint(w[i]);
  }
  atomicAdd(sum, acc);
}

}  // namespace

std::int64_t residual_blocks(std::int64_t count) {
  const std::int64_t per_block = static_cast<std::int64_t>(kThreads) * kPerThread;
  return (count + per_block - 1) / per_block;
}

void residual_on_device(const float* out, const float* y, float* g, std::int64_t chains,
                        std::int64_t count, std::int64_t ostride, std::int64_t gstride, float scale,
                        double* partial, std::int64_t blocks, void* stream) {
  if (ostride < count || gstride < count) throw InternalError("residual_on_device: a chain stride below count");
  if (blocks < residual_blocks(count)) {
    throw RuntimeError("residual_on_device: " + std::to_string(blocks) + " blocks for " +
                       std::to_string(count) + " elements");
  }
  if (blocks <= 0 || chains <= 0) return;
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(chains));
  residual_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(out, y, g, count, ostride,
                                                                           gstride, scale, partial);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

template <class Rule>
void step_end_on_device(const ChainState<Rule>& state, std::int64_t chains,
                        const double* loss_partial, std::int64_t loss_blocks, double normaliser,
                        const double* update_partial, std::int64_t update_blocks, std::int64_t d,
                        double* ring, std::int64_t ring_len, void* stream) {
  if (chains <= 0) return;
  step_end_kernel<Rule><<<static_cast<unsigned>(chains), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      state, loss_partial, loss_blocks, normaliser, update_partial, update_blocks, d, ring, ring_len);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

void checksum_on_device(const float* w, std::int64_t n, unsigned long long* sum, void* stream) {
  const auto s = static_cast<cudaStream_t>(stream);
  LLCB_CUDA_CHECK(cudaMemsetAsync(sum, 0, sizeof *sum, s));
  if (n <= 0) return;
  const std::int64_t blocks = std::min<std::int64_t>((n + kThreads - 1) / kThreads, 1024);
  checksum_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, s>>>(w, n, sum);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

#define LLCB_INSTANTIATE_STEP_END(Rule)                                                          \
  template void step_end_on_device<samplers::Rule>(                                              \
      const ChainState<samplers::Rule>&, std::int64_t, const double*, std::int64_t, double,      \
      const double*, std::int64_t, std::int64_t, double*, std::int64_t, void*);
LLCB_INSTANTIATE_STEP_END(SgldRule)
LLCB_INSTANTIATE_STEP_END(RmspropSgldRule)
LLCB_INSTANTIATE_STEP_END(AdamSgldRule)
LLCB_INSTANTIATE_STEP_END(SghmcRule)
LLCB_INSTANTIATE_STEP_END(SgnhtRule)
#undef LLCB_INSTANTIATE_STEP_END

}  // namespace llcb::cuda
