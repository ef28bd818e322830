// Sweeps under mpiexec, as users launch them: the same store contents with 1, 2, 3 and 4 ranks as
// in a single process (bit for bit); a failing job is recorded and the rest complete; SIGKILL of a
// worker or of rank 0 brings the run down and --resume completes it with nothing lost; SIGTERM to
// the ranks, or to mpirun through tools/mpirun-sweep.sh, exits 3 with a resumable store; a worker
// that stops answering ends the run with a message instead of a hang. mpiexec gets the flags containers need (running as root,
// oversubscription) on its command line.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/sweep_process.hpp"

namespace {

namespace fs = std::filesystem;
using llcb::testing::expect_same_results;
using llcb::testing::Snapshot;
using llcb::testing::snapshot;
using llcb::testing::start;
using llcb::testing::wait_exit;
using llcb::testing::wait_for_a_finished_job;

using llcb::testing::kSmallSweep;

fs::path dir() { return llcb::testing::sweep_dir(kSmallSweep); }

std::vector<std::string> sweep_args(const fs::path& store, bool resume,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a = {LLCB_BINARY, "sweep", (dir() / "sweep.ini").string(), "--store",
                                store.string()};
  if (resume) a.push_back("--resume");
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::vector<std::string> mpi(int np, std::vector<std::string> args) {
  args.insert(args.begin(), {LLCB_MPIEXEC, "--allow-run-as-root", "--oversubscribe", "--mca", "pml",
                             "ob1", "--mca", "btl", "self,vader", "-x", "OPENBLAS_NUM_THREADS=1",
                             "-np", std::to_string(np)});
  return args;
}

const Snapshot& reference() {  // a single process, no MPI at all
  static const Snapshot ref = [] {
    const fs::path p = dir() / "reference.h5";
    fs::remove(p);
    EXPECT_EQ(wait_exit(start(sweep_args(p, false))), 0);
    return snapshot(p);
  }();
  return ref;
}

// The llcbench processes mpiexec started, with their world ranks (from their environment).
std::vector<std::pair<pid_t, int>> ranks_of(pid_t launcher) {
  std::vector<std::pair<pid_t, int>> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // /proc/PID/stat is "pid (comm) state ppid ...", and comm may contain spaces or ')'.
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;  // gone meanwhile
    const std::string comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    long ppid = -1;
    rest >> state >> ppid;
    if (ppid != launcher || comm != "llcbench") continue;
    const std::string pid = name;
    std::ifstream env(entry.path() / "environ");
    std::string var;
    while (std::getline(env, var, '\0')) {
      if (var.rfind("OMPI_COMM_WORLD_RANK=", 0) == 0) out.emplace_back(std::stoi(pid), std::stoi(var.substr(21)));
    }
  }
  return out;
}

// Waits until mpiexec has started all np ranks (and they have had time to start working).
std::vector<std::pair<pid_t, int>> wait_for_ranks(pid_t launcher, std::size_t np, int settle_ms) {
  for (int i = 0; i < 200; ++i) {
    auto r = ranks_of(launcher);
    if (r.size() == np) {
      std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

TEST(DistributedSweep, SameResultsWithOneToFourRanks) {
  const Snapshot& ref = reference();
  ASSERT_EQ(ref.ids.size(), 15u);
  for (int np = 1; np <= 4; ++np) {
    const fs::path p = dir() / ("np" + std::to_string(np) + ".h5");
    fs::remove(p);
    EXPECT_EQ(wait_exit(start(mpi(np, sweep_args(p, false)))), 0) << np << " ranks";
    expect_same_results(snapshot(p), ref);
    // The store says how many ranks wrote it (a sweep, then its reduce inside the same session).
    const std::string sessions = llcb::store::Store::open(p, false).sessions();
    EXPECT_NE(sessions.find(" sweep ranks=" + std::to_string(np) + " host="), std::string::npos) << sessions;
    EXPECT_EQ(std::count(sessions.begin(), sessions.end(), '\n'), 1) << sessions;
  }
}

TEST(DistributedSweep, BundlesGiveTheSameResults) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / "bundled.h5";
  fs::remove(p);
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, false, {"--set", "sweep.bundle=3"})))), 0);
  expect_same_results(snapshot(p), ref);
}

