// The update pass run inside the backward pass's two sides (lib/backend/cpu/side_update.hpp):
// every chunk runs once, none before the gradients it reads are written, the early ones in the
// thread below, and the parameters and sums are the update pass's bit for bit; and the model calls
// its hook as DlnModel::SideHook promises.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "lib/backend/cpu/dln_model.hpp"
#include "lib/backend/cpu/side_update.hpp"
#include "lib/backend/cpu/update_pass.hpp"
#include "lib/backend/gradient_plan.hpp"
#include "lib/samplers/registry.hpp"
#include "tests/support/lane_sums_checks.hpp"
#include "tests/support/sgld_coeffs.hpp"

namespace llcb::backend::cpu {
namespace {

constexpr std::int64_t kChunks = 10;
constexpr std::int64_t kD = (kChunks - 1) * kLaneChunk + 333;  // the last chunk short
constexpr std::int64_t kBelow = 3 * kLaneChunk + 100;           // chunks 0 .. 2 wholly below

enum class Order { kAtOnce, kAtOnceBelowLate, kOneThread, kAboveFirst, kNoHook };

struct Outcome {
  std::vector<float> w;
  PassTotals totals;
  std::vector<int> runs, thread;  // by chunk: how often it ran, and in which thread
  bool early_reads = false;       // a chunk ran before a gradient it reads was written
  int team = 1;                   // the threads of the two-thread orders' region
};

// The update (SGLD, seed 11, step 4) of kD parameters through a SideUpdate, its two sides called
// in `order`; kAtOnce* on two threads, the side that comes late 20 ms after the other. With
// `handshake`, the thread above does not finish its first chunk until the thread below has run
// one of the chunks after the early ones.
Outcome side_update(Order order, bool handshake = false) {
  const std::vector<float> g = lane_sums_checks::values(kD, 1), w0 = lane_sums_checks::values(kD, 2);
  Outcome out;
  out.w = lane_sums_checks::values(kD);
  out.runs.assign(kChunks, 0);
  out.thread.assign(kChunks, -1);
  float* states[2] = {nullptr, nullptr};
  const auto update = update_chunks<samplers::SgldRule>(test_support::sgld_coeffs(1e-3), out.w.data(), g.data(),
                                                        w0.data(), states, 11, 4);
  std::atomic<bool> below_written{false}, above_written{false}, early_reads{false}, below_took_one{false};
  std::vector<std::atomic<int>> runs(kChunks);
  auto chunk = [&](std::int64_t begin, std::int64_t len, LaneSums<float, 4>& lanes) {
    const std::int64_t c = begin / kLaneChunk;
    runs[static_cast<std::size_t>(c)].fetch_add(1);
    const int me = omp_get_thread_num();
    out.thread[static_cast<std::size_t>(c)] = me;
    if (handshake && c >= 3) {
      // The thread below never waits for the other once it takes chunks, so this cannot hang.
      if (me == DlnModel::kBelowThread) below_took_one.store(true);
      if (me == DlnModel::kAboveThread) {
        while (!below_took_one.load()) std::this_thread::yield();
      }
    }
    if ((begin < kBelow && !below_written.load()) || (begin + len > kBelow && !above_written.load())) {
      early_reads.store(true);
    }
    update(begin, len, lanes);
  };
  SideUpdate split(kD, kBelow);
  EXPECT_EQ(split.early_chunks(), 3);
  const auto side = [&](int s, bool at_once) {
    (s == DlnModel::kBelowThread ? below_written : above_written).store(true);
    split.after_side(s, at_once, chunk);
  };
  switch (order) {
    case Order::kAtOnce:
    case Order::kAtOnceBelowLate: {
      const int late = order == Order::kAtOnce ? DlnModel::kAboveThread : DlnModel::kBelowThread;
#pragma omp parallel num_threads(2)
      {
        out.team = omp_get_num_threads();
        if (out.team == 2) {
          const int me = omp_get_thread_num();
          if (me == late) std::this_thread::sleep_for(std::chrono::milliseconds(20));
          side(me == 0 ? DlnModel::kBelowThread : DlnModel::kAboveThread, true);
        }
      }
      break;
    }
    case Order::kOneThread:
      side(DlnModel::kBelowThread, false);
      side(DlnModel::kAboveThread, false);
      break;
    case Order::kAboveFirst:  // not what the model does; finish() makes up for it
      side(DlnModel::kAboveThread, false);
      side(DlnModel::kBelowThread, false);
      break;
    case Order::kNoHook:
      below_written.store(true);
      above_written.store(true);
      break;
  }
  out.totals = split.finish(chunk);
  for (std::int64_t c = 0; c < kChunks; ++c) out.runs[static_cast<std::size_t>(c)] = runs[static_cast<std::size_t>(c)];
  out.early_reads = early_reads.load();
  return out;
}

TEST(SideUpdate, GivesTheUpdatePassBitsWhicheverThreadRunsEachChunk) {
  const std::vector<float> g = lane_sums_checks::values(kD, 1), w0 = lane_sums_checks::values(kD, 2);
  std::vector<float> want_w = lane_sums_checks::values(kD);
  float* states[2] = {nullptr, nullptr};
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const PassTotals want = update_pass<samplers::SgldRule>(test_support::sgld_coeffs(1e-3), want_w.data(), g.data(),
                                                          w0.data(), states, kD, 11, 4);
  omp_set_num_threads(saved);
  for (Order order : {Order::kAtOnce, Order::kAtOnceBelowLate, Order::kOneThread, Order::kAboveFirst, Order::kNoHook}) {
    const Outcome got = side_update(order);
    const int o = static_cast<int>(order);
    EXPECT_EQ(got.w, want_w) << o;
    EXPECT_EQ(got.totals.distance2, want.distance2) << o;
    EXPECT_EQ(got.totals.step.drift2, want.step.drift2) << o;
    EXPECT_EQ(got.totals.step.noise2, want.step.noise2) << o;
    EXPECT_EQ(got.runs, std::vector<int>(kChunks, 1)) << o;
    EXPECT_FALSE(got.early_reads) << o;
  }
}

// On two threads the thread below runs the early chunks, and the rest splits into a run from the
// cut's chunk up in the thread above and a run from the last chunk down in the thread below. Where
// the thread above is still in its first chunk, the thread below takes chunks from the end (the
// handshake makes sure it is, whichever side comes late).
TEST(SideUpdate, TheThreadBelowRunsTheEarlyChunksAndTakesTheRestFromTheEnd) {
  for (Order order : {Order::kAtOnce, Order::kAtOnceBelowLate}) {
    const Outcome got = side_update(order, true);
    if (got.team != 2) GTEST_SKIP() << "the runtime gave a team of " << got.team;
    const std::vector<int>& t = got.thread;
    ASSERT_EQ(t.size(), static_cast<std::size_t>(kChunks));
    for (std::int64_t c = 0; c < 3; ++c) EXPECT_EQ(t[static_cast<std::size_t>(c)], 0) << c;
    std::int64_t split = 3;  // the first of the thread below's chunks from the end
    while (split < kChunks && t[static_cast<std::size_t>(split)] == 1) ++split;
    for (std::int64_t c = split; c < kChunks; ++c) EXPECT_EQ(t[static_cast<std::size_t>(c)], 0) << c;
    EXPECT_EQ(t.back(), 0);
    EXPECT_EQ(got.runs, std::vector<int>(kChunks, 1));
  }
}

// The parameters below the cut: none at the input, all at the output.
TEST(SideUpdate, TheParametersBelowTheCut) {
  const std::vector<std::int64_t> widths = {60, 50, 40};
  EXPECT_EQ(DlnModel(widths, 200, 0, 0, true).below_cut(), 0);
  EXPECT_EQ(DlnModel(widths, 200, 0, 1, true).below_cut(), 60 * 50);
  EXPECT_EQ(DlnModel(widths, 200, 0, 2, true).below_cut(), 60 * 50 + 50 * 40);
  EXPECT_EQ(DlnModel(widths, 200, 0, -1, true).below_cut(), 0);
}

// The model calls the hook once for each side, in the thread that ran it, with that side's
// gradients already written: on two threads at once, on one thread below first. The hook below
// may overwrite the weights below the cut (here with NaN) while the side above still runs: no
// gradient changes.
TEST(SideUpdate, TheModelCallsTheHookOnceASideWithItsGradientsWritten) {
  const std::vector<std::int64_t> widths = {200, 180, 40, 160, 150};
  const std::int64_t batch = 200;
  ASSERT_EQ(gradient_cut(widths, batch, true), 2);
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    DlnModel model(widths, batch, 0, 2, true);
    ASSERT_EQ(model.sides_apart(threads), threads == 2);
    const std::int64_t below = model.below_cut();
    ASSERT_EQ(below, 200 * 180 + 180 * 40);
    const std::vector<float> w = lane_sums_checks::values(model.d());
    std::vector<float> overwritten = w;
    const std::vector<float> x = lane_sums_checks::values(batch * widths.front());
    const std::vector<float> y = lane_sums_checks::values(batch * widths.back() + 1);
    const auto inputs = [&] {
      std::copy(x.begin(), x.end(), model.inputs());
      std::copy(y.begin(), y.begin() + batch * widths.back(), model.targets());
    };
    std::vector<float> want(static_cast<std::size_t>(model.d()));
    inputs();
    const double want_loss = model.loss_and_gradient(w.data(), want.data());

    std::vector<float> grad(want.size(), 0.0f), seen(want.size(), 0.0f);
    std::vector<int> calls, in_thread;
    std::vector<bool> at_once;
    inputs();
    const double loss = model.loss_and_gradient(overwritten.data(), grad.data(), [&](int side, bool both) {
#pragma omp critical
      {
        calls.push_back(side);
        in_thread.push_back(omp_get_thread_num());
        at_once.push_back(both);
      }
      const bool is_below = side == DlnModel::kBelowThread;
      std::copy(grad.begin() + (is_below ? 0 : below), is_below ? grad.begin() + below : grad.end(),
                seen.begin() + (is_below ? 0 : below));
      if (is_below) std::fill(overwritten.begin(), overwritten.begin() + below, std::nanf(""));
    });
    EXPECT_EQ(loss, want_loss);
    EXPECT_EQ(grad, want);
    EXPECT_EQ(seen, want) << threads;  // each side's gradients as the hook found them
    ASSERT_EQ(calls.size(), 2u);
    if (threads == 1) {
      EXPECT_EQ(calls, (std::vector<int>{DlnModel::kBelowThread, DlnModel::kAboveThread}));
      EXPECT_EQ(at_once, (std::vector<bool>{false, false}));
    } else {
      EXPECT_EQ(calls[0] + calls[1], DlnModel::kBelowThread + DlnModel::kAboveThread);
      EXPECT_EQ(in_thread[0], calls[0]);
      EXPECT_EQ(in_thread[1], calls[1]);
      EXPECT_EQ(at_once, (std::vector<bool>{true, true}));
    }
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace llcb::backend::cpu
