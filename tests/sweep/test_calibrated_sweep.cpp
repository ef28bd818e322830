// Sweeps with calibrated samplers (docs/calibration.md "In a sweep"): the config and the slots
// of the grid, a calibration that runs once per problem and sampler before its jobs, what the
// store records (/calibrations, the calibration traces, the slots' step sizes), a resume that
// never calibrates twice (also when stopped between two calibrations), a rebuilt store that
// keeps its calibrations, and a calibration that finds nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <thread>

#include "lib/core/error.hpp"
#include "lib/store/journal.hpp"
#include "lib/store/store.hpp"
#include "lib/sweep/calibrate.hpp"
#include "lib/sweep/repair.hpp"
#include "lib/sweep/runner.hpp"
#include "tests/support/sweep_process.hpp"

namespace llcb::sweep {
namespace {

namespace fs = std::filesystem;

// Two tiny problems; SGLD calibrated over 1e-8..1e-3 (a point a decade), SGHMC at a fixed step
// size. On these problems SGLD's calibration finds a plateau (the tiny study of
// docs/calibration.md) and 1e-3 diverges.
const char* kCalibrated = R"(
[sweep]
samplers = sgld, sghmc
threads = 1
[problems]
class = tiny
count = 2
[chain]
steps = 1500
batch_size = 100
trace_every = 2
[sgld]
step_sizes = calibrate
[sghmc]
step_sizes = 1e-8
[calibrate]
grid = 1e-8:1e-3:1
steps = 1500
chains = 2
)";

std::string store_path(const std::string& name) { return testing::fresh_store_path("llcb_calibrated", name); }

RunOptions run_options(const std::string& path, bool resume) {
  RunOptions o;
  o.store_path = path;
  o.resume = resume;
  o.host = "test-host";
  return o;
}

struct Contents {
  store::Table jobs, calibrations;
  std::vector<std::vector<float>> traces;
  std::vector<float> calibration_traces;
};

Contents contents(const std::string& path) {
  const store::Store s = store::Store::open(path, false);
  Contents c{s.table("jobs"), s.table("calibrations"), {}, {}};
  for (std::size_t r = 0; r < c.jobs.rows(); ++r) c.traces.push_back(s.read_job(c.jobs, static_cast<std::int64_t>(r)).trace);
  for (std::size_t u = 0; u < c.calibrations.rows(); ++u) {
    const std::vector<float> t = s.calibration_trace(static_cast<std::int64_t>(u));
    c.calibration_traces.insert(c.calibration_traces.end(), t.begin(), t.end());
  }
  return c;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::int64_t calibration_records(const std::string& path) {
  const store::Store s = store::Store::open(path, false);
  return static_cast<std::int64_t>(store::Journal::open(path, s.header()).latest_calibrations().size());
}

TEST(CalibratedConfig, SlotsReplaceStepSizesAndTheirIdsDependOnTheCalibration) {
  const SweepConfig c = parse_config(kCalibrated, {});
  ASSERT_TRUE(c.samplers[0].calibrated);
  EXPECT_FALSE(c.samplers[1].calibrated);
  EXPECT_EQ(c.calibration.grid.size(), 6u);
  const std::vector<Job> grid = make_grid(c);
  ASSERT_EQ(grid.size(), 2u * (3 + 1));  // per problem: slots -1, 0, +1 of SGLD and SGHMC's step size
  EXPECT_EQ(grid[0].slot, -1);
  EXPECT_EQ(grid[2].slot, 1);
  EXPECT_EQ(slot_label(grid[0]), "calibrated-1");
  EXPECT_EQ(slot_label(grid[1]), "calibrated");
  EXPECT_EQ(slot_label(grid[3]), "");
  EXPECT_TRUE(std::isnan(grid[1].step_size));
  EXPECT_EQ(grid[4].calibration, 1);
  const std::vector<CalibrationUnit> units = make_calibrations(c);
  ASSERT_EQ(units.size(), 2u);
  EXPECT_EQ(units[1].problem_index, 1);
  // Another rule is another calibration: other ids for the calibrated jobs only.
  const SweepConfig other = parse_config(kCalibrated, {"calibrate.tolerance=0.2"});
  EXPECT_NE(make_grid(other)[1].id, grid[1].id);
  EXPECT_EQ(make_grid(other)[3].id, grid[3].id);
  EXPECT_NE(make_calibrations(other)[0].id, units[0].id);
  EXPECT_EQ(make_grid(c)[1].id, grid[1].id);
  // Two neighbours a side: five slots.
  EXPECT_EQ(make_grid(parse_config(kCalibrated, {"calibrate.neighbours=2"})).size(), 2u * (5 + 1));
}

TEST(CalibratedConfig, BadCalibrationSettingsAreUsageErrors) {
  for (const char* bad : {"calibrate.grid=1e-3:1e-8:1", "calibrate.grid=1e-8", "calibrate.chains=0",
                          "calibrate.pick=lowest", "calibrate.tolerance=-1", "calibrate.burn_in_fraction=1",
                          "calibrate.neighbours=11", "sgld.step_start=1e-8"}) {
    EXPECT_THROW(parse_config(kCalibrated, {bad}), UsageError) << bad;
  }
}

TEST(CalibratedSweep, CalibratesEachProblemOnceAndRunsTheChosenStepSizeAndItsNeighbours) {
  const SweepConfig c = parse_config(kCalibrated, {});
  const std::string path = store_path("whole");
  std::int64_t reported = 0;
  RunOptions o = run_options(path, false);
  o.on_calibration = [&](const CalibrationUnit&, const store::CalibrationRecord& r) {
    ++reported;
    EXPECT_EQ(r.status, "done");
  };
  const RunSummary s = run_sweep(c, o);
  EXPECT_FALSE(s.interrupted);
  EXPECT_EQ(s.ran, 8);
  EXPECT_EQ(reported, 2);
  const Contents got = contents(path);
  ASSERT_EQ(got.calibrations.rows(), 2u);
  const auto& found = got.calibrations.get<std::int64_t>("found");
  const auto& chosen = got.calibrations.get<double>("step_size");
  const auto& low = got.calibrations.get<double>("accepted_low");
  const auto& high = got.calibrations.get<double>("accepted_high");
  const auto& steps = got.jobs.get<double>("step_size");
  const auto& slots = got.jobs.get<std::string>("slot");
  const auto& status = got.jobs.get<std::string>("status");
  const std::vector<double>& points = c.calibration.grid;
  for (std::size_t u = 0; u < 2; ++u) {
    ASSERT_EQ(found[u], 1) << got.calibrations.get<std::string>("why")[u];
    EXPECT_LE(low[u], chosen[u]);
    EXPECT_LE(chosen[u], high[u]);
    const auto k = std::find(points.begin(), points.end(), chosen[u]) - points.begin();
    ASSERT_LT(k, static_cast<std::ptrdiff_t>(points.size()));
    // The slots run the grid's own points below, at and above the choice, bit for bit.
    const std::size_t first = u * 4;
    EXPECT_EQ(slots[first], "calibrated-1");
    EXPECT_EQ(steps[first + 1], chosen[u]);
    if (k > 0) {
      EXPECT_EQ(steps[first], points[static_cast<std::size_t>(k - 1)]);
    }
    if (k + 1 < static_cast<std::ptrdiff_t>(points.size())) {
      EXPECT_EQ(steps[first + 2], points[static_cast<std::size_t>(k + 1)]);
    }
    EXPECT_EQ(steps[first + 3], 1e-8);
    for (std::size_t j = first; j < first + 4; ++j) EXPECT_EQ(status[j], "done");
    // The detail holds the grid the choice was made from.
    EXPECT_NE(got.calibrations.get<std::string>("detail")[u].find("\"grid\":["), std::string::npos);
  }
  // The calibration traces: every chain of each point that ran from step 0, NaN for the points
  // past the first one where every chain diverged (1e-3 here, or before).
  const store::Store st = store::Store::open(path, false);
  const store::CalibrationShape shape = calibration_shape(c);
  const std::size_t columns = points.size() * static_cast<std::size_t>(shape.chains);
  for (std::size_t u = 0; u < 2; ++u) {
    const std::vector<float> t = st.calibration_trace(static_cast<std::int64_t>(u));
    ASSERT_EQ(t.size(), static_cast<std::size_t>(shape.rows) * columns);
    EXPECT_TRUE(std::isfinite(t[0]) && std::isfinite(t[1]));  // 1e-8, both chains, step 0
    EXPECT_TRUE(std::isnan(t[columns - 1]));  // 1e-3 did not run, or diverged before its end
    EXPECT_TRUE(std::isnan(t[(static_cast<std::size_t>(shape.rows) - 1) * columns + columns - 1]));
  }
  EXPECT_EQ(calibration_records(path), 2);
  // The summary groups calibrated jobs by slot, below, at and above the choice.
  const store::Table summary = st.table("summary");
  const auto& sslot = summary.get<std::string>("slot");
  std::vector<std::string> order;
  for (std::size_t r = 0; r < summary.rows(); ++r) {
    if (summary.get<std::string>("truth_status")[r] == "all") order.push_back(sslot[r]);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"", "calibrated-1", "calibrated", "calibrated+1"}));
}

