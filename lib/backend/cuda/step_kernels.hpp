// The per-step kernels of a CUDA chain besides the GEMMs, the data and the sampler update.
//
// residual_on_device: g = (out - y) * scale over `count` elements, and per-block sums of
//   (out - y)^2 in double into partial[block] (block count: residual_blocks(count)).
//   Launch: 1-D, 256 threads a block, 4 elements a thread. fp32 residual, double squares.
//
// step_end_on_device<Rule>: one block of 256 threads. Adds the residual partials (the step's
//   loss = sum / count) and the update's partials (drift^2, noise^2, aux, ||w - w*||^2) in a fixed
//   order, writes (loss, drift^2, noise^2, ||w - w*||^2) to ring[4 * (t % ring_len) ...], then,
//   with the rule's own host/device functions, updates the chain scalars (Rule::after_step) and
//   the coefficients of the next update (Rule::coeffs at t + 2), and advances t. Everything lives
//   in a DeviceChain<Rule> in device memory, so the step loop never waits for the host.
//
// Determinism: fixed launch shapes and summation orders; the same inputs give the same bits on
// the same device. All asynchronous on the given stream; launch errors throw RuntimeError.
#pragma once

#include <cstdint>

#include "lib/samplers/config.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::cuda {

// What a chain keeps in device memory between steps.
template <class Rule>
struct DeviceChain {
  std::int64_t t = 0;                 // the step about to run (0-based)
  samplers::ChainScalars scalars;     // e.g. SGNHT's thermostat
  typename Rule::Coeffs k;            // coefficients of the update of step t (Rule::coeffs at t+1)
};

// checksum_on_device: *sum = the sum of the bit patterns of w[0..d) as unsigned integers, mod
//   2^64 (set to 0 first). Integer addition is associative, so the value does not depend on the
//   order the blocks add in: the drift check of chain groups compares it between members.
void checksum_on_device(const float* w, std::int64_t d, unsigned long long* sum,
                        void* stream = nullptr);

std::int64_t residual_blocks(std::int64_t count);

void residual_on_device(const float* out, const float* y, float* g, std::int64_t count,
                        float scale, double* partial, void* stream = nullptr);

template <class Rule>
void step_end_on_device(DeviceChain<Rule>* chain, const double* loss_partial,
                        std::int64_t loss_blocks, double count, const double* update_partial,
                        std::int64_t update_blocks, const samplers::SamplerConfig& config,
                        std::int64_t d, double* ring, std::int64_t ring_len,
                        void* stream = nullptr);

}  // namespace llcb::cuda
