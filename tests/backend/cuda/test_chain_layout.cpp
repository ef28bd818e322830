// The device layout of a batch of chains (lib/backend/cuda/chain_layout.hpp), checked on the host:
// every chain's blocks and every layer in them start 256-byte aligned, so a chain's pointers have
// the same alignment in every slot of a batch (cuBLAS picks kernels partly by alignment), and the
// map from the flat parameter index (which addresses the noise) is one to one. Runs without a GPU.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "lib/backend/cuda/chain_layout.hpp"

namespace llcb::cuda {
namespace {

// Odd widths, so d (391*392 + 392*51 + 51*437 = 195,631) and rows * H are odd: the case where an
// unpadded chain-major layout shifts every chain's alignment by its slot.
const std::vector<std::int64_t> kWidths = {391, 392, 51, 437};
constexpr std::int64_t kRows = 499;

TEST(ChainLayout, EveryChainBlockStartsOnA256ByteBoundary) {
  const ChainLayout L(kWidths, kRows);
  EXPECT_EQ(L.d, 391 * 392 + 392 * 51 + 51 * 437);
  ASSERT_EQ(L.logical, (std::vector<std::int64_t>{0, 391 * 392, 391 * 392 + 392 * 51}));
  ASSERT_EQ(L.sizes, (std::vector<std::int64_t>{391 * 392, 392 * 51, 51 * 437}));
  ASSERT_EQ(L.physical.size(), 3u);
  EXPECT_EQ(L.physical[0], 0);
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(L.physical[s] % ChainLayout::kAlign, 0) << "layer " << s;
    const std::int64_t end = s + 1 < 3 ? L.physical[s + 1] : L.params;
    EXPECT_GE(end - L.physical[s], L.sizes[s]) << "layer " << s;          // room for the layer
    EXPECT_LT(end - L.physical[s], L.sizes[s] + ChainLayout::kAlign);     // and no more than its padding
  }
  ASSERT_EQ(L.acts.size(), kWidths.size());
  EXPECT_GE(L.params, L.d);
  EXPECT_LT(L.params, L.d + 3 * ChainLayout::kAlign);
  for (std::size_t s = 0; s < kWidths.size(); ++s) {
    EXPECT_GE(L.acts[s], kRows * kWidths[s]);
    EXPECT_LT(L.acts[s], kRows * kWidths[s] + ChainLayout::kAlign);
  }
  EXPECT_EQ(L.targets, L.acts.back());
  EXPECT_GE(L.grads, kRows * 437);
  for (const std::int64_t stride : {L.params, L.targets, L.grads, L.acts[0], L.acts[1], L.acts[2], L.acts[3]}) {
    EXPECT_EQ(stride % ChainLayout::kAlign, 0) << stride;
  }
}

// What cuBLAS sees of chain k: the float offset of each GEMM operand from its buffer's start.
// Alignment mod 64 floats (256 bytes) must be the same for every slot k.
TEST(ChainLayout, AChainsOperandsHaveTheSameAlignmentInEverySlot) {
  const ChainLayout L(kWidths, kRows);
  for (std::int64_t k = 1; k < 9; ++k) {
    for (std::size_t s = 0; s < L.physical.size(); ++s) {
      EXPECT_EQ((k * L.params + L.physical[s]) % ChainLayout::kAlign, 0) << "slot " << k << ", layer " << s;
    }
    for (std::size_t s = 0; s < L.acts.size(); ++s) EXPECT_EQ(k * L.acts[s] % ChainLayout::kAlign, 0);
    EXPECT_EQ(k * L.grads % ChainLayout::kAlign, 0);
  }
  // The layout this replaces (flat, chain k at k * d): slot 1's layers sit at another alignment.
  EXPECT_NE((L.d + L.logical[0]) % 4, L.logical[0] % 4);
}

// Every flat index lands in its own place inside its layer's aligned block, in order.
TEST(ChainLayout, TheFlatIndexMapsOneToOneIntoTheLayers) {
  const ChainLayout L({5, 7, 3, 9}, 2);  // layers of 35, 21 and 27 parameters
  std::int64_t previous = -1;
  for (std::int64_t e = 0; e < L.d; ++e) {
    const std::int64_t p = L.physical_index(e);
    EXPECT_GT(p, previous) << e;
    EXPECT_LT(p, L.params) << e;
    previous = p;
  }
  EXPECT_EQ(L.physical_index(0), 0);
  EXPECT_EQ(L.physical_index(34), 34);
  EXPECT_EQ(L.logical[1] % 4, 3);        // flat, layer 1 would sit 12 bytes off a 16-byte boundary
  EXPECT_EQ(L.physical_index(35), 64);   // here it starts on the next 256-byte boundary
  EXPECT_EQ(L.physical_index(56), 128);  // layer 2
  EXPECT_EQ(L.params, 192);
}

TEST(ChainLayout, SmallAndChainGroupShapesArePaddedToo) {
  const ChainLayout tiny({10, 10, 2}, 1);  // d = 100 + 20, one row (a chain group's smallest share)
  EXPECT_EQ(tiny.d, 120);
  EXPECT_EQ(tiny.physical, (std::vector<std::int64_t>{0, 128}));
  EXPECT_EQ(tiny.params, 192);
  EXPECT_EQ(tiny.acts, (std::vector<std::int64_t>{64, 64, 64}));
  EXPECT_EQ(tiny.grads, 64);
  const ChainLayout exact({8, 8}, 8);  // already aligned: no padding added
  EXPECT_EQ(exact.params, 64);
  EXPECT_EQ(exact.acts, (std::vector<std::int64_t>{64, 64}));
}

}  // namespace
}  // namespace llcb::cuda