TEST(DistributedSweep, AFailingJobIsRecordedAndTheOthersComplete) {
  const fs::path p = dir() / "fault.h5";
  fs::remove(p);
  // In a bundle with jobs 3 and 5 (SGLD of problem 1): the fault stays with job 4.
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, false, {"--set", "test.fail_job=4", "--set",
                                                         "sweep.bundle=3"})))),
            1);
  const llcb::store::Store s = llcb::store::Store::open(p, false);
  const auto jobs = s.table("jobs");
  const auto& status = jobs.get<std::string>("status");
  for (std::size_t i = 0; i < status.size(); ++i) {
    EXPECT_EQ(status[i], i == 4 ? "failed" : "done") << i;
    // What ran each job travels from its worker to the store.
    EXPECT_EQ(jobs.get<std::string>("backend")[i], "cpu") << i;
    EXPECT_EQ(jobs.get<std::string>("precision")[i], "fp32") << i;
  }
  EXPECT_NE(jobs.get<std::string>("message")[4].find("injected fault"), std::string::npos);
}

void kill_rank_then_resume(bool kill_rank0) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / (kill_rank0 ? "kill0.h5" : "killw.h5");
  fs::remove(p);
  const pid_t launcher = start(mpi(3, sweep_args(p, false)));
  const auto ranks = wait_for_ranks(launcher, 3, 0);
  ASSERT_EQ(ranks.size(), 3u);
  ASSERT_TRUE(wait_for_a_finished_job(p));
  for (const auto& [pid, rank] : ranks) {
    if ((rank == 0) == kill_rank0) {
      kill(pid, SIGKILL);
      break;
    }
  }
  EXPECT_NE(wait_exit(launcher), 0);  // OpenMPI brings the whole run down
  ASSERT_TRUE(fs::exists(p));
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, true)))), 0);
  expect_same_results(snapshot(p), ref);
}

// SGLD calibrated on each problem (docs/calibration.md "In a sweep"), SGHMC at its fixed sizes.
const std::vector<std::string> kCalibrate = {"--set", "sgld.step_sizes=calibrate", "--set",
                                             "calibrate.grid=1e-8:1e-4:1", "--set", "calibrate.steps=1500",
                                             "--set", "calibrate.chains=2"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// The calibrations of a store: every cell of /calibrations a calibration decides, and its traces.
struct Calibrations {
  std::vector<std::string> status, detail;
  std::vector<double> step;
  std::vector<std::vector<float>> traces;
};

Calibrations calibrations(const fs::path& p) {
  const llcb::store::Store s = llcb::store::Store::open(p, false);
  const llcb::store::Table t = s.table("calibrations");
  Calibrations c{t.get<std::string>("status"), t.get<std::string>("detail"), t.get<double>("step_size"), {}};
  for (std::size_t u = 0; u < t.rows(); ++u) c.traces.push_back(s.calibration_trace(static_cast<std::int64_t>(u)));
  return c;
}

void expect_same_calibrations(const Calibrations& got, const Calibrations& want) {
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.detail, want.detail);
  ASSERT_EQ(got.step.size(), want.step.size());  // bit for bit (NaN where none was found)
  EXPECT_EQ(std::memcmp(got.step.data(), want.step.data(), sizeof(double) * want.step.size()), 0);
  ASSERT_EQ(got.traces.size(), want.traces.size());
  for (std::size_t u = 0; u < want.traces.size(); ++u) {
    ASSERT_EQ(got.traces[u].size(), want.traces[u].size());
    EXPECT_EQ(std::memcmp(got.traces[u].data(), want.traces[u].data(), 4 * want.traces[u].size()), 0) << u;
  }
}

