// The writer's side of a sweep (SweepSession) against its store and journal: what a resume finds
// after a writer stopped between the journal and the HDF5 write, a writer whose lock is taken
// over, and a journal left by a store that is gone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "lib/backend/backend.hpp"
#include "lib/core/error.hpp"
#include "lib/store/journal.hpp"
#include "lib/store/lock.hpp"
#include "lib/store/store.hpp"
#include "lib/sweep/session.hpp"
#include "tests/support/sweep_process.hpp"

namespace llcb::sweep {
namespace {

namespace fs = std::filesystem;

const char* kTiny = R"(
[sweep]
samplers = sgld
[problems]
class = tiny
count = 1
[chain]
steps = 100
chains = 2
[sgld]
step_sizes = 1e-6, 1e-7
)";

// A fresh directory for one test's store.
std::string store_path(const std::string& name) { return testing::fresh_store_path("llcb_session", name); }

SessionOptions options(bool resume) {
  SessionOptions o;
  o.resume = resume;
  o.host = "test-host";
  return o;
}

store::JobResult result(const std::string& status, double lambda_hat) {
  store::JobResult r;
  r.status = status;
  r.lambda_hat = lambda_hat;
  r.divergence_reason = "none";
  return r;
}

std::vector<float> trace(const SweepConfig& c, float value) {
  const store::TraceShape t = trace_shape(c);
  return std::vector<float>(static_cast<std::size_t>(t.rows * t.chains), value);
}

std::string status_of(const std::string& path, std::int64_t row) {
  return store::Store::open(path, false).table("jobs").get<std::string>("status").at(static_cast<std::size_t>(row));
}

// A job that failed, then ran again on resume and finished, the writer killed after journaling
// the second outcome and before writing it into the store: the store still says "failed" (a row
// that verifies), and the resume must take the journal's later "done", not run the job again.
TEST(SweepSession, AResumeTakesTheJournalsLatestOutcomeOverAStaleRowThatVerifies) {
  const SweepConfig c = parse_config(kTiny, {});
  const std::string path = store_path("latest");
  std::string id;
  {
    SweepSession s(c, path, options(false));
    ASSERT_EQ(s.todo().size(), 2u);
    id = s.todo()[0]->id;
    EXPECT_TRUE(s.record(*s.todo()[0], result("failed", std::numeric_limits<double>::quiet_NaN()), {}, "h", "cpu"));
  }  // destroyed without finish(): as a killed writer leaves it (journal not closed cleanly)
  EXPECT_EQ(status_of(path, 0), "failed");
  {
    const store::StoreHeader h = store::Store::open(path, false).header();
    store::Journal j = store::Journal::open(path, h);
    store::JournalJob done{0, id, result("done", 3.5), trace(c, 1.25f)};
    done.result.finished = "2026-01-01T00:00:00Z";
    j.append_job(done);  // journaled; the store write never happened
  }
  SweepSession s(c, path, options(true));
  EXPECT_EQ(s.skipped(), 1) << "the job the journal has done is not run again";
  ASSERT_EQ(s.todo().size(), 1u);
  EXPECT_NE(s.todo()[0]->id, id);
  s.finish();
  EXPECT_EQ(status_of(path, 0), "done");
  const store::Store st = store::Store::open(path, false);
  const store::Store::StoredJob job = st.read_job(st.table("jobs"), 0);
  EXPECT_TRUE(job.verified);
  EXPECT_EQ(job.result.lambda_hat, 3.5);
  EXPECT_EQ(job.trace, trace(c, 1.25f));
}

// Another process takes the lock over (--force-lock): the writer must write nothing more, not
// even to the journal, and must say why.
TEST(SweepSession, AWriterWhoseLockIsTakenOverWritesNothingMore) {
  const SweepConfig c = parse_config(kTiny, {});
  const std::string path = store_path("lost");
  SweepSession s(c, path, options(false));
  const std::int64_t journaled = store::read_journal(path).jobs;
  const store::StoreLock thief = store::StoreLock::acquire(path, "repair", true);
  EXPECT_FALSE(s.record(*s.todo()[0], result("done", 2.0), trace(c, 1.0f), "h", "cpu"));
  EXPECT_NE(s.failed().find("took the store's lock over"), std::string::npos) << s.failed();
  EXPECT_FALSE(s.can_record());
  EXPECT_EQ(store::read_journal(path).jobs, journaled);
  EXPECT_EQ(status_of(path, 0), "pending");
  s.finish();
  EXPECT_TRUE(store::read_journal(path).dirty) << "the writer that lost its lock did not close the store";
}

// A store deleted while its journal lives: --resume rebuilds it from the journal; a new store of
// the same name (no --resume) sets the old journal aside instead of inheriting its jobs.
TEST(SweepSession, AJournalOutlivesItsStore) {
  const SweepConfig c = parse_config(kTiny, {});
  const std::string path = store_path("deleted");
  {
    SweepSession s(c, path, options(false));
    EXPECT_TRUE(s.record(*s.todo()[1], result("done", 2.0), trace(c, 0.5f), "h", "cpu"));
    s.finish();
  }
  fs::remove(path);
  {
    SweepSession s(c, path, options(true));
    EXPECT_EQ(s.skipped(), 1);
    s.finish();
  }
  EXPECT_EQ(status_of(path, 1), "done");
  // The rebuilt store lists both sessions: the journal keeps them, not the lost file.
  const std::string sessions = store::Store::open(path, false).sessions();
  EXPECT_EQ(std::count(sessions.begin(), sessions.end(), '\n'), 2) << sessions;
  EXPECT_NE(sessions.find(" sweep ranks=1 host=test-host pid="), std::string::npos) << sessions;
  fs::remove(path);
  SweepSession fresh(c, path, options(false));
  EXPECT_EQ(fresh.skipped(), 0);
  EXPECT_EQ(store::read_journal(path).jobs, 0);
  int aside = 0;
  for (const auto& f : fs::directory_iterator(fs::path(path).parent_path())) {
    aside += f.path().filename().string().rfind("s.h5.journal.orphan-", 0) == 0;
  }
  EXPECT_EQ(aside, 1);
}

// A backend whose every run throws `E`: what run_jobs makes of a backend's failure.
template <class E>
class ThrowingBackend final : public backend::Backend {
 public:
  std::string name() const override { return "throwing"; }
  backend::HardwareFloor measure_floor(int, int, double) override { return {}; }
  std::string hardware() const override { return "none"; }
  std::vector<estimator::ChainResult> run(const dln::Problem&, const backend::DataSpec&,
                                          std::span<const backend::ChainSpec>, const backend::TraceListener*,
                                          backend::ChainGroup*) override {
    ++runs;
    throw E("the device said no");
  }
  int runs = 0;
};

// A job's failure is data (a failed row, the sweep goes on); a device that can run nothing more
// is not the job's failure: run_jobs lets DeviceLostError through, so the worker ends instead of
// failing every later job on a dead device.
TEST(RunJobs, AFailingRunFailsItsJobsButALostDeviceEndsTheWorker) {
  const SweepConfig c = parse_config(kTiny, {});
  const std::vector<Job> grid = make_grid(c);
  const dln::Problem problem = make_problem(c, 0);
  const std::vector<const Job*> jobs{&grid[0]};
  ThrowingBackend<RuntimeError> failing;
  const std::vector<JobOutcome> out = run_jobs(c, jobs, problem, failing);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].result.status, "failed");
  EXPECT_NE(out[0].result.message.find("the device said no"), std::string::npos) << out[0].result.message;
  ThrowingBackend<DeviceLostError> lost;
  EXPECT_THROW(run_jobs(c, jobs, problem, lost), DeviceLostError);
  EXPECT_EQ(lost.runs, 1);
}

}  // namespace
}  // namespace llcb::sweep
