// fastmath (branch-free log and sincos) against libm in double, and the Feistel permutation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "lib/core/fastmath.hpp"
#include "lib/core/permutation.hpp"
#include "lib/core/random.hpp"

namespace llcb {
namespace {

TEST(FastMath, LogIsWithinTwoUlpOnTheUniformGrid) {
  double worst_ulps = 0;
  // Every float u01f can produce is (k + 0.5) / 2^23; check a dense sweep plus the extremes.
  for (std::uint32_t k = 0; k < (1u << 23); k += 7) {
    const float u = (static_cast<float>(k) + 0.5f) * 0x1p-23f;
    const double exact = std::log(static_cast<double>(u));
    const double ulp = std::nextafter(static_cast<float>(std::abs(exact)), INFINITY) -
                       static_cast<float>(std::abs(exact));
    worst_ulps = std::max(worst_ulps, std::abs(log_f(u) - exact) / ulp);
  }
  EXPECT_LE(worst_ulps, 2.0);
  EXPECT_NEAR(log_f(1.0f), 0.0, 1e-7);
  EXPECT_NEAR(log_f(0x1p-24f), std::log(0x1p-24), 2e-6);
}

TEST(FastMath, SinCosAreAccurateOverTheWholeTurn) {
  double worst = 0;
  for (int k = 0; k <= 1'000'000; ++k) {
    const float u = static_cast<float>(k) / 1e6f;
    float s, c;
    sincos_2pi_f(u, s, c);
    const double a = 2 * M_PI * static_cast<double>(u);
    worst = std::max({worst, std::abs(s - std::sin(a)), std::abs(c - std::cos(a))});
  }
  EXPECT_LT(worst, 2e-7);
}

TEST(Permutation, IsABijectionForManySizes) {
  for (std::uint64_t n : {1ULL, 2ULL, 3ULL, 5ULL, 16ULL, 17ULL, 100ULL, 1000ULL, 4097ULL, 65536ULL, 100000ULL}) {
    const std::uint32_t keys[4] = {static_cast<std::uint32_t>(n), 7u, 99u, 12345u};
    const FeistelPermutation perm(n, keys);
    std::vector<std::uint64_t> out(n);
    for (std::uint64_t i = 0; i < n; ++i) out[i] = perm.apply(i);
    std::sort(out.begin(), out.end());
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], i) << "n = " << n;
  }
}

TEST(Permutation, DifferentKeysGiveDifferentOrdersThatLookShuffled) {
  const std::uint64_t n = 10000;
  const std::uint32_t k1[4] = {1, 2, 3, 4}, k2[4] = {5, 6, 7, 8};
  const FeistelPermutation a(n, k1), b(n, k2);
  int same = 0, fixed = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    same += a.apply(i) == b.apply(i);
    fixed += a.apply(i) == i;
  }
  // A random permutation has about one fixed point and one coincidence with another; allow 20.
  EXPECT_LT(same, 20);
  EXPECT_LT(fixed, 20);
}

}  // namespace
}  // namespace llcb
