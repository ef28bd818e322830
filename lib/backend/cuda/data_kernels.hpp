// Minibatches generated on the device from the same pure functions as the CPU
// (lib/dln/dataset.hpp), for C chains at once: the indices of step t and the inputs of those
// samples, bit-identical to the host's.
//
// Chain c has its own minibatch stream (its chain seed) and step counter t[c] (read from device
// memory when the kernel runs, so a captured CUDA graph replays correctly). Buffers are
// chain-major: chain c's indices at idx + c * batch, its rows at x + c * stride (stride >=
// rows * h, ChainLayout), row r at + r * h.
//
// minibatch_on_device: grid (samples / 256, C), one thread a sample (each builds its epoch's
//   Feistel keys from one Philox block); idx[c][b] = streams[c].index(t[c], b), b < batch.
// inputs_on_device: grid (rows * blocks of 4 coordinates / 256, C); row r of chain c is sample
//   idx[c][first + r] (a chain group member computes rows [first, first + rows) of the batch).
// target_noise_on_device: grid (rows / 256, C); adds sigma * noise to row r of chain c's targets,
//   as dln::add_target_noise does on the host.
// All asynchronous on the given stream (nullptr: default stream); launch errors throw.
#pragma once

#include <cstdint>

#include "lib/dln/dataset.hpp"

namespace llcb::cuda {

// streams: device array of C minibatch streams (copied from the host once per batch of chains).
void minibatch_on_device(const dln::MinibatchStream* streams, std::int64_t chains,
                         std::int64_t batch, const std::int64_t* t, std::uint64_t* idx,
                         void* stream = nullptr);
void inputs_on_device(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t chains,
                      std::int64_t batch, std::int64_t first, std::int64_t rows, std::int64_t h_in,
                      float* x, std::int64_t x_stride, void* stream = nullptr);
void target_noise_on_device(std::uint64_t problem_seed, const std::uint64_t* idx,
                            std::int64_t chains, std::int64_t batch, std::int64_t first,
                            std::int64_t rows, std::int64_t h_out, float sigma, float* y,
                            std::int64_t y_stride, void* stream = nullptr);

}  // namespace llcb::cuda