TEST(DistributedSweep, CalibratedSweepsAreTheSameWithAnyRankCountAndAfterAKilledRankZero) {
  // Whether every calibration finds a step size depends on its chains (short ones here): a
  // calibration without one fails its slots and the sweep exits 1. Every run must end the same.
  const fs::path one = dir() / "calibrated1.h5";
  fs::remove(one);
  const int rc = wait_exit(start(with(sweep_args(one, false), kCalibrate)));
  ASSERT_TRUE(rc == 0 || rc == 1) << rc;
  const Snapshot ref = snapshot(one);
  const Calibrations want = calibrations(one);
  ASSERT_EQ(want.status, (std::vector<std::string>{"done", "done", "done"}));
  ASSERT_TRUE(std::any_of(want.step.begin(), want.step.end(), [](double s) { return std::isfinite(s); }))
      << "no calibration found a step size: the test would compare nothing run at a chosen one";
  for (const auto& [np, bundle] : {std::pair{2, "1"}, std::pair{4, "3"}}) {
    const fs::path p = dir() / ("calibrated-np" + std::to_string(np) + ".h5");
    fs::remove(p);
    EXPECT_EQ(wait_exit(start(mpi(np, with(sweep_args(p, false, {"--set", std::string("sweep.bundle=") + bundle}),
                                           kCalibrate)))), rc) << np;
    expect_same_results(snapshot(p), ref);
    expect_same_calibrations(calibrations(p), want);
  }
  // Rank 0 killed once a calibration is recorded: the resume calibrates only what is missing.
  const fs::path p = dir() / "calibrated-kill0.h5";
  fs::remove(p);
  const pid_t launcher = start(mpi(3, with(sweep_args(p, false, {"--set", "test.write_pause=0.05"}), kCalibrate)));
  const auto ranks = wait_for_ranks(launcher, 3, 0);
  ASSERT_EQ(ranks.size(), 3u);
  ASSERT_TRUE(llcb::testing::wait_for_a_done_row(p, "calibrations"));
  for (const auto& [pid, rank] : ranks) {
    if (rank == 0) kill(pid, SIGKILL);
  }
  EXPECT_NE(wait_exit(launcher), 0);
  EXPECT_EQ(wait_exit(start(mpi(3, with(sweep_args(p, true, {"--set", "test.write_pause=0.05"}), kCalibrate)))), rc);
  expect_same_results(snapshot(p), ref);
  expect_same_calibrations(calibrations(p), want);
}

TEST(DistributedSweep, SigkillOfAWorkerThenResumeLosesNothing) { kill_rank_then_resume(false); }
TEST(DistributedSweep, SigkillOfRankZeroThenResumeLosesNothing) { kill_rank_then_resume(true); }

TEST(DistributedSweep, SigtermToTheRanksExits3AndTheStoreResumes) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / "term.h5";
  fs::remove(p);
  const std::string cfg = (dir() / "sweep.ini").string();
  // Longer chains so that the signal lands mid-sweep.
  const pid_t launcher = start(mpi(3, sweep_args(p, false, {"--set", "chain.steps=20000"})));
  const auto ranks = wait_for_ranks(launcher, 3, 0);
  ASSERT_EQ(ranks.size(), 3u);
  ASSERT_TRUE(wait_for_a_finished_job(p));
  for (const auto& [pid, rank] : ranks) kill(pid, SIGTERM);  // what Slurm does at a time limit
  EXPECT_EQ(wait_exit(launcher), 3);
  const Snapshot partial = snapshot(p);
  EXPECT_NE(std::count(partial.status.begin(), partial.status.end(), "pending"), 0);
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, true, {"--set", "chain.steps=20000"})))), 0);
  for (const auto& s : snapshot(p).status) EXPECT_EQ(s, "done");
  (void)ref;
}

