// llcbench report STORE --out DIR: the figures, the CSV behind each, and a self-contained
// index.html of a sweep's store (docs/report.md). The store is checked here (a file that is not
// a store is a one-line error, exit 2, before anything is written); tools/report.py (matplotlib,
// pandas, h5py) then draws, reading the tables through this binary's `query`, so that the report's
// numbers are the ones `query` prints.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/llcbench/cli.hpp"
#include "lib/core/error.hpp"
#include "lib/store/store.hpp"

#ifndef LLCB_REPORT_SCRIPT
#define LLCB_REPORT_SCRIPT "tools/report.py"
#endif

namespace llcb::cli {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Runs argv[0] with argv, waits, and returns its exit code (128 + N for a signal).
int run_and_wait(const std::vector<std::string>& argv) {
  std::vector<char*> raw;
  for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw RuntimeError("cannot start " + argv[0]);
  if (pid == 0) {
    ::execvp(raw[0], raw.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw RuntimeError("lost track of " + argv[0] + ": " + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    throw RuntimeError("cannot run " + argv[0] + " (set LLCB_PYTHON to a python3 with matplotlib)");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  return guarded("report", [&] {
    po::options_description desc("options");
    desc.add_options()("store", po::value<std::string>(), "the sweep's HDF5 store (also while a sweep writes it)")(
        "out", po::value<std::string>(), "folder for the figures, CSVs and index.html (made if missing)");
    add_common_options(desc);
    po::positional_options_description pos;
    pos.add("store", 1);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench report STORE --out DIR", vm, &pos)) return 0;
    const std::string& path = required(vm, "store", "demo.h5");
    const std::string& out = required(vm, "out", "demo-report");
    { store::Store::open(path, false); }  // not a store: UsageError, exit 2, nothing written
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec)) {
      throw UsageError("--out '" + out + "' exists and is not a folder");
    }
    const std::string script = env_or("LLCB_REPORT_SCRIPT", LLCB_REPORT_SCRIPT);
    if (!std::filesystem::exists(script, ec)) {
      throw UsageError("the report script '" + script + "' is missing (set LLCB_REPORT_SCRIPT to tools/report.py)");
    }
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    const std::string python = env_or("LLCB_PYTHON", std::filesystem::exists("/usr/bin/python3", ec)
                                                         ? "/usr/bin/python3" : "python3");
    return run_and_wait({python, script, self.empty() ? "llcbench" : self, path, out});
  });
}

}  // namespace llcb::cli
