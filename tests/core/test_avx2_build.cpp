// A build for AVX2 without AVX-512, as -march=native gives on such a CPU: this file is compiled
// with -march=x86-64-v3 (tests/core/CMakeLists.txt, where the build machine runs AVX2), so
// draw_blocks takes its AVX2 path, draw_normals' Box-Muller loop is vectorised for 8 lanes and
// LaneSums keeps its lanes in 32-byte vectors. They must give the bits that test_philox.cpp pins
// and the sums in the order lane_sums.hpp states (the checks of tests/support/ that the machine's
// own build runs too). Its own executable, linking no llcbench library, so that every inline
// function in it is this file's.
#include <gtest/gtest.h>

#include "lib/core/philox_blocks.hpp"
#include "tests/support/lane_sums_checks.hpp"
#include "tests/support/philox_checks.hpp"

#if defined(__AVX512F__) || !defined(__AVX2__)
#error "test_avx2_build.cpp must be compiled for AVX2 without AVX-512"
#endif

namespace llcb {
namespace {

TEST(PhiloxAvx2, TheNormalsKeepTheirBits) {
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(), philox_checks::kNormalsHash);
}

TEST(PhiloxAvx2, ManyBlocksAtOnceAreTheSameAsOneAtATime) {
  philox_checks::expect_many_blocks_as_one_at_a_time(draw_blocks);
}

TEST(LaneSumsAvx2, AddInTheDocumentedOrder) {
  for (std::int64_t n : {5, 16, 4096 + 13}) lane_sums_checks::expect_lanes_in_documented_order(n);
}

}  // namespace
}  // namespace llcb
