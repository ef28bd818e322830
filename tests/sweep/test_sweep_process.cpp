// Whole sweeps as users run them: SIGKILL at several moments then --resume gives the results of
// an uninterrupted run (estimates bit for bit, identical traces, no job lost or duplicated);
// SIGTERM exits 3 with a resumable store; the store can be queried while a sweep writes it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "lib/store/lock.hpp"
#include "tests/support/sweep_process.hpp"

namespace {

namespace fs = std::filesystem;

using llcb::testing::kSmallSweep;

fs::path dir() { return llcb::testing::sweep_dir(kSmallSweep); }

pid_t start_sweep(const fs::path& store, bool resume) {
  std::vector<std::string> argv = {LLCB_BINARY, "sweep", (dir() / "sweep.ini").string(), "--store",
                                   store.string()};
  if (resume) argv.push_back("--resume");
  return llcb::testing::start(argv);
}

using llcb::testing::expect_same_results;
using llcb::testing::Snapshot;
using llcb::testing::snapshot;
using llcb::testing::wait_exit;

// Exit code of `llcbench status STORE` (output discarded).
int status_code(const fs::path& store) {
  return wait_exit(llcb::testing::start({LLCB_BINARY, "status", store.string()}));
}

const Snapshot& reference() {
  static const Snapshot ref = [] {
    const fs::path p = dir() / "reference.h5";
    fs::remove(p);
    EXPECT_EQ(wait_exit(start_sweep(p, false)), 0);
    return snapshot(p);
  }();
  return ref;
}

TEST(SweepProcess, KilledWithSigkillAtSeveralMomentsThenResumedEqualsAnUninterruptedRun) {
  const Snapshot& ref = reference();
  ASSERT_EQ(ref.ids.size(), 15u);
  const fs::path p = dir() / "killed.h5";
  fs::remove(p);
  // Kill moments spread over the run (the whole sweep takes about 2 s here); each kill lands in a
  // different phase: store creation, mid-chain, between jobs.
  const int delays_ms[] = {60, 350, 700, 1100};
  bool first = true;
  std::size_t done_before = 0;
  for (const int ms : delays_ms) {
    const pid_t pid = start_sweep(p, !first);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    kill(pid, SIGKILL);
    wait_exit(pid);
    if (fs::exists(p)) {
      first = false;
      std::optional<Snapshot> read;
      try {
        read = snapshot(p);  // opens as is, no repair
      } catch (const llcb::Error& e) {
        // A kill between a row and the flush of its strings' heap leaves a string the file does
        // not hold: the store reads as damaged (never as another string), and the next resume
        // rebuilds it from its journal.
        EXPECT_NE(std::string(e.what()).find("referring to a string the file does not hold"), std::string::npos)
            << e.what();
        continue;
      }
      const Snapshot& s = *read;
      std::size_t done = 0;
      for (std::size_t i = 0; i < s.ids.size(); ++i) {
        if (s.status[i] != "done") continue;
        ++done;
        EXPECT_EQ(s.lambda[i], ref.lambda[i]) << "a job marked done must be complete";
      }
      EXPECT_GE(done, done_before) << "no completed job may be lost";
      done_before = done;
    }
  }
  EXPECT_EQ(wait_exit(start_sweep(p, !first)), 0);
  expect_same_results(snapshot(p), ref);
}

TEST(SweepProcess, SigtermExitsWith3AndTheStoreResumes) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / "term.h5";
  fs::remove(p);
  const pid_t pid = start_sweep(p, false);
  ASSERT_TRUE(llcb::testing::wait_for_a_finished_job(p));
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 3);
  const Snapshot partial = snapshot(p);
  EXPECT_NE(std::count(partial.status.begin(), partial.status.end(), "pending"), 0);
  EXPECT_EQ(status_code(p), 3) << "llcbench status: pending jobs mean interrupted";
  EXPECT_EQ(wait_exit(start_sweep(p, true)), 0);
  expect_same_results(snapshot(p), ref);
  EXPECT_EQ(status_code(p), 0) << "llcbench status: every job done";
}

TEST(SweepProcess, StatusSaysFailedWhenNothingIsPendingButAJobFailed) {
  const fs::path p = dir() / "fault.h5";
  fs::remove(p);
  std::vector<std::string> argv = {LLCB_BINARY, "sweep", (dir() / "sweep.ini").string(), "--store",
                                   p.string(), "--set", "test.fail_job=2"};
  EXPECT_EQ(wait_exit(llcb::testing::start(argv)), 1);
  EXPECT_EQ(status_code(p), 1);
  const fs::path out = dir() / "status.json";
  const std::string cmd = std::string(LLCB_BINARY) + " status " + p.string() + " --json > " + out.string();
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 1);
  std::ifstream in(out);
  std::string json;
  std::getline(in, json);
  EXPECT_EQ(json.rfind(R"({"state":"finished","jobs":15,"done":14,"failed":1,"pending":0,"running":false,)", 0), 0u)
      << json;
  EXPECT_NE(json.find(R"("closed_cleanly":true,"damage":"","journal_jobs":15,"exit_code":1})"), std::string::npos)
      << json;
}

