// Philox4x32 against the known-answer vectors published with Random123 (kat_vectors):
// counter (4 words), key (2 words) -> output (4 words).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "lib/core/philox.hpp"
#include "lib/core/philox_blocks.hpp"
#include "tests/support/philox_checks.hpp"

namespace llcb {
namespace {

struct Kat {
  PhiloxCounter c;
  PhiloxKey k;
  PhiloxBlock out;
};

void expect_block(const PhiloxBlock& got, const PhiloxBlock& want) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got.v[i], want.v[i]) << "word " << i;
}

TEST(Philox, Random123KnownAnswers10Rounds) {
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, {{0, 0}}, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       {{0xffffffff, 0xffffffff}},
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       {{0xa4093822, 0x299f31d0}},
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const auto& kat : kats) expect_block(philox4x32_10(kat.c, kat.k), kat.out);
}

TEST(Philox, Random123KnownAnswer7Rounds) {
  // The round count is a template parameter; the 7-round vector checks the key schedule.
  expect_block(philox4x32<7>({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
                             {{0xa4093822, 0x299f31d0}}),
               {{0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}});
}

TEST(Philox, IsAPureFunctionAndSensitiveToEveryInputWord) {
  const PhiloxCounter c{{1, 2, 3, 4}};
  const PhiloxKey k{{5, 6}};
  const PhiloxBlock base = philox4x32_10(c, k);
  expect_block(philox4x32_10(c, k), base);
  for (int i = 0; i < 4; ++i) {
    PhiloxCounter c2 = c;
    c2.v[i] ^= 1u;
    const PhiloxBlock b = philox4x32_10(c2, k);
    int differing = 0;
    for (int w = 0; w < 4; ++w) differing += b.v[w] != base.v[w];
    EXPECT_EQ(differing, 4) << "counter word " << i;
  }
  for (int i = 0; i < 2; ++i) {
    PhiloxKey k2 = k;
    k2.v[i] ^= 1u;
    const PhiloxBlock b = philox4x32_10(c, k2);
    int differing = 0;
    for (int w = 0; w < 4; ++w) differing += b.v[w] != base.v[w];
    EXPECT_EQ(differing, 4) << "key word " << i;
  }
}

}  // namespace
}  // namespace llcb

namespace llcb {
namespace {

// The build's own path: the 32-block groups, the 16-block groups and the masked last group with
// AVX-512; the 8-block groups and the scalar rest with AVX2 alone; the scalar loop otherwise.
TEST(Philox, ManyBlocksAtOnceAreTheSameAsOneAtATime) { philox_checks::expect_many_blocks_as_one_at_a_time(draw_blocks); }

// The AVX2 path's algorithm, on any CPU that has AVX2 (in a build for AVX-512, which never takes
// it, compiled with AVX-512 available: test_avx2_build.cpp runs it as AVX2 code alone).
TEST(Philox, ManyBlocksAtOnceThroughAvx2AreTheSameAsOneAtATime) {
#if defined(LLCB_PHILOX_X86)
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  philox_checks::expect_many_blocks_as_one_at_a_time(draw_blocks_avx2);
  philox_checks::expect_normals_as_one_block_at_a_time(draw_normals_avx2);
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(draw_normals_avx2), philox_checks::kNormalsHash);
#else
  GTEST_SKIP() << "not an x86 build";
#endif
}

// An AVX-512 build takes its own AVX-512 path whatever LLCB_DRAWS says; any other the widest the
// CPU runs within the cap (test_avx2_build.cpp checks that in a build for AVX2).
TEST(Philox, DrawsTakeTheWidestPathTheCpuRuns) {
#if defined(__AVX512F__) && defined(LLCB_PHILOX_X86)
  EXPECT_EQ(draw_path(), DrawPath::kAvx512);
#else
  EXPECT_EQ(draw_path(), philox_checks::expected_draw_path());
#endif
}

// One block at a time, the path of CPUs without AVX2 (and of LLCB_DRAWS=scalar).
TEST(Philox, TheScalarPathKeepsTheBits) {
  philox_checks::expect_normals_as_one_block_at_a_time(draw_normals_scalar);
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(draw_normals_scalar), philox_checks::kNormalsHash);
}

// draw_normals gives normal4f's bits of each block, in block order, and writes nothing past them.
TEST(Philox, ManyNormalsAtOnceAreTheSameAsOneBlockAtATime) {
  philox_checks::expect_normals_as_one_block_at_a_time(philox_checks::draw_normals_default);
}

// The noise's bits, pinned (philox_checks::kNormalsHash): through normal4f one block at a time,
// and through draw_normals many at once.
TEST(Philox, TheNormalsKeepTheirBits) {
  std::uint64_t one = 0xcbf29ce484222325ull;
  for (std::uint32_t j = 0; j < philox_checks::kHashedBlocks; ++j) {
    for (float z : normal4f(draw_block(0x5eed, Stream::kLangevin, 3, j)).z) philox_checks::fnv_add(one, z);
  }
  EXPECT_EQ(one, philox_checks::kNormalsHash);
  EXPECT_EQ(philox_checks::normals_hash_many_at_once(), philox_checks::kNormalsHash);
}

}  // namespace
}  // namespace llcb