TEST(DistributedSweep, SigtermToMpirunThroughTheWrapperExits3AndTheStoreResumes) {
  // mpirun forwards SIGTERM to the ranks (then SIGKILLs what is left a few seconds later); the
  // ranks stop cleanly, but mpirun reports its own status (1 in Open MPI 4.1), not theirs.
  // tools/mpirun-sweep.sh forwards the signal and turns that into the sweep's verdict: 3.
  const fs::path p = dir() / "term_mpirun.h5";
  fs::remove(p);
  setenv("MPIRUN", LLCB_MPIEXEC, 1);
  setenv("LLCBENCH", LLCB_BINARY, 1);
  std::vector<std::string> argv = mpi(3, sweep_args(p, false, {"--set", "chain.steps=20000"}));
  argv[0] = LLCB_SOURCE_DIR "/tools/mpirun-sweep.sh";                 // mpiexec's place ...
  const auto binary = std::find(argv.begin(), argv.end(), std::string(LLCB_BINARY));
  ASSERT_NE(binary, argv.end());
  *binary = "--";                                                     // ... and the binary's
  argv.erase(binary + 1);                                             // "sweep" goes too
  const pid_t wrapper = start(argv);
  ASSERT_TRUE(wait_for_a_finished_job(p));
  kill(wrapper, SIGTERM);
  EXPECT_EQ(wait_exit(wrapper), 3);
  const Snapshot partial = snapshot(p);  // opens as is
  EXPECT_NE(std::count(partial.status.begin(), partial.status.end(), "done"), 0);
  EXPECT_NE(std::count(partial.status.begin(), partial.status.end(), "pending"), 0);
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, true, {"--set", "chain.steps=20000"})))), 0);
  for (const auto& st : snapshot(p).status) EXPECT_EQ(st, "done");
}

TEST(DistributedSweep, RunningJobsStreamTheirTraceIntoTheStore) {
  const fs::path p = dir() / "live.h5";
  fs::remove(p);
  const pid_t launcher = start(mpi(2, sweep_args(p, false, {"--set", "chain.steps=2000000"})));
  const auto ranks = wait_for_ranks(launcher, 2, 1000);
  ASSERT_EQ(ranks.size(), 2u);
  std::size_t rows = 0, chains = 0, finite = 0;
  std::int64_t every = 0;
  std::string status;
  // Poll until the streamed rows show up (chunks every second, flushed at most every 2 s; a
  // loaded machine is slower). A read can race one of rank 0's flushes (no SWMR): a failed read
  // is retried, as `llcbench query` does.
  for (int attempt = 0; attempt < 120 && finite <= 100; ++attempt) {
    try {
      const llcb::store::Store s = llcb::store::Store::open(p, false);
      status = s.table("jobs").get<std::string>("status")[0];
      finite = 0;
      for (float v : s.trace_row(0, rows, chains, every)) finite += std::isfinite(v);
    } catch (const std::exception&) {
    }
    if (finite <= 100) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  for (const auto& [pid, rank] : ranks) kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(launcher), 3);
  EXPECT_EQ(status, "pending");   // still running when read ...
  EXPECT_GT(finite, 100u);        // ... yet its first losses are already in the store
  EXPECT_LT(finite, rows * chains);
}

