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
  }
}

TEST(DistributedSweep, AFailingJobIsRecordedAndTheOthersComplete) {
  const fs::path p = dir() / "fault.h5";
  fs::remove(p);
  EXPECT_EQ(wait_exit(start(mpi(3, sweep_args(p, false, {"--set", "test.fail_job=4"})))), 1);
  const llcb::store::Store s = llcb::store::Store::open(p, false);
  const auto jobs = s.table("jobs");
  const auto& status = jobs.get<std::string>("status");
  for (std::size_t i = 0; i < status.size(); ++i) {
    EXPECT_EQ(status[i], i == 4 ? "failed" : "done") << i;
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

TEST(DistributedSweep, AWorkerThatStopsAnsweringEndsTheRunWithAMessage) {
  const fs::path p = dir() / "hung.h5";
  fs::remove(p);
  const std::string log = (dir() / "hung.log").string();
  const pid_t launcher = start(mpi(3, sweep_args(p, false, {"--set", "chain.steps=200000", "--set",
                                                            "sweep.heartbeat_timeout=3"})), log);
  const auto ranks = wait_for_ranks(launcher, 3, 1000);
  ASSERT_EQ(ranks.size(), 3u);
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

}  // namespace