TEST(CalibratedSweep, StoppedBetweenCalibrationsTheResumeCalibratesOnlyWhatIsMissingAndEndsTheSame) {
  const SweepConfig c = parse_config(kCalibrated, {});
  const std::string whole = store_path("reference");
  ASSERT_FALSE(run_sweep(c, run_options(whole, false)).interrupted);
  const Contents ref = contents(whole);

  // Stop right after problem 0's calibration is recorded: nothing else has run.
  const std::string path = store_path("stopped");
  std::atomic<bool> stop{false};
  RunOptions o = run_options(path, false);
  o.stop = &stop;
  o.on_calibration = [&](const CalibrationUnit&, const store::CalibrationRecord&) { stop = true; };
  const RunSummary first = run_sweep(c, o);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.ran, 0);
  {
    const Contents mid = contents(path);
    EXPECT_EQ(mid.calibrations.get<std::string>("status")[0], "done");
    EXPECT_EQ(mid.calibrations.get<std::string>("status")[1], "pending");
    EXPECT_TRUE(std::isnan(mid.calibrations.get<double>("step_size")[1]));
  }
  const std::string finished0 = contents(path).calibrations.get<std::string>("finished")[0];

  // The resume runs problem 1's calibration only (one more journal record), then every job.
  std::vector<std::int64_t> calibrated;
  RunOptions again = run_options(path, true);
  again.on_calibration = [&](const CalibrationUnit& u, const store::CalibrationRecord&) { calibrated.push_back(u.index); };
  const RunSummary second = run_sweep(c, again);
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.ran, 8);
  EXPECT_EQ(calibrated, std::vector<std::int64_t>{1});
  EXPECT_EQ(calibration_records(path), 2);
  const Contents got = contents(path);
  EXPECT_EQ(got.calibrations.get<std::string>("finished")[0], finished0);
  // The same calibrations, choices and chains as the uninterrupted sweep, bit for bit.
  for (const char* col : {"step_size", "accepted_low", "accepted_high"}) {
    const auto& a = got.calibrations.get<double>(col);
    const auto& b = ref.calibrations.get<double>(col);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin())) << col;
  }
  EXPECT_EQ(got.calibrations.get<std::string>("detail"), ref.calibrations.get<std::string>("detail"));
  EXPECT_EQ(got.jobs.get<double>("step_size"), ref.jobs.get<double>("step_size"));
  for (std::size_t r = 0; r < ref.traces.size(); ++r) EXPECT_TRUE(same_bits(got.traces[r], ref.traces[r])) << r;

  // A resume of the finished store runs nothing at all.
  calibrated.clear();
  const RunSummary third = run_sweep(c, again);
  EXPECT_EQ(third.ran, 0);
  EXPECT_TRUE(calibrated.empty());
}

