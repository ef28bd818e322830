// Statistical accuracy of every sampler against the exact LLC on the CPU backend.
//
// Settings (issue tolerances, benchmark.md section 5): n = 1e5, batch 500, T = 20,000 steps,
// burn-in T/2, the mean of 3 chains (chain seeds 1, 2, 3) at step sizes 4.6e-7 (SGLD),
// 2.2e-8 (RMSPropSGLD, paper constants), 4.6e-9 (AdamSGLD), 1e-8 (SGHMC, SGNHT).
// Seeds are fixed, so each outcome is deterministic; the tolerances are what independent
// reference chains meet with these settings, and the measured errors (docs/samplers.md) sit well
// inside them, so the test fails on a real bias (a wrong constant, gradient or noise scale), not
// on chance.
#include <gtest/gtest.h>

#include <cmath>

#include "lib/backend/cpu/cpu_backend.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::backend {
namespace {

using samplers::SamplerKind;

struct Case {
  SamplerKind kind;
  double step;
  double tolerance;  // relative, on the mean of 3 chains
};

// The mean estimate of `chains` chains (chain seeds 1..chains) of n = problem.n, batch 500,
// T = 20,000, burn-in 10,000; none may diverge.
double mean_estimate(const dln::Problem& p, SamplerKind kind, double step, int chains) {
  CpuBackend be(1);
  std::vector<ChainSpec> specs;
  for (int seed = 1; seed <= chains; ++seed) {
    ChainSpec s;
    s.sampler.kind = kind;
    s.sampler.step_size = step;
    s.sampler.nbeta = static_cast<double>(p.n) / std::log(static_cast<double>(p.n));
    s.steps = 20'000;
    s.burn_in = 10'000;
    s.batch_size = 500;
    s.chain_seed = static_cast<std::uint64_t>(seed);
    specs.push_back(s);
  }
  double sum = 0;
  for (const auto& r : be.run(p, {}, specs)) {
    EXPECT_FALSE(r.diverged) << estimator::to_string(r.reason);
    sum += r.lambda_hat;
  }
  return sum / chains;
}

double mean_of_three(const dln::Problem& p, const Case& c) { return mean_estimate(p, c.kind, c.step, 3); }

const Case kCases[] = {
    {SamplerKind::kSgld, 4.6e-7, 0.15},      {SamplerKind::kRmspropSgld, 2.2e-8, 0.15},
    {SamplerKind::kAdamSgld, 4.6e-9, 0.30},  {SamplerKind::kSghmc, 1e-8, 0.15},
    {SamplerKind::kSgnht, 1e-8, 0.15},
};

class DegenerateDln : public ::testing::TestWithParam<std::pair<std::vector<std::int64_t>, std::int64_t>> {};

TEST_P(DegenerateDln, EverySamplerEstimatesTheTrueLlc) {
  // Depth 3, rank below the smallest width, lambda >= 10 (relative noise grows as lambda shrinks).
  const auto& [widths, rank] = GetParam();
  // The first-layer teacher of 8,5,7,6 is not on the minimal stratum: its local LLC is at least
  // rank(J)/2 = 21.5 (docs/truth.md), while Aoyagi's value is 19.5. The estimates must be near
  // both: within the tolerance of Aoyagi's value (the benchmark's truth) and of lambda_lower.
  const dln::Problem p = dln::problem_from_architecture(widths, rank, 1, 100'000);
  const double lambda = p.truth.lambda.to_double();
  const double lower = p.local.lambda_lower.to_double();
  ASSERT_GE(lambda, 10.0);
  for (const Case& c : kCases) {
    const double est = mean_of_three(p, c);
    EXPECT_NEAR(est / lambda - 1.0, 0.0, c.tolerance)
        << samplers::sampler_info(c.kind).name << ": lambda_hat " << est << " vs " << lambda;
    EXPECT_NEAR(est / lower - 1.0, 0.0, c.tolerance)
        << samplers::sampler_info(c.kind).name << ": lambda_hat " << est << " vs lambda_lower " << lower;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, DegenerateDln,
    ::testing::Values(std::make_pair(std::vector<std::int64_t>{5, 8, 6, 7}, std::int64_t{3}),
                      std::make_pair(std::vector<std::int64_t>{8, 5, 7, 6}, std::int64_t{3}),
                      std::make_pair(std::vector<std::int64_t>{6, 9, 5, 8}, std::int64_t{3})));

TEST(RegularModel, OneLayerGivesHalfTheParameterCount) {
  // A one-layer DLN is regular: lambda = d/2 = 10 exactly, and the localised tempered posterior
  // is Gaussian, so nbeta * L has mean d/2 and a single draw has sd sqrt(d/2) ~ 3.2. Over the
  // kept 10,000 steps (autocorrelation of order 100 steps) and 3 chains the mean's sd is ~2%:
  // 10% is five sd for SGLD, RMSPropSGLD, SGHMC and SGNHT. AdamSGLD's lagged first moment heats
  // the chain (measured +15% here, as benchmark.md reports for small DLNs): 25% for it.
  // Good estimates of a regular model exceed d/2 half of the time: the default estimate bound,
  // twice d/2, keeps them (docs/samplers.md measures it).
  const dln::Problem p = dln::problem_from_architecture({5, 4}, 4, 1, 100'000);
  ASSERT_EQ(p.truth.lambda.to_double(), 10.0);
  for (Case c : kCases) {
    c.tolerance = c.kind == SamplerKind::kAdamSgld ? 0.25 : 0.10;
    const double est = mean_of_three(p, c);
    EXPECT_NEAR(est / 10.0 - 1.0, 0.0, c.tolerance) << samplers::sampler_info(c.kind).name;
  }
}

// The truth at the teacher (docs/truth.md): on 10,8,10 rank 1 the first-layer teacher (layer ranks
// 1, 8) has rank(J)/2 = 41 above Aoyagi's 35, and its minimal teacher (1, 1) is exact at 35. A chain
// measures the local LLC at its teacher, so its estimate must be nearer 41 on the first and nearer
// 35 on the second, i.e. on either side of the midpoint 38. n = 1e6 (at 1e5 the estimates on the
// first teacher sit at 37-38, docs/truth.md), T = 20,000, burn-in 10,000, SGLD 1.65e-7 over chain
// seeds 1-6 and RMSPropSGLD 2.7e-9 over seeds 1-3 (their plateau at n = 1e6). Measured: SGLD
// 40.5 and 34.2 (chain sd about 2, so the means' sd is about 0.8: the midpoint is 3 and 4.7 sd
// away), RMSPropSGLD 39.4 and 34.9 (chain sd 0.8 and 0.7: 3 and 7 sd of the mean).
TEST(TruthAtTheTeacher, EstimatesFollowTheLocalLlcNotAoyagisValue) {
  const dln::Problem above = dln::problem_from_architecture({10, 8, 10}, 1, 1, 1'000'000);
  const dln::Problem exact =
      dln::problem_from_architecture({10, 8, 10}, 1, 1, 1'000'000, dln::TeacherMode::kMinimal);
  ASSERT_EQ(above.local.status, dln::TruthStatus::kAbove);
  ASSERT_EQ(above.local.lambda_smooth, 41);
  ASSERT_EQ(exact.local.status, dln::TruthStatus::kExact);
  ASSERT_EQ(exact.truth.lambda, 35);
  const struct {
    SamplerKind kind;
    double step;
    int chains;
  } runs[] = {{SamplerKind::kSgld, 1.65e-7, 6}, {SamplerKind::kRmspropSgld, 2.7e-9, 3}};
  for (const auto& r : runs) {
    const std::string& name = samplers::sampler_info(r.kind).name;
    EXPECT_GT(mean_estimate(above, r.kind, r.step, r.chains), 38.0) << name << ": nearer 41 than 35";
    EXPECT_LT(mean_estimate(exact, r.kind, r.step, r.chains), 38.0) << name << ": nearer 35 than 41";
  }
}

}  // namespace
}  // namespace llcb::backend
