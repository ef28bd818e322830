// The fused sampler update on the device, for C chains of one sampler at once: one pass over each
// chain's d parameters that reads each parameter, its gradient, its sampler state and its centre
// (shared by the chains), draws its noise in registers (the kLangevin stream of the chain's seed,
// exactly as the CPU backend addresses it) and writes the parameter and state back, through the
// same rule function the CPU calls (lib/samplers).
//
// Launch shape: grid (update_blocks(d), C), 256 threads a block, 4 parameters a thread (one
// Philox block). Chain c's arrays start at c * stride (w, g, s0, s1; stride >= d, ChainLayout);
// with a layer_map (`layers` logical layer offsets, then as many physical ones: ChainLayout),
// flat parameter e of layer s sits at physical[s] + e - logical[s] of a chain's block, and of w0;
// without one (nullptr) at e. The noise of parameter e is addressed by e either way. its coefficients k[c], step t[c]
// and seed seeds[c] are read from device memory when the kernel runs (CUDA graphs replay it).
// Precision: fp32 updates; the step's sums (drift^2, noise^2, aux, ||w - w*||^2) are reduced per
// block in float and written as doubles to partial[(c * update_blocks(d) + block) * 4 + k]; the
// caller adds the blocks in order (deterministic for a given d). Determinism: the same inputs
// give the same bits on the same device. Asynchronous on the given stream (nullptr: default).
#pragma once

#include <cstdint>

namespace llcb::cuda {

// Blocks per chain that update_on_device launches for d parameters.
std::int64_t update_blocks(std::int64_t d);

// Rule is one of the rules of lib/samplers; s0 and s1 may be null when the rule has fewer states.
template <class Rule>
void update_on_device(const typename Rule::Coeffs* k, const std::int64_t* t,
                      const std::uint64_t* seeds, std::int64_t chains, float* w, const float* g,
                      const float* w0, float* s0, float* s1, std::int64_t d, std::int64_t stride,
                      const std::int64_t* layer_map, std::int64_t layers, double* partial,
                      void* stream = nullptr);

}  // namespace llcb::cuda
