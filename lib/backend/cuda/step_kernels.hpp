// The per-step kernels of C CUDA chains besides the GEMMs, the data and the sampler update.
//
// residual_on_device: for each chain c (grid (blocks, C), 256 threads, 4 elements a thread):
//   g = (out - y) * scale over its `count` elements (at c * gstride in g, at c * ostride in out
//   and y; both strides >= count, ChainLayout), and per-block sums of (out - y)^2 in double into partial[c * blocks + block].
//   blocks >= residual_blocks(count); the blocks past the elements write 0, so the members of a
//   chain group, whose row shares may differ by one row, all write arrays of one length that the
//   group adds element by element. fp32 residual, double squares.
//
// step_end_on_device<Rule>: one block of 256 threads per chain. Adds the chain's residual
//   partials (its loss = sum / normaliser) and its update partials (drift^2, noise^2, aux,
//   ||w - w*||^2) in a fixed order, writes (loss, drift^2, noise^2, ||w - w*||^2) to
//   ring[(c * ring_len + t % ring_len) * 4 ...], then, with the rule's own host/device functions,
//   updates the chain's scalars (Rule::after_step) and the coefficients of its next update
//   (Rule::coeffs at t + 2), and advances its t. Everything lives in device memory (ChainState),
//   so the step loop never waits for the host.
//
// checksum_on_device: *sum = the sum of the bit patterns of w[0..n) as unsigned integers, mod
//   2^64. Integer addition is associative, so the value does not depend on the order the blocks
//   add in: chain groups compare it between members (the drift check).
//
// Determinism: fixed launch shapes and summation orders; the same inputs give the same bits on
// the same device. All asynchronous on the given stream; launch errors throw RuntimeError.
#pragma once

#include <cstdint>

#include "lib/samplers/config.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::cuda {

// Device arrays of C entries each: what the chains keep between steps.
template <class Rule>
struct ChainState {
  std::int64_t* t = nullptr;                  // the step about to run (0-based)
  samplers::ChainScalars* scalars = nullptr;  // e.g. SGNHT's thermostat
  typename Rule::Coeffs* k = nullptr;         // the next update's coefficients (coeffs at t + 1)
  samplers::SamplerConfig* config = nullptr;  // each chain's sampler settings
};

std::int64_t residual_blocks(std::int64_t count);

void residual_on_device(const float* out, const float* y, float* g, std::int64_t chains,
                        std::int64_t count, std::int64_t ostride, std::int64_t gstride, float scale,
                        double* partial, std::int64_t blocks, void* stream = nullptr);

template <class Rule>
void step_end_on_device(const ChainState<Rule>& state, std::int64_t chains,
                        const double* loss_partial, std::int64_t loss_blocks, double normaliser,
                        const double* update_partial, std::int64_t update_blocks, std::int64_t d,
                        double* ring, std::int64_t ring_len, void* stream = nullptr);

void checksum_on_device(const float* w, std::int64_t n, unsigned long long* sum,
                        void* stream = nullptr);

}  // namespace llcb::cuda
