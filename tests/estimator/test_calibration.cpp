// The step-size calibration rule (lib/estimator/calibration.hpp) on synthetic diagnostics: a
// plateau, none, every chain diverged, drifting chains, ties, bad input. No chain runs here.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lib/core/error.hpp"
#include "lib/estimator/calibration.hpp"

namespace llcb::estimator {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// A grid point whose `k` chains all give lambda `median` (+-1 %), none drifting.
StepStats point(double step, double median, int k = 3, int diverged = 0, int drifting = 0) {
  std::vector<CalibrationChain> chains;
  for (int c = 0; c < k; ++c) {
    const bool dead = c < diverged;
    const double spread = (c % 3 - 1) * 0.01 * median;
    chains.push_back({dead ? kNaN : median + spread, dead, !dead && c - diverged < drifting, 0.1, kNaN, kNaN});
  }
  return summarize_step(step, chains);
}

// The rule these tests were written for (the defaults are measured and may move): 10% a grid
// point, at most half the chains drifting, the plateau's middle.
CalibrationRule strict() {
  CalibrationRule r;
  r.plateau_tolerance = 0.1;
  r.max_nonstationary = 0.5;
  r.pick = "middle";
  return r;
}

std::vector<StepStats> grid_of(const std::vector<double>& medians) {
  std::vector<StepStats> g;
  for (std::size_t i = 0; i < medians.size(); ++i) g.push_back(point(std::pow(10.0, -9.0 + 0.5 * i), medians[i]));
  return g;
}

TEST(Calibration, SummaryOfAStepKeepsTheChainsThatDidNotDiverge) {
  const StepStats s = summarize_step(1e-7, {{10, false, false, 0.2, 0.1, 0}, {12, false, true, 0.4, kNaN, kNaN},
                                            {kNaN, true, false, kNaN, kNaN, kNaN}, {11, false, false, 0.3, 0.1, 0}});
  EXPECT_EQ(s.diverged, 1);
  EXPECT_EQ(s.nonstationary, 1);
  EXPECT_EQ(s.median, 11);
  EXPECT_EQ(s.low, 10);
  EXPECT_EQ(s.high, 12);
  EXPECT_DOUBLE_EQ(s.drift_noise, 0.3);
  EXPECT_EQ(s.chains.size(), 4u);
}

// Underestimates at small steps, a flat stretch, then overestimates: the stretch is the range.
TEST(Calibration, APlateauGivesTheRangeAndItsMiddleOrUpperPoint) {
  const std::vector<StepStats> g = grid_of({5, 8, 10, 10.5, 10.8, 14, 30});
  CalibrationRule rule = strict();
  const Calibration c = recommend(g, rule);
  ASSERT_TRUE(c.found) << c.why;
  EXPECT_EQ(c.first, 2u);
  EXPECT_EQ(c.last, 4u);
  EXPECT_EQ(c.chosen, 3u);
  EXPECT_NE(c.why.find("3-point plateau"), std::string::npos) << c.why;
  rule.pick = "upper";
  EXPECT_EQ(recommend(g, rule).chosen, 4u);
  rule.plateau_tolerance = 0.3;  // 8 -> 10 and 10.8 -> 14 now agree too: 1..5
  const Calibration wide = recommend(g, rule);
  EXPECT_EQ(wide.first, 1u);
  EXPECT_EQ(wide.last, 5u);
}

TEST(Calibration, TwoPointsMakeAPlateauAndTheMiddleOfTwoIsTheUpper) {
  const Calibration c = recommend(grid_of({5, 10, 10.5, 20}), strict());
  ASSERT_TRUE(c.found);
  EXPECT_EQ(c.first, 1u);
  EXPECT_EQ(c.chosen, 2u);
}

// Of two plateaus of one length, the one at larger step sizes (faster mixing).
TEST(Calibration, TiesGoToLargerStepSizesAndTheChoiceIsDeterministic) {
  const std::vector<StepStats> g = grid_of({4, 4.1, 7, 10, 10.2, 30});
  const Calibration a = recommend(g, strict()), b = recommend(g, strict());
  ASSERT_TRUE(a.found);
  EXPECT_EQ(a.first, 3u);
  EXPECT_EQ(a.last, 4u);
  EXPECT_EQ(a.chosen, b.chosen);
  EXPECT_EQ(a.why, b.why);
}

TEST(Calibration, NoPlateauIsNoPickAndSaysWhy) {
  const Calibration c = recommend(grid_of({1, 2, 4, 8, 16}), strict());
  EXPECT_FALSE(c.found);
  EXPECT_NE(c.why.find("no plateau"), std::string::npos) << c.why;
}

TEST(Calibration, EveryChainDivergedIsNoPickAndSaysWhereToLook) {
  std::vector<StepStats> g;
  for (double step : {1e-6, 1e-5, 1e-4}) g.push_back(point(step, 10, 3, 3));
  const Calibration c = recommend(g, strict());
  EXPECT_FALSE(c.found);
  EXPECT_NE(c.why.find("every chain diverged"), std::string::npos) << c.why;
  EXPECT_NE(c.why.find("smaller step sizes"), std::string::npos) << c.why;
}

// A point with a diverged chain, or with most chains drifting, is not sound and breaks a plateau.
TEST(Calibration, DivergedOrDriftingPointsAreNotSound) {
  std::vector<StepStats> g = grid_of({10, 10.1, 10.2, 10.3, 10.4});
  g[2] = point(g[2].step_size, 10.2, 3, 1);     // one of three diverged
  g[3] = point(g[3].step_size, 10.3, 3, 0, 2);  // two of three drift
  const Calibration c = recommend(g, strict());
  EXPECT_EQ(c.sound, (std::vector<bool>{true, true, false, false, true}));
  ASSERT_TRUE(c.found);
  EXPECT_EQ(c.first, 0u);
  EXPECT_EQ(c.last, 1u);
  CalibrationRule lenient = strict();
  lenient.max_nonstationary = 1.0;  // drifting chains tolerated: point 3 is sound again
  EXPECT_TRUE(recommend(g, lenient).sound[3]);
  std::vector<StepStats> none = grid_of({10, 10});
  none[0] = point(none[0].step_size, 10, 3, 0, 3);
  none[1] = point(none[1].step_size, 10, 3, 0, 3);
  const Calibration d = recommend(none, strict());
  EXPECT_FALSE(d.found);
  EXPECT_NE(d.why.find("stationary"), std::string::npos) << d.why;
}

// A drift flagged by the estimator counts only where it exceeds the chain's own noise: 2 standard
// errors of a drift across the window, sqrt(12) x the mean's standard error each.
TEST(Calibration, ADriftCountsOnlyBeyondTheChainsNoise) {
  const double se = 0.5, bar = 2.0 * std::sqrt(12.0) * se;  // 3.46
  EXPECT_FALSE(drifts({10, false, false, 0.1, se, 5.0}));        // not flagged: never drifts
  EXPECT_FALSE(drifts({10, false, true, 0.1, se, bar - 0.01}));  // flagged, within its noise
  EXPECT_TRUE(drifts({10, false, true, 0.1, se, -(bar + 0.01)}));
  EXPECT_TRUE(drifts({10, false, true, 0.1, kNaN, 2.0}));        // no standard error: the flag
}

TEST(Calibration, BadRulesAndGridsAreUsageErrors) {
  CalibrationRule r = strict();
  r.plateau_tolerance = 0;
  EXPECT_THROW(recommend(grid_of({1, 1}), r), UsageError);
  r = strict();
  r.pick = "lowest";
  EXPECT_THROW(recommend(grid_of({1, 1}), r), UsageError);
  std::vector<StepStats> g = grid_of({1, 1});
  std::swap(g[0], g[1]);
  EXPECT_THROW(recommend(g, strict()), UsageError);
  EXPECT_FALSE(recommend({}, strict()).found);
}

}  // namespace
}  // namespace llcb::estimator