// True once `jobs` job rows of the store at p hold streamed (finite) loss values; polls for up to
// a minute. A read can race one of rank 0's flushes (no SWMR): a failed read is retried.
bool wait_for_streaming_jobs(const fs::path& p, std::size_t jobs) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      const llcb::store::Store s = llcb::store::Store::open(p, false);
      const std::size_t n = s.table("jobs").rows();
      std::size_t streaming = 0, rows = 0, chains = 0;
      std::int64_t every = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const auto trace = s.trace_row(static_cast<std::int64_t>(j), rows, chains, every);
        streaming += std::any_of(trace.begin(), trace.end(), [](float v) { return std::isfinite(v); });
      }
      if (streaming >= jobs) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(DistributedSweep, AWorkerThatStopsAnsweringEndsTheRunWithAMessage) {
  const fs::path p = dir() / "hung.h5";
  fs::remove(p);
  const std::string log = (dir() / "hung.log").string();
  const pid_t launcher = start(mpi(3, sweep_args(p, false, {"--set", "chain.steps=200000", "--set",
                                                            "sweep.heartbeat_timeout=3"})), log);
  const auto ranks = wait_for_ranks(launcher, 3, 0);
  ASSERT_EQ(ranks.size(), 3u);
  // Both workers must be inside their chains (past the start-up collectives) when rank 1 stops:
  // wait until two jobs stream trace rows into the store.
  ASSERT_TRUE(wait_for_streaming_jobs(p, 2));
  pid_t stopped = 0;
  for (const auto& [pid, rank] : ranks) {
    if (rank == 1) {
      stopped = pid;
      kill(pid, SIGSTOP);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const int code = wait_exit(launcher);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stopped) kill(stopped, SIGKILL);
  EXPECT_NE(code, 0);
  EXPECT_LT(seconds, 60);  // ended by the heartbeat timeout, not by a hang
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("stopped answering"), std::string::npos) << ss.str();
}

// ---- Chain groups (ranks_per_chain = G): G worker ranks run one chain together. ----

// One job row of a store, with its trace.
struct JobRow {
  std::string id, status, message;
  std::int64_t problem = 0, ranks = 1, diverged = 0;
  std::string sampler;
  double step = 0, lambda = 0;
  std::vector<float> trace;
};

std::vector<JobRow> job_rows(const fs::path& p) {
  const llcb::store::Store s = llcb::store::Store::open(p, false);
  const auto t = s.table("jobs");
  std::vector<JobRow> rows;
  for (std::size_t i = 0; i < t.rows(); ++i) {
    JobRow r;
    r.id = t.get<std::string>("job_id")[i];
    r.status = t.get<std::string>("status")[i];
    r.message = t.get<std::string>("message")[i];
    r.problem = t.get<std::int64_t>("problem_index")[i];
    r.ranks = t.get<std::int64_t>("ranks_per_chain")[i];
    r.diverged = t.get<std::int64_t>("diverged")[i];
    r.sampler = t.get<std::string>("sampler")[i];
    r.step = t.get<double>("step_size")[i];
    r.lambda = t.get<double>("lambda_hat")[i];
    std::size_t n = 0, chains = 0;
    std::int64_t every = 0;
    if (r.status == "done") r.trace = s.trace(r.id, n, chains, every);
    rows.push_back(std::move(r));
  }
  return rows;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {  // NaN included
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), 4 * a.size()) == 0;
}

// A group's chain is the single rank's chain (same data and noise) up to the order in which the
// minibatch's gradient is summed: the members' partial sums are added after each member summed
// its rows, which changes each step's gradient by about 1e-7 relative (fp32 rounding), and the
// chain carries that along. Measured on these tiny problems over 20,000 steps: traces within
// 6e-5 relative, lambda_hat within 4e-6. The bounds leave a margin of more than 10x.
constexpr double kTraceTolerance = 1e-3;
constexpr double kLambdaTolerance = 1e-4;

void expect_group_matches_single(const JobRow& group, const JobRow& single) {
  const std::string what = single.sampler + " step " + std::to_string(single.step) + " problem " +
                           std::to_string(single.problem) + " G=" + std::to_string(group.ranks);
  ASSERT_EQ(group.status, "done") << what << ": " << group.message;
  EXPECT_EQ(group.diverged, single.diverged) << what;
  ASSERT_EQ(group.trace.size(), single.trace.size()) << what;
  double worst = 0;
  for (std::size_t t = 1; t < single.trace.size(); ++t) {  // t = 0: rounding noise around 0
    const double a = single.trace[t], b = group.trace[t];
    if (!std::isfinite(a) || !std::isfinite(b)) continue;  // after a divergence
    worst = std::max(worst, std::abs(a - b) / std::abs(a));
  }
  EXPECT_LT(worst, kTraceTolerance) << what;
  if (!single.diverged) {
    EXPECT_NEAR(group.lambda, single.lambda, kLambdaTolerance * std::abs(single.lambda)) << what;
  }
}

