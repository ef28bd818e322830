// One fused pass of a sampler update over all d parameters on the CPU: draws the step's noise
// (kLangevin stream, 4 parameters a Philox block), applies the rule, and returns the step's sums
// and ||w - w*||^2 after the update. Parallel over fixed 4096-parameter chunks; within a chunk the
// sums run in fixed lanes (lane_sums.hpp) and the chunks' partial sums are added in chunk order,
// so the result depends neither on the thread count nor on the build's vector width. `owners`
// (optional, one thread a chunk: DlnModel::update_owners) says which thread runs which chunk;
// it changes where the work runs, never a bit of it. update_chunks is the pass's work on one
// chunk, for a schedule of the chunks that is not a pass of its own (side_update.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/core/philox_blocks.hpp"
#include "lib/core/random.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::backend::cpu {

struct PassTotals {
  samplers::StepTotals step;
  double distance2 = 0;
};

constexpr std::int64_t kNoiseGroup = 256;  // divides the pass's chunks (kLaneChunk), a multiple of 16
static_assert(kLaneChunk % kNoiseGroup == 0 && kNoiseGroup % kSumLanes == 0 && kNoiseGroup % 4 == 0,
              "chunks and groups own whole noise blocks and whole groups of sum lanes");

// The noise of parameters begin .. begin + len - 1 at step t (begin a multiple of 4), in groups of
// kNoiseGroup: for each, f(i0, n, xi) with the group's first index i0 (from begin), its length n
// and its n normals. The pass draws a group, then updates it, so that the out-of-order core can
// overlap one group's arithmetic with the memory traffic of the update beside it (a chunk drawn
// whole and then updated, the arrays coming in only after the draw, cost 11% more beyond the
// GEMMs on 100K, one core).
template <class F>
inline void for_each_noise_group(std::uint64_t chain_seed, std::int64_t t, std::int64_t begin, std::int64_t len,
                                 F&& f) {
  alignas(64) float xi[kNoiseGroup];
  alignas(64) std::uint32_t words[4][kNoiseGroup / 4];
  for (std::int64_t i0 = 0; i0 < len; i0 += kNoiseGroup) {
    const std::int64_t n = std::min(kNoiseGroup, len - i0);
    draw_normals(chain_seed, Stream::kLangevin, static_cast<std::uint64_t>(t),
                 static_cast<std::uint32_t>((begin + i0) >> 2), (n + 3) / 4, xi,
                 BlockWords{{words[0], words[1], words[2], words[3]}});
    f(i0, n, static_cast<const float*>(xi));
  }
}

// The update pass's work on one chunk, as chunked_lane_sums<float, 4> calls it: chunk(begin, len,
// lanes) draws and updates parameters begin .. begin + len - 1 and adds their terms (drift2,
// noise2, aux, ||w - w*||^2) to lanes. The returned callable holds the pointers; it writes w and
// the state arrays only at its chunk's parameters.
template <class Rule>
auto update_chunks(const typename Rule::Coeffs& k, float* w, const float* g, const float* w0, float* const* state,
                   std::uint64_t chain_seed, std::int64_t t) {
  static_assert(Rule::kStates <= 2, "the update pass handles at most two state arrays");
  float* s0 = Rule::kStates > 0 ? state[0] : nullptr;
  float* s1 = Rule::kStates > 1 ? state[1] : nullptr;
  // Each chunk drawn and updated in noise groups; groups are whole multiples of kSumLanes, so a
  // parameter's lane is its index in the chunk modulo kSumLanes.
  return [=](std::int64_t begin, std::int64_t len, LaneSums<float, 4>& lanes) {
    float* __restrict wr = w;
    const float* __restrict gr = g;
    const float* __restrict w0r = w0;
    float* __restrict s0r = s0;
    float* __restrict s1r = s1;
    for_each_noise_group(chain_seed, t, begin, len, [&](std::int64_t i0, std::int64_t n, const float* xi) {
      lanes.add(n, [&](std::int64_t i, float (&terms)[4]) {
        const std::int64_t e = begin + i0 + i;
        float s[2] = {0.0f, 0.0f};
        if constexpr (Rule::kStates > 0) s[0] = s0r[e];
        if constexpr (Rule::kStates > 1) s[1] = s1r[e];
        // -0 + x is x for every x, so the compiler drops the additions to acc that a +0
        // start would cost. The sums are the same: apply adds at most one term to each field
        // (rule.hpp), so a field is either that term, as from a +0 start but for the sign of
        // a zero, or -0 where a +0 start left +0; and the lanes start at +0, so the sign of
        // a zero never shows in them.
        samplers::StepSums acc{-0.0f, -0.0f, -0.0f};
        float we = wr[e];
        Rule::apply(k, we, gr[e], w0r[e], xi[i], s, acc);
        wr[e] = we;
        if constexpr (Rule::kStates > 0) s0r[e] = s[0];
        if constexpr (Rule::kStates > 1) s1r[e] = s[1];
        const float delta = we - w0r[e];
        terms[0] = acc.drift2;
        terms[1] = acc.noise2;
        terms[2] = acc.aux;
        terms[3] = delta * delta;
      });
    });
  };
}

// The update pass's four sums (update_chunks' terms, added up) as its totals.
inline PassTotals pass_totals(const std::array<double, 4>& sums) {
  PassTotals out;
  out.step.drift2 = sums[0];
  out.step.noise2 = sums[1];
  out.step.aux = sums[2];
  out.distance2 = sums[3];
  return out;
}

template <class Rule>
PassTotals update_pass(const typename Rule::Coeffs& k, float* w, const float* g, const float* w0,
                       float* const* state, std::int64_t d, std::uint64_t chain_seed, std::int64_t t,
                       std::span<const int> owners = {}) {
  return pass_totals(
      chunked_lane_sums<float, 4>(d, update_chunks<Rule>(k, w, g, w0, state, chain_seed, t), owners));
}

}  // namespace llcb::backend::cpu
