// The device runs the same Philox and Box-Muller code as the host: words bit-identical, normals
// equal up to nvcc contracting multiply-adds into FMAs (a few ulp).
// Skips cleanly when no CUDA device is visible (build machines have the toolkit but no GPU).
#include <gtest/gtest.h>

#include <cmath>

#include "lib/backend/cuda/device.hpp"
#include "lib/backend/cuda/rng_kernels.hpp"
#include "lib/core/random.hpp"

namespace llcb::cuda {
namespace {

class CudaRng : public ::testing::Test {
 protected:
  void SetUp() override {
    if (device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
    set_device(0);
  }
};

TEST_F(CudaRng, WordsAreBitIdenticalToTheHost) {
  const std::uint64_t blocks = 100000, first = (1ULL << 32) - 50;  // crosses the 32-bit boundary
  DeviceBuffer<std::uint32_t> d(4 * blocks);
  philox_words(0xdeadbeefcafeULL, Stream::kInput, 3, first, blocks, d.data());
  const auto h = d.to_host();
  for (std::uint64_t b = 0; b < blocks; ++b) {
    const PhiloxBlock want = draw_block(0xdeadbeefcafeULL, Stream::kInput, first + b, 3);
    for (int w = 0; w < 4; ++w) ASSERT_EQ(h[4 * b + w], want.v[w]) << "block " << b;
  }
}

TEST_F(CudaRng, NormalsAgreeWithTheHostToAFewUlp) {
  const std::uint64_t blocks = 100000;
  DeviceBuffer<float> d(4 * blocks);
  normal_floats(99, Stream::kInput, 0, 0, blocks, d.data());
  const auto h = d.to_host();
  double worst = 0;
  for (std::uint64_t b = 0; b < blocks; ++b) {
    const Normal4f want = normal4f(draw_block(99, Stream::kInput, b, 0));
    for (int w = 0; w < 4; ++w) {
      // Absolute difference on values of order 1: FMA contraction changes the last bits of the
      // polynomial evaluations, not more.
      worst = std::max(worst, static_cast<double>(std::abs(h[4 * b + w] - want.z[w])));
    }
  }
  EXPECT_LT(worst, 1e-5);
}

}  // namespace
}  // namespace llcb::cuda
