// A build for AVX2 without AVX-512, as -march=native gives on such a CPU and as the container
// images are built: this file is compiled with -march=x86-64-v3 (tests/core/CMakeLists.txt, where
// the build machine runs AVX2). Its own code (draw_blocks_avx2, the Box-Muller loop at 8 lanes,
// LaneSums in 32-byte vectors) and the AVX-512 paths it reaches through draw_path on a CPU that
// has AVX-512 must give the bits that test_philox.cpp pins and the sums in the order
// lane_sums.hpp states (the checks of tests/support/ that the machine's own build runs too). Its
// own executable, linking no llcbench library, so that every inline function in it is this
// file's.
#include <gtest/gtest.h>

#include "lib/core/philox_blocks.hpp"
#include "tests/support/lane_sums_checks.hpp"
#include "tests/support/philox_checks.hpp"

#if defined(__AVX512F__) || !defined(__AVX2__)
#error "test_avx2_build.cpp must be compiled for AVX2 without AVX-512"
#endif

namespace llcb {
namespace {

// Through whichever path draw_path takes on this CPU.
TEST(PhiloxAvx2, TheNormalsKeepTheirBits) {
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(), philox_checks::kNormalsHash);
  philox_checks::expect_normals_as_one_block_at_a_time(philox_checks::draw_normals_default);
}

TEST(PhiloxAvx2, ManyBlocksAtOnceAreTheSameAsOneAtATime) {
  philox_checks::expect_many_blocks_as_one_at_a_time(draw_blocks);
}

// The build's own AVX2 code, whatever the CPU has beyond it.
TEST(PhiloxAvx2, TheAvx2PathKeepsTheBits) {
  philox_checks::expect_many_blocks_as_one_at_a_time(draw_blocks_avx2);
  philox_checks::expect_normals_as_one_block_at_a_time(draw_normals_avx2);
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(draw_normals_avx2), philox_checks::kNormalsHash);
}

// One block at a time (LLCB_DRAWS=scalar), as this build compiles it.
TEST(PhiloxAvx2, TheScalarPathKeepsTheBits) {
  philox_checks::expect_normals_as_one_block_at_a_time(draw_normals_scalar);
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(draw_normals_scalar), philox_checks::kNormalsHash);
}

// A build without AVX-512 draws through the widest path the CPU runs (within LLCB_DRAWS's cap, if
// the environment sets one), AVX-512 where the CPU has it, with the same bits.
TEST(PhiloxAvx2, TheAvx512PathIsTakenWhereTheCpuHasItAndKeepsTheBits) {
  EXPECT_EQ(draw_path(), philox_checks::expected_draw_path());
  if (!philox_checks::cpu_runs_avx512()) GTEST_SKIP() << "this CPU has no AVX-512";
  philox_checks::expect_many_blocks_as_one_at_a_time(draw_blocks_avx512);
  philox_checks::expect_normals_as_one_block_at_a_time(draw_normals_avx512);
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(draw_normals_avx512), philox_checks::kNormalsHash);
}

TEST(LaneSumsAvx2, AddInTheDocumentedOrder) {
  for (std::int64_t n : {5, 16, 4096 + 13}) lane_sums_checks::expect_lanes_in_documented_order(n);
}

}  // namespace
}  // namespace llcb
