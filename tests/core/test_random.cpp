// Draws built on Philox: ranges, exactness of the uniform conversions, and distribution checks.
// Statistical checks use fixed seeds; each tolerance is a multiple of the sampling standard
// error stated next to it, so a correct generator fails with negligible probability and the
// outcome is deterministic anyway (fixed seeds).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lib/core/random.hpp"

namespace llcb {
namespace {

TEST(Random, KeyAndCounterLayout) {
  const PhiloxKey k = key_from_seed(0x0123456789abcdefULL);
  EXPECT_EQ(k.v[0], 0x89abcdefu);
  EXPECT_EQ(k.v[1], 0x01234567u);
  const PhiloxCounter c = stream_counter(Stream::kTeacher, 0x0000000500000007ULL, 9);
  EXPECT_EQ(c.v[0], 7u);
  EXPECT_EQ(c.v[1], 5u);
  EXPECT_EQ(c.v[2], 9u);
  EXPECT_EQ(c.v[3], static_cast<std::uint32_t>(Stream::kTeacher));
}

TEST(Random, StreamsOfOneSeedDiffer) {
  const PhiloxBlock a = draw_block(42, Stream::kArch, 0);
  const PhiloxBlock b = draw_block(42, Stream::kTeacher, 0);
  const PhiloxBlock c = draw_block(43, Stream::kArch, 0);
  EXPECT_NE(a.v[0], b.v[0]);
  EXPECT_NE(a.v[0], c.v[0]);
}

TEST(Random, UniformFloatEndpointsAreOpenAndExact) {
  EXPECT_EQ(u01f(0u), 0x1p-24f);
  EXPECT_EQ(u01f(0xffffffffu), 1.0f - 0x1p-24f);
  EXPECT_GT(u01f(0u), 0.0f);
  EXPECT_LT(u01f(0xffffffffu), 1.0f);
  EXPECT_EQ(u01d(0u, 0u), 0x1p-53);
  EXPECT_EQ(u01d(0xffffffffu, 0xffffffffu), 1.0 - 0x1p-53);
}

TEST(Random, UniformIntCoversItsInclusiveRange) {
  EXPECT_EQ(uniform_int(0, 3, 9), 3);
  EXPECT_EQ(uniform_int(~0ULL, 3, 9), 9);
  EXPECT_EQ(uniform_int(12345, 7, 7), 7);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) {
    const PhiloxBlock b = draw_block(1, Stream::kArch, static_cast<std::uint64_t>(i));
    const std::int64_t v = uniform_int(join64(b.v[0], b.v[1]), 3, 9);
    ASSERT_GE(v, 3);
    ASSERT_LE(v, 9);
    ++counts[static_cast<std::size_t>(v - 3)];
  }
  // Each count is Binomial(70000, 1/7): mean 10000, sd 92.6; allow 5 sd.
  for (int c : counts) EXPECT_NEAR(c, 10000, 463);
}

TEST(Random, UniformMomentsMatch) {
  const int n = 200000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n / 4; ++i) {
    const PhiloxBlock b = draw_block(7, Stream::kInput, static_cast<std::uint64_t>(i));
    for (int w = 0; w < 4; ++w) {
      const double u = u01f(b.v[w]);
      sum += u;
      sum2 += u * u;
    }
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  // U(0,1): mean 1/2 (se 0.000645), variance 1/12 (se 0.000167); allow 5 se.
  EXPECT_NEAR(mean, 0.5, 0.0033);
  EXPECT_NEAR(var, 1.0 / 12.0, 0.00084);
}

template <class Fill>
void expect_standard_normal(Fill fill, int n) {
  double sum = 0, sum2 = 0, sum4 = 0;
  int within1 = 0;
  std::vector<double> z;
  z.reserve(static_cast<std::size_t>(n));
  fill(z);
  ASSERT_EQ(static_cast<int>(z.size()), n);
  for (double v : z) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum2 += v * v;
    sum4 += v * v * v * v;
    within1 += std::abs(v) < 1.0;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean, m4 = sum4 / n;
  // N(0,1) with n = 200000: se(mean) = 0.00224, se(var) = 0.00316, se(E z^4) = 0.0217,
  // se(P(|z|<1) = 0.6827) = 0.00104. Allow 5 se each.
  EXPECT_NEAR(mean, 0.0, 0.0112);
  EXPECT_NEAR(var, 1.0, 0.0158);
  EXPECT_NEAR(m4, 3.0, 0.109);
  EXPECT_NEAR(static_cast<double>(within1) / n, 0.682689, 0.0052);
}

TEST(Random, NormalDoublesAreStandardNormal) {
  expect_standard_normal(
      [](std::vector<double>& z) {
        for (int i = 0; i < 100000; ++i) {
          const Normal2d p = normal2d(draw_block(3, Stream::kTeacher, static_cast<std::uint64_t>(i)));
          z.push_back(p.z0);
          z.push_back(p.z1);
        }
      },
      200000);
}

TEST(Random, NormalFloatsAreStandardNormal) {
  expect_standard_normal(
      [](std::vector<double>& z) {
        for (int i = 0; i < 50000; ++i) {
          const Normal4f p = normal4f(draw_block(5, Stream::kInput, static_cast<std::uint64_t>(i)));
          for (float v : p.z) z.push_back(v);
        }
      },
      200000);
}

TEST(Random, NormalPairsAreUncorrelated) {
  const int n = 100000;
  double sxy = 0;
  for (int i = 0; i < n; ++i) {
    const Normal2d p = normal2d(draw_block(11, Stream::kTeacher, static_cast<std::uint64_t>(i)));
    sxy += p.z0 * p.z1;
  }
  // E[z0 z1] = 0 with se 1/sqrt(n) = 0.00316; allow 5 se.
  EXPECT_NEAR(sxy / n, 0.0, 0.0158);
}

}  // namespace
}  // namespace llcb
