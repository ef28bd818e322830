// Chains on the CPU backend: determinism (repeat, thread count, chain seed), divergence handling,
// validation of chain specifications, and the target-noise setting.
#include <gtest/gtest.h>

#include <cmath>

#include "lib/backend/backend.hpp"
#include "lib/backend/cpu/cpu_backend.hpp"
#include "lib/backend/cpu/dln_model.hpp"
#include "lib/core/error.hpp"

namespace llcb::backend {
namespace {

// d = 60*50 + 50*40 = 5000 parameters and 200 * 40 outputs: both above the 4096-element chunk,
// so the chunked reductions really split work between threads.
dln::Problem medium_problem() { return dln::problem_from_architecture({60, 50, 40}, 5, 3, 100'000); }

ChainSpec spec(samplers::SamplerKind kind, double step, std::int64_t steps) {
  ChainSpec s;
  s.sampler.kind = kind;
  s.sampler.step_size = step;
  s.sampler.nbeta = 100'000 / std::log(100'000.0);
  s.steps = steps;
  s.burn_in = steps / 2;
  s.batch_size = 200;
  return s;
}

estimator::ChainResult run_one(int threads, const dln::Problem& p, const ChainSpec& s,
                               DataSpec data = {}) {
  CpuBackend be(threads);
  return be.run(p, data, std::span(&s, 1)).front();
}

TEST(CpuChains, SameJobGivesTheSameTraceBitForBitWhateverTheThreadCount) {
  const dln::Problem p = medium_problem();
  for (auto kind : {samplers::SamplerKind::kSgld, samplers::SamplerKind::kAdamSgld,
                    samplers::SamplerKind::kSgnht}) {
    const ChainSpec s = spec(kind, kind == samplers::SamplerKind::kSgld ? 1e-7 : 1e-9, 200);
    const auto a = run_one(1, p, s);
    const auto b = run_one(1, p, s);
    const auto c = run_one(2, p, s);
    ASSERT_EQ(a.loss_trace.size(), 200u);
    EXPECT_EQ(a.loss_trace, b.loss_trace);
    EXPECT_EQ(a.loss_trace, c.loss_trace) << "1 vs 2 threads";
    EXPECT_EQ(a.distance_trace, c.distance_trace);
    EXPECT_EQ(a.lambda_hat, c.lambda_hat);
    EXPECT_FALSE(a.diverged);
  }
}

TEST(CpuChains, DifferentChainSeedsGiveDifferentTraces) {
  const dln::Problem p = medium_problem();
  ChainSpec s = spec(samplers::SamplerKind::kSgld, 1e-7, 50);
  const auto a = run_one(2, p, s);
  s.chain_seed = 2;
  const auto b = run_one(2, p, s);
  int equal = 0;
  for (std::size_t t = 1; t < a.loss_trace.size(); ++t) equal += a.loss_trace[t] == b.loss_trace[t];
  EXPECT_EQ(equal, 0);
}

TEST(CpuChains, FirstLossIsAtTheTeacherAndIsZeroWithoutNoise) {
  const auto r = run_one(2, medium_problem(), spec(samplers::SamplerKind::kSgld, 1e-7, 3));
  // w_0 = w*: the student reproduces the targets up to fp32 rounding of the two evaluation orders.
  EXPECT_LT(r.loss_trace[0], 1e-9);
  EXPECT_GT(r.loss_trace[1], r.loss_trace[0]);
}

TEST(CpuChains, AbsurdStepSizeDivergesCleanly) {
  const dln::Problem p = medium_problem();
  for (auto kind : {samplers::SamplerKind::kSgld, samplers::SamplerKind::kRmspropSgld,
                    samplers::SamplerKind::kSghmc}) {
    const auto r = run_one(2, p, spec(kind, 1.0, 1000));
    EXPECT_TRUE(r.diverged);
    EXPECT_TRUE(std::isnan(r.lambda_hat));
    EXPECT_NE(r.reason, estimator::Divergence::kNone);
    EXPECT_GE(r.divergence_step, 0);
    EXPECT_LT(r.divergence_step, 1000);  // stopped at once, not run to the end
    EXPECT_EQ(r.steps_run, r.divergence_step);
    EXPECT_TRUE(std::isfinite(r.last_finite_loss));
  }
}

TEST(CpuChains, BothMinibatchModesRun) {
  const dln::Problem p = medium_problem();
  ChainSpec s = spec(samplers::SamplerKind::kSgld, 1e-7, 100);
  s.sampling = dln::Sampling::kWithReplacement;
  const auto a = run_one(2, p, s);
  s.sampling = dln::Sampling::kWithoutReplacement;
  const auto b = run_one(2, p, s);
  EXPECT_FALSE(a.diverged);
  EXPECT_NE(a.loss_trace[5], b.loss_trace[5]);
}

TEST(CpuChains, InvalidSpecsAreUsageErrors) {
  const dln::Problem p = medium_problem();
  CpuBackend be(1);
  ChainSpec s = spec(samplers::SamplerKind::kSgld, 1e-7, 100);
  s.burn_in = 100;
  EXPECT_THROW(be.run(p, {}, std::span(&s, 1)), UsageError);
  s = spec(samplers::SamplerKind::kSgld, 1e-7, 100);
  s.batch_size = p.n + 1;
  EXPECT_THROW(be.run(p, {}, std::span(&s, 1)), UsageError);
  s = spec(samplers::SamplerKind::kSgld, -1e-7, 100);
  EXPECT_THROW(be.run(p, {}, std::span(&s, 1)), UsageError);
  s = spec(samplers::SamplerKind::kSgld, 1e-7, 0);
  EXPECT_THROW(be.run(p, {}, std::span(&s, 1)), UsageError);
  EXPECT_THROW(make_backend({"gpu-of-dreams", 0}), UsageError);
}

TEST(CpuChains, TargetNoiseSetsTheLossAtTheTeacher) {
  dln::Problem p = dln::problem_from_architecture({6, 4, 5}, 2, 1, 20'000);
  const double l0 = loss_at_teacher(p, DataSpec{0.5});
  // Mean of 100000 squared N(0, 0.25) draws: 0.25 with relative sd sqrt(2/100000) = 0.45%.
  EXPECT_NEAR(l0, 0.25, 0.25 * 5 * 0.0045);
  EXPECT_EQ(loss_at_teacher(p, DataSpec{0.0}), 0.0);
  ChainSpec s = spec(samplers::SamplerKind::kSgld, 1e-7, 50);
  s.sampler.nbeta = 20'000 / std::log(20'000.0);
  const auto r = run_one(2, p, s, DataSpec{0.5});
  EXPECT_FALSE(r.diverged);
  EXPECT_NEAR(r.loss_trace[0], 0.25, 0.05);  // minibatch of 200 * 5 noisy targets at w*
}

// One backend keeps the last problem's teacher between run() calls (PreparedProblem); a change of
// problem or of target noise must be noticed, not served from the cache.
TEST(CpuChains, AReusedBackendPreparesANewProblemOrNoiseSetting) {
  const dln::Problem a = dln::problem_from_architecture({6, 4, 5}, 2, 1, 20'000);
  const dln::Problem b = medium_problem();
  ChainSpec s = spec(samplers::SamplerKind::kSgld, 1e-7, 20);
  s.sampler.nbeta = 20'000 / std::log(20'000.0);
  CpuBackend be(2);
  const auto run = [&](const dln::Problem& p, double sigma) {
    return be.run(p, DataSpec{sigma}, std::span(&s, 1)).front();
  };
  const auto quiet = run(a, 0.0);
  const auto noisy = run(a, 0.5);
  const auto other = run(b, 0.0);
  const auto again = run(a, 0.0);
  EXPECT_LT(quiet.loss_trace[0], 1e-9);
  EXPECT_NEAR(noisy.loss_trace[0], 0.25, 0.05);  // the noise setting changed: targets are noisy
  EXPECT_EQ(other.loss_trace, run_one(2, b, s).loss_trace);  // a fresh backend agrees
  EXPECT_EQ(again.loss_trace, quiet.loss_trace);
}

TEST(CpuChains, AReusedBackendPreparesANewTeacherMode) {
  // Same widths, rank and seed; the minimal teacher also cuts layer 1 to rank 2.
  const dln::Problem first = dln::problem_from_architecture({6, 4, 5}, 2, 1, 20'000);
  const dln::Problem minimal =
      dln::problem_from_architecture({6, 4, 5}, 2, 1, 20'000, dln::TeacherMode::kMinimal);
  ChainSpec s = spec(samplers::SamplerKind::kSgld, 1e-7, 20);
  s.sampler.nbeta = 20'000 / std::log(20'000.0);
  CpuBackend be(2);
  const auto a = be.run(first, DataSpec{}, std::span(&s, 1)).front();
  const auto b = be.run(minimal, DataSpec{}, std::span(&s, 1)).front();
  EXPECT_EQ(b.loss_trace, run_one(2, minimal, s).loss_trace);  // a fresh backend agrees
  EXPECT_NE(a.loss_trace, b.loss_trace);
}

TEST(CpuChains, FlopsPerStepFollowsTheDocumentedFormula) {
  const dln::Problem p = dln::problem_from_architecture({4, 3, 2}, 1, 1, 1000);
  // d = 18; B = 10: 2dB + 2dB + 2B(d - 12) + 2B * 4 * 2 = 360 + 360 + 120 + 160
  EXPECT_DOUBLE_EQ(flops_per_step(p, 10), 1000.0);
  // Through the output (cut 2, r = 2): the batch through Bp (2 B r H_1 = 160) and out of it
  // (T = D^T X, 160), U_0 = W_1 W_0 (2 r 3 4 = 48), V_1 = V_0 W_0^T (48), dL/dW_0 (48); targets 160.
  EXPECT_DOUBLE_EQ(flops_per_step(p, 10, 0, 2), 624.0);
}

// Through the narrowest width (chain.gradient = narrowest) on a network cut inside, with GEMMs
// large enough to be split over threads: the trace does not depend on the thread count, and it
// follows the layer-by-layer trace to fp32 rounding (1e-4 relative over 200 steps: the two
// differ by about 1e-6 a step; a wrong gradient is off by order 1 within a few steps).
TEST(CpuChains, TheNarrowestWidthPathIsThreadCountFreeAndFollowsTheLayers) {
  const dln::Problem p = dln::problem_from_architecture({200, 40, 180, 150}, 20, 4, 100'000);
  ASSERT_EQ(gradient_cut(p.widths, 200, true), 1);
  DataSpec narrowest;
  narrowest.narrowest_gradient = true;
  for (auto kind : {samplers::SamplerKind::kSgld, samplers::SamplerKind::kSgnht}) {
    const ChainSpec s = spec(kind, kind == samplers::SamplerKind::kSgld ? 1e-7 : 1e-9, 200);
    const auto a = run_one(1, p, s, narrowest);
    const auto b = run_one(2, p, s, narrowest);
    const auto layered = run_one(2, p, s);
    EXPECT_EQ(a.loss_trace, b.loss_trace) << "1 vs 2 threads";
    EXPECT_EQ(a.distance_trace, b.distance_trace);
    EXPECT_NE(a.loss_trace, layered.loss_trace);  // two data paths (which is why stores record it)
    ASSERT_EQ(a.loss_trace.size(), layered.loss_trace.size());
    for (std::size_t t = 0; t < a.loss_trace.size(); ++t) {
      EXPECT_NEAR(a.loss_trace[t], layered.loss_trace[t], 1e-4 * std::abs(layered.loss_trace[t]) + 1e-12) << t;
    }
    EXPECT_FALSE(a.diverged);
  }
}

// Sums over the batch in halves (chain.batch_sums = halves), through a cut and layer by layer,
// with a batch of 200 (halves of 128 and 72 rows) and GEMMs large enough to be split over
// threads: the trace is the same on 1, 2 and 3 threads (one thread doing both halves, one a
// half, an odd team), and it follows the whole sum's trace to fp32 rounding (the same 1e-4 as
// above: they differ in the order of additions of two sums a step).
TEST(CpuChains, SumsOverTheBatchInHalvesAreThreadCountFreeAndFollowTheWholeSum) {
  const dln::Problem p = dln::problem_from_architecture({200, 40, 180, 150}, 20, 4, 100'000);
  for (bool narrowest : {true, false}) {
    DataSpec halves, whole;
    halves.narrowest_gradient = whole.narrowest_gradient = narrowest;
    halves.batch_halves = true;
    const ChainSpec s = spec(samplers::SamplerKind::kSgld, 1e-7, 200);
    const auto a = run_one(1, p, s, halves);
    const auto b = run_one(2, p, s, halves);
    const auto c = run_one(3, p, s, halves);
    const auto w = run_one(2, p, s, whole);
    EXPECT_EQ(a.loss_trace, b.loss_trace) << "1 vs 2 threads, narrowest " << narrowest;
    EXPECT_EQ(a.loss_trace, c.loss_trace) << "1 vs 3 threads, narrowest " << narrowest;
    EXPECT_EQ(a.distance_trace, b.distance_trace);
    EXPECT_EQ(a.distance_trace, c.distance_trace);
    EXPECT_NE(a.loss_trace, w.loss_trace);  // two data paths (which is why stores record it)
    ASSERT_EQ(a.loss_trace.size(), w.loss_trace.size());
    for (std::size_t t = 0; t < a.loss_trace.size(); ++t) {
      EXPECT_NEAR(a.loss_trace[t], w.loss_trace[t], 1e-4 * std::abs(w.loss_trace[t]) + 1e-12) << t;
    }
    EXPECT_FALSE(a.diverged);
  }
}

// The sides of the cut run apart on two threads only, and only where that is about as balanced as
// spreading each product over both (at most 10% more flops on the busier side): on 100K (below
// the cut 46 MFLOP of weight-sized products, above 59, against 57 for the busier thread when each
// is spread in blocks 3:4), not on 1M (371 below, 797 above, against 650 spread).
TEST(CpuChains, TheSidesOfTheCutRunApartWhereTheyBalance) {
  const cpu::DlnModel small({391, 392, 50, 438, 448}, 500, 0, 2, true);
  EXPECT_TRUE(small.sides_apart(2));
  EXPECT_FALSE(small.sides_apart(1));
  EXPECT_FALSE(small.sides_apart(3));
  const cpu::DlnModel large({781, 784, 101, 875, 896, 317, 778}, 500, 0, 2, true);
  EXPECT_FALSE(large.sides_apart(2));
  const cpu::DlnModel layered({391, 392, 50, 438, 448}, 500, 0, -1, true);  // no cut, no sides
  EXPECT_FALSE(layered.sides_apart(2));
}

// Through a cut with layers on both sides (two below, two above, each side's products in blocks
// split over the threads): on two threads the products below the cut run in one thread and those
// above it in the other, at once, each side's sum over the batch is added up in its thread, and
// the update runs in the two sides (side_update.hpp); on one and three threads they run one after
// the other. The trace is the same bit for bit on 1, 2 and 3 threads, summing the batch in halves
// or whole, with rules of no, one and two state arrays and SGNHT, whose coefficients follow the
// chain's scalars.
TEST(CpuChains, TheSidesOfTheCutRunApartOnTwoThreadsWithTheSameBits) {
  const dln::Problem p = dln::problem_from_architecture({200, 180, 40, 160, 150}, 20, 4, 100'000);
  ASSERT_EQ(gradient_cut(p.widths, 200, true), 2);
  ASSERT_TRUE(cpu::DlnModel(p.widths, 200, 0, 2, true).sides_apart(2));
  for (bool halves : {true, false}) {
    DataSpec data;
    data.narrowest_gradient = true;
    data.batch_halves = halves;
    for (auto kind : {samplers::SamplerKind::kSgld, samplers::SamplerKind::kAdamSgld, samplers::SamplerKind::kSgnht,
                      samplers::SamplerKind::kSghmc}) {
      const ChainSpec s = spec(kind, kind == samplers::SamplerKind::kAdamSgld ? 1e-9 : 1e-7, 100);
      const auto a = run_one(1, p, s, data);
      const auto b = run_one(2, p, s, data);
      const auto c = run_one(3, p, s, data);
      ASSERT_EQ(a.loss_trace.size(), 100u);
      EXPECT_EQ(a.loss_trace, b.loss_trace) << "1 vs 2 threads, halves " << halves;
      EXPECT_EQ(a.loss_trace, c.loss_trace) << "1 vs 3 threads, halves " << halves;
      EXPECT_EQ(a.distance_trace, b.distance_trace);
      EXPECT_EQ(a.distance_trace, c.distance_trace);
      EXPECT_FALSE(a.diverged);
    }
  }
}

// Cuts at the ends: a two-layer network narrower at its output is cut there (every layer below
// the cut), one narrower at its input at the input (every layer above). Small products all go to
// one thread, so the sides balance and run apart on two threads, the update in them; the traces
// are those of one thread.
TEST(CpuChains, CutsAtTheEndsGiveTheSameBitsOnTwoThreads) {
  DataSpec data;
  data.narrowest_gradient = true;
  data.batch_halves = true;
  for (const auto& [widths, cut] : {std::pair{std::vector<std::int64_t>{60, 50, 40}, std::int64_t{2}},
                                    std::pair{std::vector<std::int64_t>{40, 50, 60}, std::int64_t{0}}}) {
    const dln::Problem p = dln::problem_from_architecture(widths, 20, 4, 100'000);
    ASSERT_EQ(gradient_cut(p.widths, 200, true), cut);
    ASSERT_TRUE(cpu::DlnModel(p.widths, 200, 0, cut, true).sides_apart(2)) << cut;
    for (auto kind : {samplers::SamplerKind::kSgld, samplers::SamplerKind::kSgnht}) {
      const ChainSpec s = spec(kind, 1e-6, 60);
      const auto a = run_one(1, p, s, data);
      const auto b = run_one(2, p, s, data);
      ASSERT_EQ(a.loss_trace.size(), 60u);
      EXPECT_EQ(a.loss_trace, b.loss_trace) << "cut " << cut;
      EXPECT_EQ(a.distance_trace, b.distance_trace) << "cut " << cut;
    }
  }
}

}  // namespace
}  // namespace llcb::backend
