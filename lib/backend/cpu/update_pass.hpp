// One fused pass of a sampler update over all d parameters on the CPU: draws the step's noise
// (kLangevin stream, 4 parameters a Philox block), applies the rule, and returns the step's sums
// and ||w - w*||^2 after the update. Parallel over fixed 4096-parameter chunks; within a chunk the
// sums run in fixed lanes (lane_sums.hpp) and the chunks' partial sums are added in chunk order,
// so the result depends neither on the thread count nor on the build's vector width.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/core/philox_blocks.hpp"
#include "lib/core/random.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::backend::cpu {

struct PassTotals {
  samplers::StepTotals step;
  double distance2 = 0;
};

template <class Rule>
PassTotals update_pass(const typename Rule::Coeffs& k, float* __restrict w,
                       const float* __restrict g, const float* __restrict w0,
                       float* const* state, std::int64_t d, std::uint64_t chain_seed,
                       std::int64_t t) {
  static_assert(Rule::kStates <= 2, "update_pass handles at most two state arrays");
  float* __restrict s0 = Rule::kStates > 0 ? state[0] : nullptr;
  float* __restrict s1 = Rule::kStates > 1 ? state[1] : nullptr;
  constexpr std::int64_t kChunk = 4096;  // a multiple of 4: chunks own whole noise blocks
  const std::int64_t chunks = (d + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<std::size_t>(4 * chunks));
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t begin = c * kChunk;
    const std::int64_t len = std::min(d, begin + kChunk) - begin;
    alignas(64) float xi[kChunk];
    alignas(64) std::uint32_t words[4][kChunk / 4];
    const std::int64_t blocks = (len + 3) / 4;
    draw_blocks(chain_seed, Stream::kLangevin, static_cast<std::uint64_t>(t), static_cast<std::uint32_t>(begin >> 2),
                blocks, BlockWords{{words[0], words[1], words[2], words[3]}});
    // normal4f of each block, from its words.
#pragma omp simd
    for (std::int64_t j = 0; j < blocks; ++j) {
      box_muller_f(u01f(words[0][j]), u01f(words[1][j]), xi[4 * j], xi[4 * j + 1]);
      box_muller_f(u01f(words[2][j]), u01f(words[3][j]), xi[4 * j + 2], xi[4 * j + 3]);
    }
    // Sums in fixed lanes (lane_sums.hpp), so that the bits do not depend on the vector width.
    float drift2[kSumLanes] = {}, noise2[kSumLanes] = {}, aux[kSumLanes] = {}, dist2[kSumLanes] = {};
    for_each_lane(len, [&](std::int64_t i, int l) {
      const std::int64_t e = begin + i;
      float s[2] = {0.0f, 0.0f};
      if constexpr (Rule::kStates > 0) s[0] = s0[e];
      if constexpr (Rule::kStates > 1) s[1] = s1[e];
      samplers::StepSums acc;
      float we = w[e];
      Rule::apply(k, we, g[e], w0[e], xi[i], s, acc);
      w[e] = we;
      if constexpr (Rule::kStates > 0) s0[e] = s[0];
      if constexpr (Rule::kStates > 1) s1[e] = s[1];
      drift2[l] += acc.drift2;
      noise2[l] += acc.noise2;
      aux[l] += acc.aux;
      const float delta = we - w0[e];
      dist2[l] += delta * delta;
    });
    double* p = &partial[static_cast<std::size_t>(4 * c)];
    p[0] = add_lanes(drift2);
    p[1] = add_lanes(noise2);
    p[2] = add_lanes(aux);
    p[3] = add_lanes(dist2);
  }
  PassTotals out;
  for (std::int64_t c = 0; c < chunks; ++c) {
    const double* p = &partial[static_cast<std::size_t>(4 * c)];
    out.step.drift2 += p[0];
    out.step.noise2 += p[1];
    out.step.aux += p[2];
    out.distance2 += p[3];
  }
  return out;
}

}  // namespace llcb::backend::cpu
