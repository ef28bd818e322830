// Philox streams generated on the device: the same addressing and the same code
// (lib/core/random.hpp) as on the host.
//
// philox_words: launch shape 1-D, 256 threads a block, one thread per Philox block;
//   precision: integers; determinism: bit-identical to draw_block on the host.
//   out[4*b + w] = word w of draw_block(seed, stream, first + b, sub), b < blocks.
// normal_floats: as above with out[4*b + w] = normal4f(block).z[w]; agrees with the host to a few
//   ulp (device intrinsics for log and sincos), not bit for bit.
// Both run on the current device's default stream and return after the launch (asynchronous);
// launch errors throw RuntimeError.
#pragma once

#include <cstdint>

#include "lib/core/streams.hpp"

namespace llcb::cuda {

void philox_words(std::uint64_t seed, Stream stream, std::uint32_t sub, std::uint64_t first,
                  std::uint64_t blocks, std::uint32_t* out);
void normal_floats(std::uint64_t seed, Stream stream, std::uint32_t sub, std::uint64_t first,
                   std::uint64_t blocks, float* out);

}  // namespace llcb::cuda