TEST(ChainGroups, GroupsOfTwoAndThreeRunTheSingleRankChain) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / "groups123.h5";
  fs::remove(p);
  EXPECT_EQ(wait_exit(start(mpi(4, sweep_args(p, false, {"--set", "chain.ranks_per_chain=1,2,3"})))), 0);
  const auto rows = job_rows(p);
  ASSERT_EQ(rows.size(), 3 * ref.ids.size());
  for (std::size_t i = 0; i < rows.size(); i += 3) {
    ASSERT_EQ(rows[i].ranks, 1);
    // G = 1 jobs keep their ids and results, bit for bit.
    const std::size_t r = static_cast<std::size_t>(
        std::find(ref.ids.begin(), ref.ids.end(), rows[i].id) - ref.ids.begin());
    ASSERT_LT(r, ref.ids.size()) << rows[i].id;
    EXPECT_TRUE(same_bits(rows[i].trace, ref.traces[r])) << rows[i].id;
    for (std::size_t k = 1; k <= 2; ++k) {
      EXPECT_EQ(rows[i + k].ranks, static_cast<std::int64_t>(k + 1));
      EXPECT_NE(rows[i + k].id, rows[i].id);
      expect_group_matches_single(rows[i + k], rows[i]);
    }
  }
}

TEST(ChainGroups, AMixOfSingleAndGroupJobsCompletesTheSameWhateverTheRankCount) {
  // Groups of 2 among single-rank jobs, with 2 and with 3 workers: every job completes, and
  // every job's result is the same bit for bit in both runs (a group of a given size is
  // deterministic wherever its members are).
  std::vector<std::vector<JobRow>> runs;
  for (int np : {3, 4}) {
    const fs::path p = dir() / ("mix" + std::to_string(np) + ".h5");
    fs::remove(p);
    EXPECT_EQ(wait_exit(start(mpi(np, sweep_args(p, false, {"--set", "chain.ranks_per_chain=1,2"})))), 0);
    runs.push_back(job_rows(p));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    EXPECT_EQ(runs[0][i].status, "done") << runs[0][i].message;
    EXPECT_EQ(runs[0][i].id, runs[1][i].id);
    EXPECT_TRUE(same_bits(runs[0][i].trace, runs[1][i].trace)) << runs[0][i].id;
    EXPECT_TRUE(runs[0][i].lambda == runs[1][i].lambda ||
                (std::isnan(runs[0][i].lambda) && std::isnan(runs[1][i].lambda)));
  }
}

TEST(ChainGroups, TheDriftCheckFailsAJobWhoseMembersDiverge) {
  const fs::path p = dir() / "drift.h5";
  fs::remove(p);
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, false, {"--set", "chain.ranks_per_chain=2", "--set",
                                                         "test.drift_at_step=10", "--set",
                                                         "chain.drift_check_every=50"})))),
            1);
  int failed = 0;
  for (const auto& r : job_rows(p)) {
    if (r.status == "done") {  // only a chain that diverged before the fault ends undisturbed
      EXPECT_EQ(r.diverged, 1) << r.id;
      continue;
    }
    ++failed;
    EXPECT_EQ(r.status, "failed") << r.id;
    EXPECT_NE(r.message.find("drifted apart by step 49"), std::string::npos) << r.message;
  }
  EXPECT_EQ(failed, 12);  // all but the 3 chains at SGLD 1e-4, which diverge at once
}

