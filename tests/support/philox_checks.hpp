// Checks of the Philox draws shared by test_philox.cpp (the machine's own build) and
// test_avx2_build.cpp (a build for AVX2): header-only, so that each compiles them with its own
// flags.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lib/core/philox_blocks.hpp"

namespace llcb::philox_checks {

// The noise's bits, pinned: the FNV-1a hash of the float bits of normal4f over blocks 0 .. 2^20 - 1
// of step 3 of the kLangevin stream of seed 0x5eed (the hash the build before draw_normals and the
// sign-bit sincos computed). Every trace depends on these bits; a change to them must be a new,
// versioned noise recipe (docs/performance.md), never a silent one.
constexpr std::uint64_t kNormalsHash = 0x69b44511402020feull;
constexpr std::uint32_t kHashedBlocks = 1u << 20;

inline void fnv_add(std::uint64_t& h, float z) {
  const std::uint32_t b = float_bits(z);
  for (int k = 0; k < 4; ++k) {
    h ^= (b >> (8 * k)) & 0xffu;
    h *= 0x100000001b3ull;
  }
}

// The build's own draw_normals, as a callable (its paths, draw_normals_scalar and the others, are
// functions already).
inline void draw_normals_default(std::uint64_t seed, Stream stream, std::uint64_t index, std::uint32_t first_sub,
                                 std::int64_t count, float* out, const BlockWords& words) {
  draw_normals(seed, stream, index, first_sub, count, out, words);
}

// kNormalsHash's hash computed through `draw` (draw_normals or one of its paths), 1000 blocks at a
// time (not a multiple of 8 or 16: every vector path's rest too).
template <class Draw = decltype(&draw_normals_default)>
std::uint64_t normals_hash_many_at_once(Draw draw = &draw_normals_default) {
  constexpr std::int64_t kAtOnce = 1000;
  std::vector<std::uint32_t> w0(kAtOnce), w1(kAtOnce), w2(kAtOnce), w3(kAtOnce);
  std::vector<float> z(4 * kAtOnce);
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint32_t j = 0; j < kHashedBlocks; j += kAtOnce) {
    const std::int64_t count = std::min<std::int64_t>(kAtOnce, kHashedBlocks - j);
    draw(0x5eed, Stream::kLangevin, 3, j, count, z.data(), BlockWords{{w0.data(), w1.data(), w2.data(), w3.data()}});
    for (std::int64_t i = 0; i < 4 * count; ++i) fnv_add(h, z[static_cast<std::size_t>(i)]);
  }
  return h;
}

// `draw` (draw_normals or one of its paths) gives normal4f's bits of each block, in block order,
// and writes nothing past them.
template <class Draw>
void expect_normals_as_one_block_at_a_time(Draw draw) {
  for (std::int64_t count : {0, 1, 17, 98, 1024, 1031}) {
    const auto n = static_cast<std::size_t>(count);
    std::vector<std::uint32_t> w0(n), w1(n), w2(n), w3(n);
    std::vector<float> z(4 * n + 1, -7.0f);
    draw(99, Stream::kLangevin, 5, 12, count, z.data(), BlockWords{{w0.data(), w1.data(), w2.data(), w3.data()}});
    for (std::int64_t j = 0; j < count; ++j) {
      const Normal4f want = normal4f(draw_block(99, Stream::kLangevin, 5, 12 + static_cast<std::uint32_t>(j)));
      for (int k = 0; k < 4; ++k) {
        ASSERT_EQ(float_bits(z[static_cast<std::size_t>(4 * j + k)]), float_bits(want.z[k])) << count << " blocks, block " << j;
      }
    }
    EXPECT_EQ(z[4 * n], -7.0f) << "wrote past " << count << " blocks";
  }
}

// The CPU runs the AVX-512 path (the features draw_path asks for).
inline bool cpu_runs_avx512() { return cpu_draw_path() == DrawPath::kAvx512; }

// The path a build without AVX-512 should take here, under the environment's LLCB_DRAWS.
inline DrawPath expected_draw_path() { return capped_draw_path(std::getenv("LLCB_DRAWS")); }

// `draw` (draw_blocks or one of its paths) gives draw_block's words for every count and every
// starting block, including runs across the 2^32 wrap of the block word: from a multiple of 8 and
// from starts that are not, whose lanes carry into the high halves of the 64-bit lanes.
template <class Draw>
void expect_many_blocks_as_one_at_a_time(Draw draw) {
  for (std::int64_t count : {0, 1, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 98, 1024, 1031}) {
    for (std::uint32_t first : {0u, 7u, 0xFFFFFFF0u, 0xFFFFFFF9u, 0xFFFFFFFDu}) {
      const auto n = static_cast<std::size_t>(count);
      std::vector<std::uint32_t> w0(n + 1, 0xDEADBEEFu), w1(n + 1, 0xDEADBEEFu), w2(n + 1, 0xDEADBEEFu),
          w3(n + 1, 0xDEADBEEFu);
      draw(0x123456789ABCDEFull, Stream::kLangevin, 77, first, count, BlockWords{{w0.data(), w1.data(), w2.data(), w3.data()}});
      for (std::int64_t j = 0; j < count; ++j) {
        const PhiloxBlock b = draw_block(0x123456789ABCDEFull, Stream::kLangevin, 77, first + static_cast<std::uint32_t>(j));
        const auto i = static_cast<std::size_t>(j);
        ASSERT_EQ(w0[i], b.v[0]) << count << " blocks from " << first << ", block " << j;
        ASSERT_EQ(w1[i], b.v[1]);
        ASSERT_EQ(w2[i], b.v[2]);
        ASSERT_EQ(w3[i], b.v[3]);
      }
      for (const auto* w : {&w0, &w1, &w2, &w3}) EXPECT_EQ((*w)[n], 0xDEADBEEFu) << "wrote past " << count << " blocks";
    }
  }
}

}  // namespace llcb::philox_checks
