#include "lib/backend/cuda/block_sums.cuh"
#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/update_kernel.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 4;

template <class Rule>
__global__ void update_kernel(const typename Rule::Coeffs* kp, const std::int64_t* tp,
                              const std::uint64_t* seeds, float* w, const float* g,
                              const float* w0, float* s0, float* s1, std::int64_t d,
                              std::int64_t stride, const std::int64_t* layer_map, std::int64_t layers,
                              double* partial) {
  __shared__ float sums[4][kThreads];
  const std::int64_t c = blockIdx.y;
  const typename Rule::Coeffs k = kp[c];
  const std::int64_t t = tp[c];
  const std::uint64_t chain_seed = seeds[c];
  const std::int64_t offset = c * stride;
  w += offset;
  g += offset;
  if (Rule::kStates > 0) s0 += offset;
  if (Rule::kStates > 1) s1 += offset;
  partial += c * 4 * static_cast<std::int64_t>(gridDim.x);
  const std::int64_t block4 = blockIdx.x * static_cast<std::int64_t>(kThreads) + threadIdx.x;
  const std::int64_t first = block4 * kPerThread;
  float acc[4] = {0, 0, 0, 0};
  if (first < d) {
    const Normal4f z = normal4f(draw_block(chain_seed, Stream::kLangevin,
                                           static_cast<std::uint64_t>(t),
                                           static_cast<std::uint32_t>(block4)));
    std::int64_t layer = 0;  // of parameter e (flat index, which addresses its noise)
    for (int q = 0; q < kPerThread; ++q) {
      const std::int64_t e = first + q;
      if (e >= d) break;
      std::int64_t p = e;  // where it sits (chain_layout.hpp)
      if (layer_map) {
        while (layer + 1 < layers && e >= layer_map[layer + 1]) ++layer;
        p = layer_map[layers + layer] + (e - layer_map[layer]);
      }
      float s[2] = {Rule::kStates > 0 ? s0[p] : 0.0f, Rule::kStates > 1 ? s1[p] : 0.0f};
      samplers::StepSums step;
      float we = w[p];
      Rule::apply(k, we, g[p], w0[p], z.z[q], s, step);
      w[p] = we;
      if (Rule::kStates > 0) s0[p] = s[0];
      if (Rule::kStates > 1) s1[p] = s[1];
      const float delta = we - w0[p];
      acc[0] += step.drift2;
      acc[1] += step.noise2;
      acc[2] += step.aux;
      acc[3] += delta * delta;
    }
  }
  block_sums(sums, acc);
  if (threadIdx.x == 0) {
    for (int m = 0; m < 4; ++m) partial[4 * blockIdx.x + m] = sums[m][0];
  }
}

}  // namespace

std::int64_t update_blocks(std::int64_t d) {
  const std::int64_t per_block = static_cast<std::int64_t>(kThreads) * kPerThread;
  return (d + per_block - 1) / per_block;
}

template <class Rule>
void update_on_device(const typename Rule::Coeffs* k, const std::int64_t* t,
                      const std::uint64_t* seeds, std::int64_t chains, float* w, const float* g,
                      const float* w0, float* s0, float* s1, std::int64_t d, std::int64_t stride,
                      const std::int64_t* layer_map, std::int64_t layers, double* partial, void* stream) {
  if (d <= 0 || chains <= 0) return;
  if (stride < d) throw InternalError("update_on_device: a chain stride below d");
  const dim3 grid(static_cast<unsigned>(update_blocks(d)), static_cast<unsigned>(chains));
  update_kernel<Rule><<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      k, t, seeds, w, g, w0, s0, s1, d, stride, layer_map, layers, partial);
  LLCB_CUDA_CHECK(cudaGetLastError());
}

#define LLCB_INSTANTIATE_UPDATE(Rule)                                                          \
  template void update_on_device<samplers::Rule>(                                              \
      const samplers::Rule::Coeffs*, const std::int64_t*, const std::uint64_t*, std::int64_t,  \
      float*, const float*, const float*, float*, float*, std::int64_t, std::int64_t, const std::int64_t*, \
      std::int64_t, double*, void*);
LLCB_INSTANTIATE_UPDATE(SgldRule)
LLCB_INSTANTIATE_UPDATE(RmspropSgldRule)
LLCB_INSTANTIATE_UPDATE(AdamSgldRule)
LLCB_INSTANTIATE_UPDATE(SghmcRule)
LLCB_INSTANTIATE_UPDATE(SgnhtRule)
#undef LLCB_INSTANTIATE_UPDATE

}  // namespace llcb::cuda
