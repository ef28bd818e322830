// A build for AVX2 without AVX-512, as -march=native gives on such a CPU: this file is compiled
// with -march=x86-64-v3 (tests/core/CMakeLists.txt, where the build machine runs AVX2), so
// draw_blocks takes its AVX2 path, draw_normals' Box-Muller loop is vectorised for 8 lanes and
// LaneSums keeps its lanes in 32-byte vectors. They must give the bits that test_philox.cpp pins
// and the sums in the order lane_sums.hpp states. Its own executable, linking no llcbench library,
// so that every inline function in it is this file's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/core/philox_blocks.hpp"

#if defined(__AVX512F__) || !defined(__AVX2__)
#error "test_avx2_build.cpp must be compiled for AVX2 without AVX-512"
#endif

namespace llcb {
namespace {

// As test_philox.cpp's TheNormalsKeepTheirBits: FNV-1a over the float bits of 2^20 blocks' normals.
TEST(PhiloxAvx2, TheNormalsKeepTheirBits) {
  constexpr std::uint64_t kWant = 0x69b44511402020feull;
  constexpr std::uint32_t kBlocks = 1u << 20;
  constexpr std::int64_t kAtOnce = 1000;  // not a multiple of 8: the scalar rest too
  std::vector<std::uint32_t> w0(kAtOnce), w1(kAtOnce), w2(kAtOnce), w3(kAtOnce);
  std::vector<float> z(4 * kAtOnce);
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint32_t j = 0; j < kBlocks; j += kAtOnce) {
    const std::int64_t count = std::min<std::int64_t>(kAtOnce, kBlocks - j);
    draw_normals(0x5eed, Stream::kLangevin, 3, j, count, z.data(), BlockWords{{w0.data(), w1.data(), w2.data(), w3.data()}});
    for (std::int64_t i = 0; i < 4 * count; ++i) {
      const std::uint32_t b = float_bits(z[static_cast<std::size_t>(i)]);
      for (int k = 0; k < 4; ++k) {
        h ^= (b >> (8 * k)) & 0xffu;
        h *= 0x100000001b3ull;
      }
    }
  }
  EXPECT_EQ(h, kWant);
}

TEST(PhiloxAvx2, ManyBlocksAtOnceAreTheSameAsOneAtATime) {
  for (std::int64_t count : {0, 1, 7, 8, 9, 17, 1031}) {
    for (std::uint32_t first : {0u, 0xFFFFFFF9u}) {
      const auto n = static_cast<std::size_t>(count);
      std::vector<std::uint32_t> w[4];
      for (auto& v : w) v.assign(n + 1, 0xDEADBEEFu);
      draw_blocks(99, Stream::kInput, 5, first, count, BlockWords{{w[0].data(), w[1].data(), w[2].data(), w[3].data()}});
      for (std::int64_t j = 0; j < count; ++j) {
        const PhiloxBlock b = draw_block(99, Stream::kInput, 5, first + static_cast<std::uint32_t>(j));
        for (int k = 0; k < 4; ++k) ASSERT_EQ(w[k][static_cast<std::size_t>(j)], b.v[k]) << count << " from " << first;
      }
      for (const auto& v : w) EXPECT_EQ(v[n], 0xDEADBEEFu);
    }
  }
}

// Each sum adds its terms in lane i % kSumLanes in index order, then the lanes in order
// (tests/backend/cpu/test_lane_sums.cpp checks the same in the machine's own build).
TEST(LaneSumsAvx2, AddInTheDocumentedOrder) {
  constexpr std::int64_t n = 4096 + 13;
  std::vector<float> x(n);
  for (std::int64_t i = 0; i < n; ++i) {
    x[static_cast<std::size_t>(i)] = normal4f(draw_block(3, Stream::kInput, static_cast<std::uint64_t>(i))).z[0] *
                                     std::exp2(static_cast<float>(i % 23) - 11.0f);  // mixed magnitudes
  }
  backend::cpu::LaneSums<float, 2> sums;
  backend::cpu::LaneSums<double, 1> wide;
  sums.add(n, [&](std::int64_t i, float (&t)[2]) {
    t[0] = x[static_cast<std::size_t>(i)];
    t[1] = x[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(i)];
  });
  wide.add(n, [&](std::int64_t i, double (&t)[1]) { t[0] = x[static_cast<std::size_t>(i)]; });
  float lanes[2][backend::cpu::kSumLanes] = {};
  double wide_lanes[backend::cpu::kSumLanes] = {};
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = x[static_cast<std::size_t>(i)];
    lanes[0][i % backend::cpu::kSumLanes] += v;
    lanes[1][i % backend::cpu::kSumLanes] += v * v;
    wide_lanes[i % backend::cpu::kSumLanes] += v;
  }
  double want[3] = {0, 0, 0};
  for (int l = 0; l < backend::cpu::kSumLanes; ++l) {
    want[0] += static_cast<double>(lanes[0][l]);
    want[1] += static_cast<double>(lanes[1][l]);
    want[2] += wide_lanes[l];
  }
  EXPECT_EQ(sums.total(0), want[0]);
  EXPECT_EQ(sums.total(1), want[1]);
  EXPECT_EQ(wide.total(0), want[2]);
}

}  // namespace
}  // namespace llcb
