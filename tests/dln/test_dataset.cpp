// Data on the fly: inputs, and minibatch streams with and without replacement.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "lib/dln/dataset.hpp"

namespace llcb::dln {
namespace {

TEST(Dataset, InputsAreReproducibleAndInRange) {
  std::vector<float> a(13), b(13), c(13);
  sample_input(5, 42, 13, a.data());
  sample_input(5, 42, 13, b.data());
  sample_input(5, 43, 13, c.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double sum = 0, sum2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    sample_input(9, static_cast<std::uint64_t>(i), 13, a.data());
    for (float v : a) {
      ASSERT_GT(v, -10.0f);
      ASSERT_LT(v, 10.0f);
      sum += v;
      sum2 += static_cast<double>(v) * v;
    }
  }
  const double m = 13.0 * n;
  // U(-10, 10): mean 0 (se 0.016), variance 100/3 (se 0.06); allow 5 se.
  EXPECT_NEAR(sum / m, 0.0, 0.08);
  EXPECT_NEAR(sum2 / m - (sum / m) * (sum / m), 100.0 / 3.0, 0.3);
}

// Each input is 20 u rounded to float, then minus 10, rounded again: the two roundings the GPU's
// kernel makes (data_kernels.cu), so that both backends see bit-identical inputs. A compiler that
// fused the two into one FMA (GCC does for C++ on FMA hardware unless -ffp-contract=off) would
// change about half of the inputs by an ulp.
// The host's faster path gives sample_input's bits, for widths with and without a partial last
// block and wider than one batch of drawn blocks (1,024 coordinates).
TEST(Dataset, TheHostsInputsAreSampleInputs) {
  for (std::int64_t h : {1, 3, 4, 13, 64, 391, 1023, 1024, 1027, 3000}) {
    std::vector<float> want(static_cast<std::size_t>(h)), got(static_cast<std::size_t>(h) + 1, 7.0f);
    for (std::uint64_t i : {0ull, 5ull, 999'999ull}) {
      sample_input(11, i, h, want.data());
      sample_input_host(11, i, h, got.data());
      ASSERT_TRUE(std::equal(want.begin(), want.end(), got.begin())) << "width " << h << " sample " << i;
      ASSERT_EQ(got.back(), 7.0f) << "wrote past width " << h;
    }
  }
}

TEST(Dataset, InputsRoundTheProductBeforeSubtracting) {
  std::vector<float> x(64);
  for (std::uint64_t i = 0; i < 500; ++i) {
    sample_input(9, i, 64, x.data());
    for (std::size_t j = 0; j < x.size(); ++j) {
      const PhiloxBlock b = draw_block(9, Stream::kInput, i, static_cast<std::uint32_t>(j / 4));
      volatile float product = 20.0f * u01f(b.v[j % 4]);  // stored: rounded to float
      const float want = product - 10.0f;
      ASSERT_EQ(x[j], want) << "sample " << i << " element " << j;
    }
  }
}

TEST(Dataset, WithoutReplacementVisitsEverySampleOncePerEpoch) {
  const std::uint64_t n = 1000;
  const std::int64_t batch = 64;  // does not divide n: batches straddle epochs
  const MinibatchStream s(n, batch, 77, Sampling::kWithoutReplacement);
  std::vector<std::uint64_t> seen;
  std::vector<std::uint64_t> idx(batch);
  for (std::int64_t t = 0; t < 32; ++t) {  // 2048 positions: epochs 0, 1 and part of 2
    s.fill(t, idx.data());
    for (std::int64_t b = 0; b < batch; ++b) {
      ASSERT_EQ(idx[static_cast<std::size_t>(b)], s.index(t, b));
      seen.push_back(idx[static_cast<std::size_t>(b)]);
    }
  }
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<std::uint64_t> e(seen.begin() + epoch * 1000, seen.begin() + (epoch + 1) * 1000);
    std::sort(e.begin(), e.end());
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(e[i], i) << "epoch " << epoch;
  }
  // Consecutive epochs are shuffled differently.
  EXPECT_FALSE(std::equal(seen.begin(), seen.begin() + 1000, seen.begin() + 1000));
}

TEST(Dataset, MinibatchesArePureFunctionsOfChainSeedAndStep) {
  const MinibatchStream a(100000, 500, 1, Sampling::kWithoutReplacement);
  const MinibatchStream b(100000, 500, 2, Sampling::kWithoutReplacement);
  EXPECT_EQ(a.index(123, 7), a.index(123, 7));
  int same = 0;
  for (int i = 0; i < 500; ++i) same += a.index(5, i) == b.index(5, i);
  EXPECT_LT(same, 5);
}

TEST(Dataset, WithReplacementIsUniform) {
  const std::uint64_t n = 10;
  const MinibatchStream s(n, 100, 3, Sampling::kWithReplacement);
  std::vector<int> counts(n, 0);
  for (std::int64_t t = 0; t < 1000; ++t) {
    for (std::int64_t b = 0; b < 100; ++b) ++counts[s.index(t, b)];
  }
  // Binomial(100000, 0.1): mean 10000, sd 94.9; allow 5 sd.
  for (int c : counts) EXPECT_NEAR(c, 10000, 475);
}

}  // namespace
}  // namespace llcb::dln