TEST(CalibratedSweep, AStopInsideACalibrationRecordsNothingAndTheResumeRunsItWhole) {
  // One problem whose calibration takes a few seconds (2 step sizes x 2 chains of 40,000 steps);
  // the stop comes 0.3 s after the store appears, inside the calibration's chains.
  const std::vector<std::string> slow = {"problems.count=1", "calibrate.grid=1e-8:1e-7:1", "calibrate.steps=40000"};
  const SweepConfig c = parse_config(kCalibrated, slow);
  const std::string whole = store_path("slow-reference");
  ASSERT_FALSE(run_sweep(c, run_options(whole, false)).interrupted);
  const Contents ref = contents(whole);

  const std::string path = store_path("slow-stopped");
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    while (!fs::exists(path)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  RunOptions o = run_options(path, false);
  o.stop = &stop;
  std::int64_t calibrated = 0;
  o.on_calibration = [&](const CalibrationUnit&, const store::CalibrationRecord&) { ++calibrated; };
  const RunSummary first = run_sweep(c, o);
  stopper.join();
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(calibrated, 0);
  EXPECT_EQ(first.ran, 0);
  EXPECT_EQ(contents(path).calibrations.get<std::string>("status")[0], "pending");
  EXPECT_EQ(calibration_records(path), 0);

  const RunSummary second = run_sweep(c, run_options(path, true));
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.ran, 4);
  EXPECT_EQ(calibration_records(path), 1);
  const Contents got = contents(path);
  EXPECT_EQ(got.calibrations.get<std::string>("detail"), ref.calibrations.get<std::string>("detail"));
  EXPECT_TRUE(same_bits(got.calibration_traces, ref.calibration_traces));
  EXPECT_EQ(got.jobs.get<double>("step_size"), ref.jobs.get<double>("step_size"));
  for (std::size_t r = 0; r < ref.traces.size(); ++r) EXPECT_TRUE(same_bits(got.traces[r], ref.traces[r])) << r;
}