TEST(SweepProcess, BundledJobsGiveTheSameStoreBitForBit) {
  // sweep.bundle = 4: jobs of one problem and sampler run in one backend call (one after another
  // on the CPU, together on a GPU); the results must not depend on it.
  const Snapshot& ref = reference();
  const fs::path p = dir() / "bundled.h5";
  fs::remove(p);
  std::vector<std::string> argv = {LLCB_BINARY, "sweep", (dir() / "sweep.ini").string(), "--store",
                                   p.string(), "--set", "sweep.bundle=4"};
  EXPECT_EQ(wait_exit(llcb::testing::start(argv)), 0);
  expect_same_results(snapshot(p), ref);
}

TEST(SweepProcess, StoreIsReadableWhileASweepWritesIt) {
  const fs::path p = dir() / "live.h5";
  fs::remove(p);
  const pid_t pid = start_sweep(p, false);
  int reads = 0;
  for (int i = 0; i < 40 && reads < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(p)) continue;
    const std::string cmd = std::string(LLCB_BINARY) + " query " + p.string() +
                            " jobs --format csv --columns job_id,status > /dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "query during the sweep failed";
    ++reads;
  }
  EXPECT_GE(reads, 3);
  EXPECT_EQ(wait_exit(pid), 0);
}

TEST(SweepProcess, ExistingStoreIsNeverOverwrittenAndAChangedConfigIsRefused) {
  reference();
  const fs::path p = dir() / "reference.h5";
  const auto size = fs::file_size(p);
  EXPECT_EQ(wait_exit(start_sweep(p, false)), 2);
  EXPECT_EQ(fs::file_size(p), size);
  const std::string cmd = std::string(LLCB_BINARY) + " sweep " + (dir() / "sweep.ini").string() +
                          " --store " + p.string() + " --resume --set chain.steps=100 2> " +
                          (dir() / "err.txt").string();
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2);
  std::ifstream err(dir() / "err.txt");
  std::string line, error;
  int errors = 0;
  while (std::getline(err, line)) {
    if (line.rfind("llcbench sweep: error: ", 0) == 0) {
      error = line;
      ++errors;
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_NE(error.find("chain.steps: '3000' -> '100'"), std::string::npos) << error;
}

TEST(SweepProcess, ForceConfigContinuesAStoreWhoseJobsAreUnchanged) {
  reference();
  const fs::path p = dir() / "reference.h5";
  const std::string base = std::string(LLCB_BINARY) + " sweep " + (dir() / "sweep.ini").string() +
                           " --store " + p.string() + " --resume --log-level error ";
  // sweep.name is part of the config identity but not of any job: refused, then forced.
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--set sweep.name=renamed >/dev/null 2>&1").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--set sweep.name=renamed --force-config >/dev/null 2>&1").c_str())), 0);
  // A change that alters the jobs cannot be forced into this store.
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--set chain.steps=100 --force-config >/dev/null 2>&1").c_str())), 2);
  expect_same_results(snapshot(p), reference());
}

