// The estimator on synthetic loss traces whose statistics are known exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "lib/estimator/estimator.hpp"

namespace llcb::estimator {
namespace {

EstimatorConfig config(std::int64_t steps, std::int64_t burn_in) {
  EstimatorConfig c;
  c.steps = steps;
  c.burn_in = burn_in;
  c.nbeta = 100;
  c.loss_at_center = 0.01;
  c.d = 1000;
  return c;
}

TEST(Estimator, LambdaHatIsNbetaTimesMeanKeptExcessLoss) {
  ChainEstimator e(config(10, 6));
  for (int t = 0; t < 10; ++t) {
    // 5 before burn-in (ignored), then 0.11, 0.13, 0.11, 0.13: mean 0.12.
    const double loss = t < 6 ? 5.0 : (t % 2 == 0 ? 0.11 : 0.13);
    ASSERT_TRUE(e.observe_loss(t, loss));
    ASSERT_TRUE(e.observe_step(t, 1.0, 1.0, 4.0));
  }
  const ChainResult r = e.finish(2.0);
  EXPECT_FALSE(r.diverged);
  EXPECT_EQ(r.kept, 4);
  EXPECT_NEAR(r.mean_loss, 0.12, 1e-15);
  EXPECT_NEAR(r.lambda_hat, 100 * (0.12 - 0.01), 1e-12);
  EXPECT_NEAR(r.loss_variance, 4 * 0.0001 / 3, 1e-15);  // sample variance of +-0.01
  EXPECT_EQ(r.loss_trace.size(), 10u);
  EXPECT_EQ(r.steps_run, 10);
  EXPECT_DOUBLE_EQ(r.steps_per_second, 5.0);
  EXPECT_NEAR(r.mean_drift_noise_ratio, 0.5, 1e-15);
  EXPECT_NEAR(r.final_distance, 1.0, 1e-15);
}

TEST(Estimator, SlopeFlagsANonStationaryWindow) {
  ChainEstimator e(config(1000, 0));
  for (int t = 0; t < 1000; ++t) {
    ASSERT_TRUE(e.observe_loss(t, 0.11 + 2e-5 * t));  // linear: slope 2e-5 per step
    ASSERT_TRUE(e.observe_step(t, 1, 1, 1));
  }
  const ChainResult r = e.finish(1);
  EXPECT_NEAR(r.loss_slope, 2e-5, 1e-12);
  EXPECT_NEAR(r.nbeta_drift, 100 * 2e-5 * 1000, 1e-6);
  EXPECT_NEAR(r.lambda_hat, 100 * (0.11 + 2e-5 * 999 / 2 - 0.01), 1e-9);
  EXPECT_TRUE(r.nonstationary);  // drift 2.0 against lambda_hat 11: above 10%
}

TEST(Estimator, FlatWindowIsStationary) {
  ChainEstimator e(config(1000, 500));
  for (int t = 0; t < 1000; ++t) {
    ASSERT_TRUE(e.observe_loss(t, t % 2 ? 0.2 : 0.1));
    ASSERT_TRUE(e.observe_step(t, 1, 1, 1));
  }
  const ChainResult r = e.finish(1);
  EXPECT_FALSE(r.nonstationary);
  // An alternating window has a small least-squares slope (0.05 * 6 / 500^2 ~ 1.2e-6), far from
  // a trend: nbeta * slope * 500 = 0.06 against lambda_hat = 14.
  EXPECT_NEAR(r.loss_slope, 0.0, 2e-6);
}

TEST(Estimator, NonFiniteLossStopsTheChainAndLambdaIsNaN) {
  ChainEstimator e(config(100, 10));
  for (int t = 0; t < 20; ++t) {
    ASSERT_TRUE(e.observe_loss(t, 0.1));
    ASSERT_TRUE(e.observe_step(t, 1, 1, 1));
  }
  EXPECT_FALSE(e.observe_loss(20, std::nan("")));
  const ChainResult r = e.finish(1);
  EXPECT_TRUE(r.diverged);
  EXPECT_EQ(r.reason, Divergence::kNonFiniteLoss);
  EXPECT_EQ(r.divergence_step, 20);
  EXPECT_EQ(r.steps_run, 20);
  EXPECT_DOUBLE_EQ(r.last_finite_loss, 0.1);
  EXPECT_TRUE(std::isnan(r.lambda_hat));
  EXPECT_EQ(r.loss_trace.size(), 21u);
}

TEST(Estimator, LossAboveTheBoundDiverges) {
  const EstimatorConfig c = config(100, 10);
  // bound = 0.01 + 100 * 500 / 100 = 500.01
  EXPECT_NEAR(default_loss_bound(c), 500.01, 1e-9);
  ChainEstimator e(c);
  ASSERT_TRUE(e.observe_loss(0, 500.0));
  ASSERT_TRUE(e.observe_step(0, 1, 1, 1));
  EXPECT_FALSE(e.observe_loss(1, 500.02));
  const ChainResult r = e.finish(1);
  EXPECT_EQ(r.reason, Divergence::kLossAboveBound);
  EXPECT_EQ(r.divergence_step, 1);
  EXPECT_TRUE(std::isnan(r.lambda_hat));
}

TEST(Estimator, NonFiniteParametersDiverge) {
  ChainEstimator e(config(100, 10));
  ASSERT_TRUE(e.observe_loss(0, 0.1));
  EXPECT_FALSE(e.observe_step(0, INFINITY, 1, 1));
  const ChainResult r = e.finish(1);
  EXPECT_EQ(r.reason, Divergence::kNonFiniteParameter);
  EXPECT_TRUE(std::isnan(r.lambda_hat));
}

TEST(Estimator, AnEstimateAboveTheBoundIsDivergedButKeptAsRawEstimate) {
  EstimatorConfig c = config(10, 0);
  EXPECT_EQ(c.estimate_bound_factor, 2);  // the default: diverged above twice d/2
  c.d = 8;  // d/2 = 4; a mean loss of 0.1 gives 100 * (0.1 - 0.01) = 9 > 2 * 4
  ChainEstimator e(c);
  for (int t = 0; t < 10; ++t) {
    ASSERT_TRUE(e.observe_loss(t, 0.1));
    ASSERT_TRUE(e.observe_step(t, 1, 1, 1));
  }
  const ChainResult r = e.finish(1);
  EXPECT_TRUE(r.diverged);
  EXPECT_EQ(r.reason, Divergence::kEstimateAboveBound);
  EXPECT_TRUE(std::isnan(r.lambda_hat));
  EXPECT_NEAR(r.raw_estimate, 9.0, 1e-12);

  c.estimate_bound_factor = 2.5;  // 9 < 2.5 * 4
  ChainEstimator e2(c);
  for (int t = 0; t < 10; ++t) {
    ASSERT_TRUE(e2.observe_loss(t, 0.1));
    ASSERT_TRUE(e2.observe_step(t, 1, 1, 1));
  }
  EXPECT_NEAR(e2.finish(1).lambda_hat, 9.0, 1e-12);
}

TEST(Estimator, TheStandardErrorComesFromTwentyBatchMeans) {
  // 80 kept steps after a burn-in of 20: batch b holds kept steps 4b..4b+3. Within a batch the
  // losses alternate +-0.0002 around the batch mean (which cancels), and the batch means are
  // 0.010 and 0.011 in turn: deviations +-0.0005 from their mean, sd 0.0005 sqrt(20/19), so
  // se = nbeta * sd / sqrt(20) = 100 * 0.0005 / sqrt(19).
  ChainEstimator e(config(100, 20));
  for (int t = 0; t < 100; ++t) {
    const int b = (t - 20) / 4;
    const double loss = t < 20 ? 1.0 : 0.01 + 0.001 * (b % 2) + (t % 2 ? 0.0002 : -0.0002);
    ASSERT_TRUE(e.observe_loss(t, loss));
    ASSERT_TRUE(e.observe_step(t, 1, 1, 1));
  }
  EXPECT_NEAR(e.finish(1).estimate_se, 100 * 0.0005 / std::sqrt(19.0), 1e-9);
  // Fewer kept steps than batches: no standard error.
  ChainEstimator short_window(config(30, 20));
  for (int t = 0; t < 30; ++t) ASSERT_TRUE(short_window.observe_loss(t, 0.1));
  EXPECT_TRUE(std::isnan(short_window.finish(1).estimate_se));
}

TEST(Estimator, DiagnosticsAreDecimated) {
  EstimatorConfig c = config(100, 0);
  c.diag_every = 10;
  ChainEstimator e(c);
  for (int t = 0; t < 100; ++t) {
    ASSERT_TRUE(e.observe_loss(t, 0.1));
    ASSERT_TRUE(e.observe_step(t, t * t, 1, 1));
  }
  const ChainResult r = e.finish(1);
  ASSERT_EQ(r.diag_steps.size(), 11u);  // 0, 10, ..., 90 and the last step 99
  EXPECT_EQ(r.diag_steps.back(), 99);
  EXPECT_FLOAT_EQ(r.distance_trace[3], 30.0f);
}

}  // namespace
}  // namespace llcb::estimator
