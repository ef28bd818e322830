// The fused sampler update on the device: one pass over the d parameters that reads each
// parameter, its gradient, its sampler state and its centre, draws its noise in registers (the
// kLangevin stream, exactly as the CPU backend addresses it) and writes the parameter and state
// back, through the same rule function the CPU calls (lib/samplers).
//
// Launch shape: 1-D grid, 256 threads a block, 4 parameters a thread (one Philox block).
// Precision: fp32 updates; the step's sums (drift^2, noise^2, aux, ||w - w*||^2) are reduced per
// block in float and written as doubles to partial[4 * block + k]; the caller adds the blocks in
// order (deterministic for a given d). Determinism: the same inputs give the same bits on the
// same device. Asynchronous on the given stream (nullptr: the default stream).
#pragma once

#include <cstdint>

namespace llcb::cuda {

// Number of blocks update_on_device launches for d parameters (the size of `partial` / 4).
std::int64_t update_blocks(std::int64_t d);

// Rule is one of the rules of lib/samplers; s0 and s1 may be null when the rule has fewer states.
// The coefficients k and the step number t (0-based; the noise of step t) are read from device
// memory when the kernel runs, so that a captured CUDA graph replays correctly from step to step.
template <class Rule>
void update_on_device(const typename Rule::Coeffs* k, const std::int64_t* t, float* w,
                      const float* g, const float* w0, float* s0, float* s1, std::int64_t d,
                      std::uint64_t chain_seed, double* partial, void* stream = nullptr);

}  // namespace llcb::cuda