// Runs argv with stdout and stderr to `log`, its files limited to `max_bytes` each (the store and
// its journal cannot grow past it: writes fail with EFBIG, as they fail with ENOSPC on a full
// disk); SIGXFSZ is ignored so that the write fails rather than the process dying.
pid_t start_limited(const std::vector<std::string>& argv, rlim_t max_bytes, const fs::path& log) {
  return llcb::testing::start(argv, log.string(), [max_bytes] {
    const struct rlimit limit = {max_bytes, max_bytes};
    setrlimit(RLIMIT_FSIZE, &limit);
    signal(SIGXFSZ, SIG_IGN);
  });
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// A config forced onto a store whose jobs it does not have is refused before anything is written:
// the store and its journal stay byte for byte as they were, closed cleanly, and the error names
// what changed.
TEST(SweepProcess, ARefusedForcedConfigLeavesTheStoreUntouched) {
  reference();
  const fs::path p = dir() / "forced_copy.h5";
  const fs::path j = dir() / "forced_copy.h5.journal";
  fs::copy_file(dir() / "reference.h5", p, fs::copy_options::overwrite_existing);
  fs::copy_file(dir() / "reference.h5.journal", j, fs::copy_options::overwrite_existing);
  const std::string store = slurp(p), journal = slurp(j);
  const fs::path err = dir() / "forced_err.txt";
  for (const std::string set : {"chain.steps=100", "problems.count=4"}) {
    const std::string cmd = std::string(LLCB_BINARY) + " sweep " + (dir() / "sweep.ini").string() + " --store " +
                            p.string() + " --resume --force-config --set " + set + " 2> " + err.string();
    EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2) << set;
    const std::string text = slurp(err);
    EXPECT_NE(text.find("of this config are not in store"), std::string::npos) << text;
    EXPECT_NE(text.find("the config changed: " + set.substr(0, set.find('='))), std::string::npos) << text;
    EXPECT_TRUE(slurp(p) == store) << set << ": the store changed";
    EXPECT_TRUE(slurp(j) == journal) << set << ": the journal changed";
  }
  EXPECT_EQ(wait_exit(llcb::testing::start({LLCB_BINARY, "reduce", p.string()})), 0) << "still closed cleanly";
  // A store that is gone while its journal lives: refused from the journal's config, before the
  // journal is touched or a store rebuilt.
  fs::remove(p);
  const std::string kept = slurp(j);
  const std::string cmd = std::string(LLCB_BINARY) + " sweep " + (dir() / "sweep.ini").string() + " --store " +
                          p.string() + " --resume --force-config --set problems.count=4 2> " + err.string();
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2);
  EXPECT_NE(slurp(err).find("of this config are not in store"), std::string::npos) << slurp(err);
  EXPECT_FALSE(fs::exists(p)) << "no store rebuilt";
  EXPECT_TRUE(slurp(j) == kept) << "the journal changed";
}

// reduce decides before it takes the lock: during a sweep it is refused naming the writer, which
// keeps its lock and finishes; on a store whose writer was killed it is refused as not closed
// cleanly, leaving the dead writer's lock for the resume to take over.
TEST(SweepProcess, AReducePutsNoLockAtRisk) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / "reduce_lock.h5";
  fs::remove(p);
  const fs::path err = dir() / "reduce_lock_err.txt";
  const std::string reduce = std::string(LLCB_BINARY) + " reduce " + p.string() + " 2> " + err.string();
  const pid_t live = start_sweep(p, false);
  ASSERT_TRUE(llcb::testing::wait_for_a_finished_job(p));
  EXPECT_EQ(WEXITSTATUS(std::system(reduce.c_str())), 2);
  EXPECT_NE(slurp(err).find("is being written by pid " + std::to_string(live)), std::string::npos) << slurp(err);
  EXPECT_EQ(slurp(err).find("--force-lock"), std::string::npos) << "reduce has no --force-lock: " << slurp(err);
  EXPECT_EQ(llcb::store::read_lock(p.string()).pid, live) << "the sweep keeps its lock";
  EXPECT_EQ(wait_exit(live), 0);
  expect_same_results(snapshot(p), ref);

  fs::remove(p);
  const pid_t killed = start_sweep(p, false);
  ASSERT_TRUE(llcb::testing::wait_for_a_finished_job(p));
  kill(killed, SIGKILL);
  EXPECT_EQ(wait_exit(killed), 128 + SIGKILL);
  EXPECT_EQ(WEXITSTATUS(std::system(reduce.c_str())), 2);
  EXPECT_NE(slurp(err).find("was not closed cleanly"), std::string::npos) << slurp(err);
  EXPECT_EQ(slurp(err).find("taking over"), std::string::npos) << "no lock taken to refuse: " << slurp(err);
  EXPECT_EQ(llcb::store::read_lock(p.string()).pid, killed) << "the dead writer's lock is left for the resume";
  EXPECT_EQ(wait_exit(start_sweep(p, true)), 0);
  expect_same_results(snapshot(p), ref);
}

TEST(SweepProcess, AStoreThatCannotGrowStopsTheSweepAndTheResumeRepairsItLosingNothing) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / "full_disk.h5";
  fs::remove(p);
  fs::remove(p.string() + ".journal");
  // 60 kB: room for the new store (about 40 kB) and a few finished jobs, not for the whole sweep
  // (about 105 kB).
  const std::vector<std::string> argv = {LLCB_BINARY, "sweep", (dir() / "sweep.ini").string(), "--store",
                                         p.string(), "--log-level", "error"};
  EXPECT_EQ(wait_exit(start_limited(argv, 60 << 10, dir() / "full_disk.log")), 3);
  const std::string err = slurp(dir() / "full_disk.log");
  EXPECT_NE(err.find("the store could no longer be written"), std::string::npos) << err;
  EXPECT_NE(err.find("rerun with --resume, which repairs the store"), std::string::npos) << err;
  EXPECT_EQ(status_code(p), 3);
  EXPECT_EQ(wait_exit(start_sweep(p, true)), 0);
  expect_same_results(snapshot(p), ref);  // every job that finished before the disk filled is kept
  // Each job journaled once: none that was recorded ran again.
  EXPECT_EQ(llcb::store::read_journal(p.string()).jobs, 15);
}

