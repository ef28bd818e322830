// Which thread runs each chunk of the update pass (lib/backend/cpu/chunk_owners.hpp): the one that
// wrote most of the chunk's gradient, evened out over the team; and whichever thread runs a chunk,
// the pass gives the same bits.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lib/backend/cpu/chunk_owners.hpp"
#include "lib/backend/cpu/dln_model.hpp"
#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/backend/cpu/update_pass.hpp"
#include "lib/backend/gradient_plan.hpp"
#include "lib/samplers/registry.hpp"
#include "tests/support/lane_sums_checks.hpp"
#include "tests/support/sgld_coeffs.hpp"

namespace llcb::backend::cpu {
namespace {

// Elements a thread runs, by owners.
std::vector<std::int64_t> loads(const std::vector<int>& owners, std::int64_t n, int team) {
  std::vector<std::int64_t> load(static_cast<std::size_t>(team), 0);
  for (std::size_t c = 0; c < owners.size(); ++c) {
    const auto begin = static_cast<std::int64_t>(c) * kLaneChunk;
    load[static_cast<std::size_t>(owners[c])] += std::min(n, begin + kLaneChunk) - begin;
  }
  return load;
}

// Four chunks: rows of a 4 x 4096 array, written by threads 0, 1, 1 and half by each (a tie).
TEST(ChunkOwners, EachChunkGoesToTheThreadThatWroteMostOfIt) {
  ChunkOwners owners(4 * kLaneChunk, 2);
  owners.add(0, kLaneChunk, {0, 1, 0, kLaneChunk, 0});
  owners.add(0, kLaneChunk, {1, 2, 0, kLaneChunk, 1});
  owners.add(0, kLaneChunk, {3, 1, 0, kLaneChunk / 2, 1});
  owners.add(0, kLaneChunk, {3, 1, kLaneChunk / 2, kLaneChunk / 2, 0});
  EXPECT_EQ(owners.owners(), (std::vector<int>{0, 1, 1, 0}));  // the tie to the lower thread
}

// Chunks no part wrote go by contiguous shares, as chunked_lane_sums would run them.
TEST(ChunkOwners, UnwrittenChunksGoByShares) {
  const std::int64_t n = 5 * kLaneChunk + 7;  // six chunks, the last short
  EXPECT_EQ(ChunkOwners(n, 2).owners(), (std::vector<int>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(ChunkOwners(n, 3).owners(), (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(ChunkOwners(n, 1).owners(), (std::vector<int>(6, 0)));
}

// A thread that wrote most chunks gives some up, until no move would shorten the busiest, and
// the chunks it gives up are those whose move crosses the fewest elements: here the two it wrote
// only 60% of, before any it wrote whole; among equals, one beside the idle thread's.
TEST(ChunkOwners, SharesAreEvenedOutCrossingTheFewestElements) {
  const int chunks = 10;
  ChunkOwners owners(chunks * kLaneChunk, 2);
  const std::int64_t most = kLaneChunk * 6 / 10;
  for (int c = 0; c < 8; ++c) owners.add(0, kLaneChunk, {c, 1, 0, kLaneChunk, 0});  // 0 .. 7 whole
  for (int c = 8; c < chunks; ++c) {  // 8 and 9: 60% by thread 0
    owners.add(0, kLaneChunk, {c, 1, 0, most, 0});
    owners.add(0, kLaneChunk, {c, 1, most, kLaneChunk - most, 1});
  }
  const std::vector<int> got = owners.owners();
  EXPECT_EQ(loads(got, chunks * kLaneChunk, 2), (std::vector<std::int64_t>{5 * kLaneChunk, 5 * kLaneChunk}));
  EXPECT_EQ(got, (std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));  // 8, 9, then 7, 6, 5
}

// The update pass of a 100K step (through the narrowest width: cut 2, r = 50; the batch in
// halves) runs nearly every element's chunk on the thread that wrote its gradient, and every
// thread runs as many chunks as the others but one. The writers, from the products that write the
// gradient (cut_pass.hpp): on two threads the sides of the cut run apart, layers 0 and 1 (below)
// in one thread and 2 and 3 (above) in the other; on three, each product is spread over the team
// (dln::gemm_parts: the layers' rows, one layer's columns). Contiguous shares of the chunks, which
// chunked_lane_sums takes without owners, run far more of them elsewhere.
TEST(ChunkOwners, TheUpdatePassFollowsTheGradientsWriters) {
  const std::vector<std::int64_t> widths = {391, 392, 50, 438, 448};
  const std::int64_t batch = 500, r = 50;
  ASSERT_EQ(gradient_cut(widths, batch, true), 2);
  DlnModel model(widths, batch, 0, 2, true);
  ASSERT_TRUE(model.sides_apart(2));
  const std::int64_t d = model.d();
  std::vector<float> grad(static_cast<std::size_t>(d));
  for (int team : {2, 3}) {
    std::vector<int> writer(static_cast<std::size_t>(d), -1);
    const auto mark = [&](std::size_t layer, std::int64_t m, std::int64_t n, std::int64_t k) {
      for (dln::GemmPart p : dln::gemm_parts(dln::GemmCut::kRowsOrColumns, m, n, k, team == 2 ? 1 : team)) {
        if (team == 2) p.thread = layer < 2 ? DlnModel::kBelowThread : DlnModel::kAboveThread;
        for (std::int64_t i = p.row; i < p.row + p.rows; ++i) {
          for (std::int64_t j = p.col; j < p.col + p.cols; ++j) {
            writer[static_cast<std::size_t>(model.offset(layer) + i * n + j)] = p.thread;
          }
        }
      }
    };
    mark(3, 448, 438, r);  // Y_3 Z_3^T
    mark(2, 438, r, 448);  // W_3^T Y_3
    mark(0, 392, 391, r);  // U_1^T V_0
    mark(1, r, 392, 391);  // V_0 W_0^T, by columns
    ASSERT_TRUE(std::none_of(writer.begin(), writer.end(), [](int t) { return t < 0; }));

    const std::vector<int> owners = model.update_owners(grad.data(), team);
    ASSERT_EQ(static_cast<std::int64_t>(owners.size()), (d + kLaneChunk - 1) / kLaneChunk);
    const std::vector<std::int64_t> load = loads(owners, d, team);
    const auto [least, most] = std::minmax_element(load.begin(), load.end());
    EXPECT_LE(*most - *least, kLaneChunk) << team;
    const auto away = [&](const std::vector<int>& run_by) {  // the share of elements run elsewhere
      std::int64_t n = 0;
      for (std::int64_t e = 0; e < d; ++e) {
        n += run_by[static_cast<std::size_t>(e / kLaneChunk)] != writer[static_cast<std::size_t>(e)];
      }
      return static_cast<double>(n) / static_cast<double>(d);
    };
    std::vector<int> shares(owners.size());
    for (std::size_t c = 0; c < shares.size(); ++c) {
      while (share_begin(static_cast<std::int64_t>(shares.size()), shares[c] + 1, team) <= static_cast<std::int64_t>(c)) ++shares[c];
    }
    // Run elsewhere, on two threads: what evening out moves from the side above the cut (218,000
    // parameters) to the one below (173,000), about 22,500 (5.8%), and chunks across the cut. On
    // three: chunks that straddle a block boundary or the layer written by columns, and what
    // evening out moves (8% in all); its shares run 60% elsewhere.
    EXPECT_LT(away(owners), team == 2 ? 0.07 : 0.12) << team;
    if (team == 3) {
      EXPECT_GT(away(shares), 0.4);
    }
  }
}

// Whichever thread runs which chunk, the update pass gives the same parameters and sums, bit for
// bit, as on one thread: owners from the model, a random map, all on one thread; 2 and 3 threads
// (a map made for two, used by a team of three, runs chunk c on owners[c] % 3). The chunks also
// run where the map says.
TEST(ChunkOwners, OwnersNeverChangeABit) {
  const std::int64_t d = 9 * kLaneChunk + 333;
  const std::vector<float> w_start = lane_sums_checks::values(d), g = lane_sums_checks::values(d, 1),
                           w0 = lane_sums_checks::values(d, 2);
  const auto k = test_support::sgld_coeffs(1e-3);
  float* states[2] = {nullptr, nullptr};
  const int saved = omp_get_max_threads();
  const auto pass = [&](int threads, const std::vector<int>& owners, std::vector<float>& w) {
    omp_set_num_threads(threads);
    w = w_start;
    return update_pass<samplers::SgldRule>(k, w.data(), g.data(), w0.data(), states, d, 11, 4, owners);
  };
  std::vector<float> want_w;
  const PassTotals want = pass(1, {}, want_w);
  const std::int64_t chunks = (d + kLaneChunk - 1) / kLaneChunk;
  std::vector<int> random(static_cast<std::size_t>(chunks));
  for (std::size_t i = 0; i < random.size(); ++i) random[i] = static_cast<int>((i * 7 + 3) % 5);
  for (int threads : {2, 3}) {
    for (const std::vector<int>& owners : {std::vector<int>{}, random, std::vector<int>(random.size(), 1)}) {
      std::vector<float> w;
      const PassTotals got = pass(threads, owners, w);
      EXPECT_EQ(w, want_w) << threads;
      EXPECT_EQ(got.distance2, want.distance2) << threads;
      EXPECT_EQ(got.step.drift2, want.step.drift2) << threads;
      EXPECT_EQ(got.step.noise2, want.step.noise2) << threads;
    }
  }
  // Where the chunks ran: chunk c on thread owners[c] % team.
  omp_set_num_threads(3);
  std::vector<int> ran(static_cast<std::size_t>(chunks), -1), team(ran.size(), 0);
  chunked_lane_sums<float, 1>(
      d,
      [&](std::int64_t begin, std::int64_t, LaneSums<float, 1>&) {
        ran[static_cast<std::size_t>(begin / kLaneChunk)] = omp_get_thread_num();
        team[static_cast<std::size_t>(begin / kLaneChunk)] = omp_get_num_threads();
      },
      random);
  for (std::size_t i = 0; i < ran.size(); ++i) EXPECT_EQ(ran[i], random[i] % team[i]) << i;
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace llcb::backend::cpu
