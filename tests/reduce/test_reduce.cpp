// The reducer on hand-made job tables whose statistics are worked out in the comments.
#include <gtest/gtest.h>

#include <cmath>

#include "lib/reduce/reduce.hpp"

namespace llcb::reduce {
namespace {

using store::Table;

struct Row {
  std::string sampler;
  double step, lambda_hat, lambda_true;
  std::int64_t diverged;
  std::string status = "done";
  double speed = 100;
};

Table jobs(const std::vector<Row>& rows) {
  std::vector<std::string> cls, sampler, status;
  std::vector<double> step, est, truth, speed;
  std::vector<std::int64_t> div;
  for (const auto& r : rows) {
    cls.push_back("tiny");
    sampler.push_back(r.sampler);
    step.push_back(r.step);
    est.push_back(r.lambda_hat);
    truth.push_back(r.lambda_true);
    div.push_back(r.diverged);
    status.push_back(r.status);
    speed.push_back(r.speed);
  }
  Table t;
  t.columns = {{"class", cls},       {"sampler", sampler},   {"step_size", step},
               {"status", status},   {"lambda_hat", est},    {"lambda_true", truth},
               {"diverged", div},    {"steps_per_second", speed}};
  return t;
}

const double kNaN = std::nan("");

TEST(Reduce, StatisticsOfOneGroupWithADivergedChainAndATie) {
  // Relative errors of the converged jobs: +10%, -10%, +40% (mean 0.1333, sample sd 0.2517,
  // median 0.10). One job diverged (NaN estimate): divergence fraction 1/4.
  // Pairs with different true lambda: (10,20) (10,10 tie: skipped) (10,30) (20,10) ...
  // True lambdas 10, 20, 10, 30 (the last diverged). Pairs with different truth:
  //   (a=10, b=20): est 11 < 18: concordant
  //   (a=10, d=30): d diverged: discordant
  //   (b=20, c=10): est 18 > 14: concordant
  //   (b=20, d=30): discordant
  //   (c=10, d=30): discordant
  // (a, c) both 10: not a pair. Order preservation 2/5.
  const Table s = summarize(jobs({{"sgld", 1e-7, 11, 10, 0},
                                  {"sgld", 1e-7, 18, 20, 0},
                                  {"sgld", 1e-7, 14, 10, 0},
                                  {"sgld", 1e-7, kNaN, 30, 1}}));
  ASSERT_EQ(s.rows(), 1u);
  EXPECT_EQ(s.get<std::int64_t>("count")[0], 4);
  EXPECT_EQ(s.get<std::int64_t>("converged")[0], 3);
  EXPECT_NEAR(s.get<double>("mean_rel_error")[0], 0.4 / 3, 1e-12);
  EXPECT_NEAR(s.get<double>("std_rel_error")[0], std::sqrt((0.0333333333333 * 0.0333333333333 +
                                                            0.2333333333333 * 0.2333333333333 +
                                                            0.2666666666667 * 0.2666666666667) / 2),
              1e-9);
  EXPECT_NEAR(s.get<double>("median_rel_error")[0], 0.1, 1e-12);
  EXPECT_NEAR(s.get<double>("divergence_fraction")[0], 0.25, 1e-15);
  EXPECT_NEAR(s.get<double>("order_preservation")[0], 0.4, 1e-15);
  EXPECT_FALSE(std::isnan(s.get<double>("mean_rel_error")[0]));  // no NaN leaks in
}

TEST(Reduce, GroupsAreSeparatedAndSortedAndPendingJobsAreCounted) {
  const Table s = summarize(jobs({{"sghmc", 1e-8, 10, 10, 0},
                                  {"sgld", 1e-6, 10, 10, 0},
                                  {"sgld", 1e-7, 12, 10, 0},
                                  {"sgld", 1e-7, kNaN, 20, 0, "pending"},
                                  {"sgld", 1e-7, kNaN, 30, 0, "failed"}}));
  ASSERT_EQ(s.rows(), 3u);
  EXPECT_EQ(s.get<std::string>("sampler"), (std::vector<std::string>{"sghmc", "sgld", "sgld"}));
  EXPECT_EQ(s.get<double>("step_size")[1], 1e-7);
  EXPECT_EQ(s.get<std::int64_t>("count")[1], 1);
  EXPECT_EQ(s.get<std::int64_t>("pending")[1], 2);
  EXPECT_EQ(s.get<std::int64_t>("failed")[1], 1);
  EXPECT_TRUE(std::isnan(s.get<double>("std_rel_error")[1]));       // one converged job
  EXPECT_TRUE(std::isnan(s.get<double>("order_preservation")[1]));  // no pair
  // A table without truth statuses (a store written before they existed): pooled rows only.
  EXPECT_EQ(s.get<std::string>("truth_status"), (std::vector<std::string>{"all", "all", "all"}));
  EXPECT_EQ(s.get<std::string>("teacher")[0], "paper");
}

TEST(Reduce, RowsAreSplitByTruthStatusBesideThePooledRow) {
  // a: exact (truth 10); b: above (Aoyagi 20, lambda_lower 25); e: global (24).
  Table t = jobs({{"sgld", 1e-7, 11, 10, 0}, {"sgld", 1e-7, 24, 20, 0}, {"sgld", 1e-7, 25, 24, 0}});
  t.columns.push_back({"truth_status", std::vector<std::string>{"exact", "above", "global"}});
  t.columns.push_back({"lambda_lower", std::vector<double>{10, 25, 24}});
  t.columns.push_back({"teacher", std::vector<std::string>{"paper", "paper", "paper"}});
  const Table s = summarize(t);
  ASSERT_EQ(s.rows(), 4u);
  EXPECT_EQ(s.get<std::string>("truth_status"), (std::vector<std::string>{"all", "exact", "above", "global"}));
  EXPECT_EQ(s.get<std::int64_t>("count"), (std::vector<std::int64_t>{3, 1, 1, 1}));
  // Pooled: relative errors +0.1, +0.2, +1/24 against Aoyagi; +0.1, -0.04, +1/24 against lambda_lower.
  EXPECT_NEAR(s.get<double>("mean_rel_error")[0], (0.1 + 0.2 + 1.0 / 24) / 3, 1e-12);
  EXPECT_NEAR(s.get<double>("mean_rel_error_lower")[0], (0.1 - 0.04 + 1.0 / 24) / 3, 1e-12);
  EXPECT_NEAR(s.get<double>("mean_rel_error")[2], 0.2, 1e-12);
  EXPECT_NEAR(s.get<double>("mean_rel_error_lower")[2], -0.04, 1e-12);
  // Against Aoyagi every pair is in order; against lambda_lower (b, e) is not: 25 > 24, 24 < 25.
  EXPECT_EQ(s.get<double>("order_preservation")[0], 1.0);
  EXPECT_NEAR(s.get<double>("order_preservation_lower")[0], 2.0 / 3, 1e-15);
  EXPECT_TRUE(std::isnan(s.get<double>("order_preservation")[1]));  // one job: no pair
}

TEST(Reduce, EqualEstimatesAreDiscordantAndAllDivergedGivesNaNErrors) {
  Table s = summarize(jobs({{"sgld", 1e-7, 15, 10, 0}, {"sgld", 1e-7, 15, 20, 0}}));
  EXPECT_EQ(s.get<double>("order_preservation")[0], 0.0);
  s = summarize(jobs({{"sgld", 1e-5, kNaN, 10, 1}, {"sgld", 1e-5, kNaN, 20, 1}}));
  EXPECT_EQ(s.get<double>("divergence_fraction")[0], 1.0);
  EXPECT_TRUE(std::isnan(s.get<double>("mean_rel_error")[0]));
  EXPECT_EQ(s.get<double>("order_preservation")[0], 0.0);
}

TEST(Reduce, CalibratedSlotsPoolEveryProblemWhateverStepSizeItsCalibrationChose) {
  // Two problems whose calibrations chose 1e-8 and 1e-6: the slot "calibrated" is one group of
  // two jobs, its step size their median on the log scale, 1e-7. Slots sort below, at and above
  // the choice, after the fixed step sizes; the "" slot of the fixed sampler keeps its step size.
  Table t = jobs({{"sgld", 1e-8, 11, 10, 0}, {"sgld", 1e-6, 9, 10, 0}, {"sgld", 1e-7, 12, 10, 0},
                  {"sgld", 1e-5, 8, 10, 0}, {"sgld", 1e-9, 10, 10, 0}, {"sgld", 3e-9, 10, 10, 0}});
  t.columns.push_back({"slot", std::vector<std::string>{"calibrated", "calibrated", "calibrated+1",
                                                        "calibrated+1", "calibrated-1", ""}});
  const Table s = summarize(t);
  ASSERT_EQ(s.rows(), 4u);
  EXPECT_EQ(s.get<std::string>("slot"), (std::vector<std::string>{"", "calibrated-1", "calibrated", "calibrated+1"}));
  EXPECT_EQ(s.get<double>("step_size")[0], 3e-9);
  EXPECT_EQ(s.get<double>("step_size")[1], 1e-9);
  EXPECT_NEAR(s.get<double>("step_size")[2], 1e-7, 1e-20);
  EXPECT_NEAR(s.get<double>("step_size")[3], 1e-6, 1e-19);  // sqrt(1e-7 * 1e-5)
  EXPECT_EQ(s.get<std::int64_t>("count")[2], 2);
  EXPECT_NEAR(s.get<double>("mean_rel_error")[2], 0.0, 1e-12);  // +10% and -10%
  // Without a slot column there is none in the summary either.
  EXPECT_EQ(summarize(jobs({{"sgld", 1e-8, 11, 10, 0}})).find("slot"), nullptr);
}

}  // namespace
}  // namespace llcb::reduce
