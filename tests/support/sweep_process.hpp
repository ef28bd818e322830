// Test support for whole-sweep tests: starting llcbench (or mpiexec llcbench) as a child process,
// waiting for it, and comparing stores job by job (estimates bit for bit, traces bit for bit).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "lib/store/store.hpp"

namespace llcb::testing {

namespace fs = std::filesystem;

// A small sweep for process tests: 3 tiny problems x (3 SGLD + 2 SGHMC step sizes) = 15 jobs,
// one of which (SGLD at 1e-4) diverges; about a second on 2 cores.
constexpr const char* kSmallSweep = R"(
[sweep]
samplers = sgld, sghmc
threads = 1
[problems]
class = tiny
count = 3
[chain]
steps = 3000
batch_size = 200
trace_every = 3
[sgld]
step_sizes = 1e-7, 1e-6, 1e-4
[sghmc]
step_sizes = 1e-9, 1e-8
)";

// A fresh directory for this test process, holding `config` as sweep.ini.
inline fs::path sweep_dir(const char* config) {
  static const fs::path d = [config] {
    fs::path p = fs::temp_directory_path() / ("llcb_sweep_" + std::to_string(::getpid()));
    fs::create_directories(p);
    std::ofstream(p / "sweep.ini") << config;
    return p;
  }();
  return d;
}

// Starts argv (argv[0] is the program path) with stdout and stderr sent to `log` (or /dev/null).
// `in_child`, when given, runs in the child before exec (to set limits, say).
inline pid_t start(const std::vector<std::string>& argv, const std::string& log = "/dev/null",
                   const std::function<void()>& in_child = nullptr) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (in_child) in_child();
    setpgid(0, 0);  // its own process group, so a test can signal the whole launch
    std::FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Snapshot {
  std::vector<std::string> ids, status, lambda;
  std::vector<std::vector<float>> traces;
};

inline Snapshot snapshot(const fs::path& store) {
  const store::Store s = store::Store::open(store, false);
  const auto jobs = s.table("jobs");
  Snapshot snap;
  snap.ids = jobs.get<std::string>("job_id");
  snap.status = jobs.get<std::string>("status");
  for (std::size_t i = 0; i < snap.ids.size(); ++i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", jobs.get<double>("lambda_hat")[i]);
    snap.lambda.push_back(buf);
    std::size_t rows = 0, chains = 0;
    std::int64_t every = 0;
    snap.traces.push_back(snap.status[i] == "done" ? s.trace(snap.ids[i], rows, chains, every)
                                                   : std::vector<float>{});
  }
  return snap;
}

inline void expect_same_results(const Snapshot& got, const Snapshot& want) {
  ASSERT_EQ(got.ids, want.ids);
  for (std::size_t i = 0; i < want.ids.size(); ++i) {
    EXPECT_EQ(got.status[i], want.status[i]) << want.ids[i];
    EXPECT_EQ(got.lambda[i], want.lambda[i]) << want.ids[i];  // bit for bit (NaN for diverged)
    ASSERT_EQ(got.traces[i].size(), want.traces[i].size()) << want.ids[i];
    EXPECT_EQ(std::memcmp(got.traces[i].data(), want.traces[i].data(), 4 * got.traces[i].size()), 0)
        << want.ids[i];
  }
}

// Waits until the store at p has at least one row whose status is done in `group` ("jobs", or
// "calibrations"), so that a signal sent next lands in the middle of the sweep on a fast or a
// loaded machine alike. Reads that race rank 0's flushes are retried.
// Polls for up to a minute (a loaded test machine runs the ranks slowly; this returns as soon as
// a row is done).
inline bool wait_for_a_done_row(const fs::path& p, const std::string& group) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (fs::exists(p)) {
        const llcb::store::Store s = llcb::store::Store::open(p, false);
        const llcb::store::Table t = s.table(group);  // the column refers into it
        const auto& status = t.get<std::string>("status");
        if (std::count(status.begin(), status.end(), "done") > 0) return true;
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

inline bool wait_for_a_finished_job(const fs::path& p) { return wait_for_a_done_row(p, "jobs"); }

// A fresh, empty directory for one test's store, named after the test process and `name`;
// returns the path of the store file in it.
inline std::string fresh_store_path(const std::string& prefix, const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return (d / "s.h5").string();
}

}  // namespace llcb::testing
