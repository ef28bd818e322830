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

double mean_of_three(const dln::Problem& p, const Case& c, double bound_factor) {
  CpuBackend be(1);
  std::vector<ChainSpec> specs;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    ChainSpec s;
    s.sampler.kind = c.kind;
    s.sampler.step_size = c.step;
    s.sampler.nbeta = static_cast<double>(p.n) / std::log(static_cast<double>(p.n));
    s.steps = 20'000;
    s.burn_in = 10'000;
    s.batch_size = 500;
    s.chain_seed = seed;
    s.estimate_bound_factor = bound_factor;
    specs.push_back(s);
  }
  double sum = 0;
  for (const auto& r : be.run(p, {}, specs)) {
    EXPECT_FALSE(r.diverged) << estimator::to_string(r.reason);
    sum += r.lambda_hat;
  }
  return sum / 3;
}

const Case kCases[] = {
    {SamplerKind::kSgld, 4.6e-7, 0.15},      {SamplerKind::kRmspropSgld, 2.2e-8, 0.15},
    {SamplerKind::kAdamSgld, 4.6e-9, 0.30},  {SamplerKind::kSghmc, 1e-8, 0.15},
    {SamplerKind::kSgnht, 1e-8, 0.15},
};

class DegenerateDln : public ::testing::TestWithParam<std::pair<std::vector<std::int64_t>, std::int64_t>> {};

TEST_P(DegenerateDln, EverySamplerEstimatesTheTrueLlc) {
  // Depth 3, rank below the smallest width, lambda >= 10 (relative noise grows as lambda shrinks).
  const auto& [widths, rank] = GetParam();
  const dln::Problem p = dln::problem_from_architecture(widths, rank, 1, 100'000);
  const double lambda = p.truth.lambda.to_double();
  ASSERT_GE(lambda, 10.0);
  for (const Case& c : kCases) {
    const double est = mean_of_three(p, c, 1.0);
    EXPECT_NEAR(est / lambda - 1.0, 0.0, c.tolerance)
        << samplers::sampler_info(c.kind).name << ": lambda_hat " << est << " vs " << lambda;
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
  // Good estimates of a regular model exceed d/2 half of the time, so the "estimate above d/2
  // means diverged" rule is relaxed to 2 d/2 here.
  const dln::Problem p = dln::problem_from_architecture({5, 4}, 4, 1, 100'000);
  ASSERT_EQ(p.truth.lambda.to_double(), 10.0);
  for (Case c : kCases) {
    c.tolerance = c.kind == SamplerKind::kAdamSgld ? 0.25 : 0.10;
    const double est = mean_of_three(p, c, 2.0);
    EXPECT_NEAR(est / 10.0 - 1.0, 0.0, c.tolerance) << samplers::sampler_info(c.kind).name;
  }
}

}  // namespace
}  // namespace llcb::backend
