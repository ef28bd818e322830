// Minibatches generated on the device from the same pure functions as the CPU
// (lib/dln/dataset.hpp): the indices of step t and the inputs of those samples, bit-identical to
// the host's.
//
// minibatch_on_device: 1-D launch, 256 threads a block, one thread a sample (each builds its
//   epoch's Feistel keys from one Philox block); idx[b] = MinibatchStream(n, batch, seed,
//   sampling).index(t, b).
// inputs_on_device: 1-D launch over (sample, block of 4 coordinates); x is row-major batch x h_in.
// target_noise_on_device: one thread a sample; adds sigma * noise to row b of y (batch x h_out),
//   as dln::add_target_noise does on the host.
// The step t is read from device memory when the kernel runs (CUDA graphs replay it).
// All asynchronous on the given stream (nullptr: default stream); launch errors throw.
#pragma once

#include <cstdint>

#include "lib/dln/dataset.hpp"

namespace llcb::cuda {

void minibatch_on_device(std::uint64_t n, std::int64_t batch, std::uint64_t chain_seed,
                         dln::Sampling sampling, const std::int64_t* t, std::uint64_t* idx,
                         void* stream = nullptr);
void inputs_on_device(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t batch,
                      std::int64_t h_in, float* x, void* stream = nullptr);
void target_noise_on_device(std::uint64_t problem_seed, const std::uint64_t* idx,
                            std::int64_t batch, std::int64_t h_out, float sigma, float* y,
                            void* stream = nullptr);

}  // namespace llcb::cuda