TEST(ChainGroups, SigtermStopsAGroupTogetherAndTheStoreResumes) {
  const fs::path p = dir() / "group_term.h5";
  fs::remove(p);
  const std::vector<std::string> extra = {"--set", "chain.ranks_per_chain=2", "--set", "chain.steps=20000"};
  const pid_t launcher = start(mpi(3, sweep_args(p, false, extra)));
  const auto ranks = wait_for_ranks(launcher, 3, 0);
  ASSERT_EQ(ranks.size(), 3u);
  ASSERT_TRUE(wait_for_a_finished_job(p));
  for (const auto& [pid, rank] : ranks) kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(launcher), 3);  // no member left waiting for the other
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, true, extra)))), 0);
  for (const auto& r : job_rows(p)) EXPECT_EQ(r.status, "done") << r.id;
}

TEST(ChainGroups, AGroupLargerThanTheWorkersIsAUsageError) {
  const fs::path p = dir() / "too_big.h5";
  fs::remove(p);
  EXPECT_EQ(wait_exit(start(mpi(2, sweep_args(p, false, {"--set", "chain.ranks_per_chain=2"})))), 2);
  EXPECT_FALSE(fs::exists(p));  // refused before the store was made
}

TEST(DistributedSweep, ASweepWhoseWorkersCannotStartCreatesNoStoreAndSaysWhyOnce) {
  // --backend cuda on a machine without a GPU (or a build without CUDA): every worker fails to
  // make its backend; rank 0 reports the first failure once, and nothing is written.
  const fs::path p = dir() / "no_gpu.h5";
  fs::remove(p);
  const fs::path log = dir() / "no_gpu.log";
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, false, {"--backend", "cuda", "--log-level", "error"})), log.string())), 2);
  EXPECT_FALSE(fs::exists(p));
  EXPECT_FALSE(fs::exists(p.string() + ".lock"));
  std::ifstream in(log);
  int errors = 0;
  for (std::string line; std::getline(in, line);) errors += line.rfind("llcbench sweep: error: ", 0) == 0;
  EXPECT_EQ(errors, 1);
}

// Rank 0 loses the store's lock (another process forced it) while two workers run long jobs:
// nothing they finish could be recorded, so rank 0 does not wait for them: it says so and ends
// the run (exit 3), the workers with it, and the store stays resumable.
TEST(DistributedSweep, ALostStoreLockEndsTheRunWithoutWaitingForRunningJobs) {
  const fs::path p = dir() / "lost_lock.h5";
  fs::remove(p);
  const fs::path log = dir() / "lost_lock.log";
  // 200000 steps: a job runs for many seconds, so both workers are inside one when the lock goes.
  const pid_t launcher = start(mpi(3, sweep_args(p, false, {"--set", "chain.steps=200000", "--log-level", "warn"})),
                               log.string());
  for (int i = 0; i < 600 && !fs::exists(p); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(p));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the workers have their jobs
  // Another process takes the lock over, as `--force-lock` does: a new lock file replaces the
  // writer's (atomically, by rename), and nothing else touches the store.
  const std::string lock = p.string() + ".lock";
  std::ofstream(lock + ".new") << "host=elsewhere\npid=1\nsince=0\nheartbeat=0\npurpose=repair\n";
  ASSERT_EQ(std::rename((lock + ".new").c_str(), lock.c_str()), 0);
  EXPECT_EQ(wait_exit(launcher), 3);
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("not waiting for the 2 running jobs"), std::string::npos) << text;
  EXPECT_NE(text.find("took the store's lock over"), std::string::npos) << text;
  const Snapshot s = snapshot(p);
  EXPECT_EQ(std::count(s.status.begin(), s.status.end(), "done"), 0) << "no job finished: the run did not wait";
  EXPECT_EQ(wait_exit(start({LLCB_BINARY, "status", p.string()})), 3);
}

}  // namespace
