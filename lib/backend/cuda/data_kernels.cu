#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/data_kernels.hpp"

namespace llcb::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void minibatch_kernel(dln::MinibatchStream stream, std::int64_t batch,
                                 const std::int64_t* t, std::uint64_t* idx) {
  const std::int64_t b = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (b < batch) idx[b] = stream.index(*t, b);
}

__global__ void target_noise_kernel(std::uint64_t problem_seed, const std::uint64_t* idx,
                                    std::int64_t batch, std::int64_t h_out, float sigma, float* y) {
  const std::int64_t b = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (b < batch) dln::add_target_noise(problem_seed, idx[b], h_out, sigma, y + b * h_out);
}

__global__ void inputs_kernel(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t batch,
                              std::int64_t h_in, float* x) {
  const std::int64_t blocks_per_row = (h_in + 3) / 4;
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= batch * blocks_per_row) return;
  const std::int64_t row = i / blocks_per_row;
  const std::int64_t j0 = (i % blocks_per_row) * 4;
  const PhiloxBlock blk =
      draw_block(problem_seed, Stream::kInput, idx[row], static_cast<std::uint32_t>(j0 / 4));
  for (int k = 0; k < 4 && j0 + k < h_in; ++k) {
    x[row * h_in + j0 + k] = mul_rn(20.0f, u01f(blk.v[k])) - 10.0f;
  }
}

unsigned grid(std::int64_t items) { return static_cast<unsigned>((items + kThreads - 1) / kThreads); }

}  // namespace

void minibatch_on_device(std::uint64_t n, std::int64_t batch, std::uint64_t chain_seed,
                         dln::Sampling sampling, const std::int64_t* t, std::uint64_t* idx,
                         void* stream) {
  if (batch <= 0) return;
  const dln::MinibatchStream s(n, batch, chain_seed, sampling);
  minibatch_kernel<<<grid(batch), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(s, batch, t, idx);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

void inputs_on_device(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t batch,
                      std::int64_t h_in, float* x, void* stream) {
  const std::int64_t items = batch * ((h_in + 3) / 4);
  if (items <= 0) return;
  inputs_kernel<<<grid(items), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(problem_seed, idx, batch,
                                                                                  h_in, x);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

void target_noise_on_device(std::uint64_t problem_seed, const std::uint64_t* idx,
                            std::int64_t batch, std::int64_t h_out, float sigma, float* y,
                            void* stream) {
  if (batch <= 0) return;
  target_noise_kernel<<<grid(batch), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      problem_seed, idx, batch, h_out, sigma, y);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace llcb::cuda