TEST(SweepProcess, ATruncatedStoreIsRebuiltFromItsJournal) {
  const Snapshot& ref = reference();
  const fs::path p = dir() / "cut.h5";
  fs::remove(p);
  const pid_t pid = start_sweep(p, false);
  ASSERT_TRUE(llcb::testing::wait_for_a_finished_job(p));
  kill(pid, SIGKILL);
  wait_exit(pid);
  fs::resize_file(p, fs::file_size(p) / 3);  // a file cut short
  const std::string cmd = std::string(LLCB_BINARY) + " sweep " + (dir() / "sweep.ini").string() +
                          " --store " + p.string() + " --resume --log-level warn > /dev/null 2> " +
                          (dir() / "cut.log").string();
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  const std::string err = slurp(dir() / "cut.log");
  EXPECT_NE(err.find("rebuilding it from its config and journal"), std::string::npos) << err;
  expect_same_results(snapshot(p), ref);
  int damaged = 0;
  for (const auto& f : fs::directory_iterator(dir())) {
    damaged += f.path().filename().string().rfind("cut.h5.damaged-", 0) == 0;
  }
  EXPECT_EQ(damaged, 1) << "the damaged file is kept beside the rebuilt store";
  // Each job journaled once: none that finished before the kill ran again.
  EXPECT_EQ(llcb::store::read_journal(p.string()).jobs, 15);
}

TEST(SweepProcess, ASecondWriterIsRefusedAndStatusTellsRunningFromInterrupted) {
  const fs::path p = dir() / "busy.h5";
  fs::remove(p);
  const std::vector<std::string> slow = {LLCB_BINARY, "sweep", (dir() / "sweep.ini").string(), "--store",
                                         p.string(), "--set", "chain.steps=30000", "--log-level", "error"};
  const pid_t writer = llcb::testing::start(slow);
  ASSERT_TRUE(llcb::testing::wait_for_a_finished_job(p));
  const std::string base = std::string(LLCB_BINARY) + " ";
  const auto run = [&](const std::string& args, const char* log) {
    const std::string cmd = base + args + " > " + (dir() / log).string() + " 2>&1";
    return WEXITSTATUS(std::system(cmd.c_str()));
  };
  const std::string pid = std::to_string(writer);
  EXPECT_EQ(run("sweep " + (dir() / "sweep.ini").string() + " --store " + p.string() +
                    " --resume --set chain.steps=30000 --log-level error", "second.log"), 2);
  const std::string second = slurp(dir() / "second.log");
  EXPECT_EQ(lines(second), 1) << second;
  EXPECT_NE(second.find("is being written by pid " + pid + " on "), std::string::npos) << second;
  EXPECT_EQ(run("reduce " + p.string(), "reduce.log"), 2);  // reduce writes: refused as well
  EXPECT_NE(slurp(dir() / "reduce.log").find("is being written by pid " + pid), std::string::npos);
  EXPECT_EQ(run("status " + p.string(), "status.log"), 3);
  EXPECT_NE(slurp(dir() / "status.log").find("running: sweep by pid " + pid), std::string::npos)
      << slurp(dir() / "status.log");
  EXPECT_EQ(run("query " + p.string() + " summary --format csv --columns truth_status,count", "summary.log"), 0);
  EXPECT_EQ(slurp(dir() / "summary.log").rfind("truth_status,count\nall,", 0), 0u) << slurp(dir() / "summary.log");
  kill(writer, SIGKILL);
  wait_exit(writer);
  EXPECT_EQ(run("status " + p.string(), "status2.log"), 3);
  const std::string interrupted = slurp(dir() / "status2.log");
  EXPECT_NE(interrupted.find("interrupted: last written "), std::string::npos) << interrupted;
  EXPECT_NE(interrupted.find("not closed cleanly"), std::string::npos) << interrupted;
  // The writer is gone: its lock is stale, and the next writer takes it over and finishes.
  EXPECT_EQ(run("sweep " + (dir() / "sweep.ini").string() + " --store " + p.string() +
                    " --resume --set chain.steps=30000 --log-level error", "third.log"), 0)
      << slurp(dir() / "third.log");
  EXPECT_EQ(status_code(p), 0);
}

}  // namespace
