#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/data_kernels.hpp"

namespace llcb::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void minibatch_kernel(const dln::MinibatchStream* streams, std::int64_t batch,
                                 const std::int64_t* t, std::uint64_t* idx) {
  const std::int64_t c = blockIdx.y;
  const std::int64_t b = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (b < batch) idx[c * batch + b] = streams[c].index(t[c], b);
}

__global__ void inputs_kernel(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t batch,
                              std::int64_t first, std::int64_t rows, std::int64_t h_in, float* x,
                              std::int64_t x_stride) {
  const std::int64_t c = blockIdx.y;
  const std::int64_t blocks_per_row = (h_in + 3) / 4;
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * blocks_per_row) return;
  const std::int64_t row = i / blocks_per_row;
  const std::int64_t j0 = (i % blocks_per_row) * 4;
  const std::uint64_t sample = idx[c * batch + first + row];
  const PhiloxBlock blk =
      draw_block(problem_seed, Stream::kInput, sample, static_cast<std::uint32_t>(j0 / 4));
  float* out = x + c * x_stride + row * h_in;
  for (int k = 0; k < 4 && j0 + k < h_in; ++k) out[j0 + k] = mul_rn(20.0f, u01f(blk.v[k])) - 10.0f;
}

__global__ void target_noise_kernel(std::uint64_t problem_seed, const std::uint64_t* idx,
                                    std::int64_t batch, std::int64_t first, std::int64_t rows,
                                    std::int64_t h_out, float sigma, float* y, std::int64_t y_stride) {
  const std::int64_t c = blockIdx.y;
  const std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (r < rows) {
    dln::add_target_noise(problem_seed, idx[c * batch + first + r], h_out, sigma,
                          y + c * y_stride + r * h_out);
  }
}

dim3 grid(std::int64_t items, std::int64_t chains) {
  return dim3(static_cast<unsigned>((items + kThreads - 1) / kThreads), static_cast<unsigned>(chains));
}

}  // namespace

void minibatch_on_device(const dln::MinibatchStream* streams, std::int64_t chains,
                         std::int64_t batch, const std::int64_t* t, std::uint64_t* idx,
                         void* stream) {
  if (batch <= 0 || chains <= 0) return;
  minibatch_kernel<<<grid(batch, chains), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      streams, batch, t, idx);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

void inputs_on_device(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t chains,
                      std::int64_t batch, std::int64_t first, std::int64_t rows, std::int64_t h_in,
                      float* x, std::int64_t x_stride, void* stream) {
  const std::int64_t items = rows * ((h_in + 3) / 4);
  if (items <= 0 || chains <= 0) return;
  if (x_stride < rows * h_in) throw InternalError("inputs_on_device: a chain stride below rows x h_in");
  inputs_kernel<<<grid(items, chains), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      problem_seed, idx, batch, first, rows, h_in, x, x_stride);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

void target_noise_on_device(std::uint64_t problem_seed, const std::uint64_t* idx,
                            std::int64_t chains, std::int64_t batch, std::int64_t first,
                            std::int64_t rows, std::int64_t h_out, float sigma, float* y,
                            std::int64_t y_stride, void* stream) {
  if (rows <= 0 || chains <= 0) return;
  if (y_stride < rows * h_out) throw InternalError("target_noise_on_device: a chain stride below rows x h_out");
  target_noise_kernel<<<grid(rows, chains), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      problem_seed, idx, batch, first, rows, h_out, sigma, y, y_stride);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace llcb::cuda