TEST(CalibratedSweep, AStoreRebuiltFromItsJournalKeepsItsCalibrations) {
  const SweepConfig c = parse_config(kCalibrated, {});
  const std::string path = store_path("rebuilt");
  ASSERT_FALSE(run_sweep(c, run_options(path, false)).interrupted);
  const Contents before = contents(path);
  fs::remove(path);  // the store is gone; its journal lives
  std::int64_t calibrated = 0;
  RunOptions o = run_options(path, true);
  o.on_calibration = [&](const CalibrationUnit&, const store::CalibrationRecord&) { ++calibrated; };
  const RunSummary s = run_sweep(c, o);
  EXPECT_EQ(s.ran, 0);
  EXPECT_EQ(calibrated, 0);
  const Contents after = contents(path);
  EXPECT_EQ(after.calibrations.get<std::string>("status"), before.calibrations.get<std::string>("status"));
  EXPECT_EQ(after.calibrations.get<std::string>("detail"), before.calibrations.get<std::string>("detail"));
  EXPECT_EQ(after.jobs.get<double>("step_size"), before.jobs.get<double>("step_size"));
  EXPECT_TRUE(same_bits(after.calibration_traces, before.calibration_traces));
  for (std::size_t r = 0; r < before.traces.size(); ++r) EXPECT_TRUE(same_bits(after.traces[r], before.traces[r])) << r;
}

TEST(CalibratedSweep, ARepairWithoutAJournalKeepsTheCalibrationsOfTheOldFile) {
  // The journal is gone (set aside, say): the rebuilt store takes the calibrations, like the
  // finished jobs, from the old file, so no calibrated job loses the step size it ran with.
  const SweepConfig c = parse_config(kCalibrated, {});
  const std::string path = store_path("no-journal");
  ASSERT_FALSE(run_sweep(c, run_options(path, false)).interrupted);
  const Contents before = contents(path);
  fs::remove(store::Journal::path_of(path));
  const RepairReport report = repair_store(path);
  EXPECT_EQ(report.from_store, 8);
  const Contents after = contents(path);
  EXPECT_EQ(after.calibrations.get<std::string>("status"), before.calibrations.get<std::string>("status"));
  EXPECT_EQ(after.calibrations.get<std::string>("detail"), before.calibrations.get<std::string>("detail"));
  EXPECT_EQ(after.jobs.get<double>("step_size"), before.jobs.get<double>("step_size"));
  EXPECT_TRUE(same_bits(after.calibration_traces, before.calibration_traces));
}

TEST(CalibratedSweep, ACalibrationThatFindsNothingFailsItsJobsWithAReason) {
  // Every step size of this grid diverges: no plateau, no step size.
  const SweepConfig c = parse_config(kCalibrated, {"calibrate.grid=1e-2:1e-1:1"});
  const std::string path = store_path("nothing");
  const RunSummary s = run_sweep(c, run_options(path, false));
  EXPECT_FALSE(s.interrupted);
  EXPECT_EQ(s.failed, 6);  // the three slots of both problems; SGHMC's jobs run
  const Contents got = contents(path);
  for (std::size_t u = 0; u < 2; ++u) {
    EXPECT_EQ(got.calibrations.get<std::string>("status")[u], "done");
    EXPECT_EQ(got.calibrations.get<std::int64_t>("found")[u], 0);
    EXPECT_FALSE(got.calibrations.get<std::string>("why")[u].empty());
  }
  const auto& status = got.jobs.get<std::string>("status");
  const auto& message = got.jobs.get<std::string>("message");
  for (std::size_t j = 0; j < status.size(); ++j) {
    const bool calibrated = !got.jobs.get<std::string>("slot")[j].empty();
    EXPECT_EQ(status[j], calibrated ? "failed" : "done") << j;
    if (calibrated) {
      EXPECT_NE(message[j].find("calibration found no step size"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace llcb::sweep
