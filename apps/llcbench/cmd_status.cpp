// llcbench status FILE [--json]: how far a sweep's store is, whether a writer is at work on it
// now (its lock, lib/store/lock.hpp) or it was interrupted and when it was last written, as text
// and as an exit code that says what to do next: 0 every job done, 1 none pending but some
// failed, 3 jobs pending (running, or interrupted: continue with --resume). Launch wrappers use
// the code when the launcher's own exit status says nothing (tools/mpirun-sweep.sh: mpirun after
// a SIGTERM).
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "lib/core/error.hpp"
#include "lib/core/json.hpp"
#include "lib/store/lock.hpp"
#include "lib/store/store.hpp"

namespace llcb::cli {
namespace {

// Seconds since the store or its journal was last modified (-1 when neither can be read).
double seconds_since_last_write(const std::string& path) {
  std::time_t last = -1;
  for (const std::string& f : {path, store::Journal::path_of(path)}) {
    struct stat st {};
    if (::stat(f.c_str(), &st) == 0) last = std::max(last, st.st_mtime);
  }
  return last < 0 ? -1.0 : std::difftime(std::time(nullptr), last);
}

std::string ago(double seconds) { return format_duration(seconds) + " ago"; }

}  // namespace

int cmd_status(const std::vector<std::string>& args) {
  return guarded("status", [&] {
    po::options_description desc("options");
    desc.add_options()("store", po::value<std::string>(), "the sweep's HDF5 store")(
        "json", po::bool_switch(), "print one JSON object instead of text");
    add_common_options(desc);
    po::positional_options_description pos;
    pos.add("store", 1);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench status FILE [--json]", vm, &pos)) return 0;
    const std::string& path = required(vm, "store", "demo.h5");
    const bool json = vm["json"].as<bool>();
    // The writer first: a store being created or rebuilt cannot be read yet, and is not damaged.
    const store::LockInfo writer = store::read_lock(path);
    const bool running = writer.found && !writer.stale;
    const std::string writer_text = running ? writer.purpose + " by pid " + std::to_string(writer.pid) + " on " +
                                                  writer.host + ", last heartbeat " + ago(writer.age)
                                            : std::string();
    const double last_write = seconds_since_last_write(path);
    const store::JournalContents journal = store::read_journal(path);
    std::vector<std::string> status;
    std::string unreadable;
    try {
      read_store_retrying([&] {
        status = store::Store::open(path, false).table("jobs").get<std::string>("status");
      });
    } catch (const Error& e) {
      if (!journal.has_header && !running) throw;
      unreadable = e.what();
    }
    std::int64_t done = 0, failed = 0, pending = 0;
    for (const auto& s : status) {
      if (s == "done") {
        ++done;
      } else if (s == "failed") {
        ++failed;
      } else {
        ++pending;  // "pending": never run, running, or cut off mid-chain
      }
    }
    const bool unclean = journal.dirty;
    int code = pending > 0 ? kExitInterrupted : failed > 0 ? kExitFailure : kExitOk;
    std::string state, verdict;
    if (running) {
      state = "running";
      verdict = writer_text + " (do not start a second writer)";
      if (!unreadable.empty()) code = kExitInterrupted;
    } else if (!unreadable.empty()) {
      // A store its writer left damaged (or deleted): say so, and how it is rebuilt.
      state = "damaged";
      code = kExitInterrupted;
      verdict = unreadable + "; llcbench sweep CONFIG --store " + path + " --resume, or llcbench repair " +
                path + ", rebuilds it from its journal (" + std::to_string(journal.jobs) +
                " finished jobs there)";
    } else if (pending > 0) {
      state = "interrupted";
      verdict = "last written " + ago(last_write) +
                (unclean ? ", not closed cleanly (the resume checks it against its journal)" : "") +
                "; continue it with llcbench sweep CONFIG --store " + path + " --resume";
    } else {
      state = "finished";
      verdict = failed > 0 ? "some jobs failed (llcbench query " + path + " jobs --where status=failed)" : "";
      if (unclean) {
        verdict += std::string(verdict.empty() ? "" : "; ") +
                   "not closed cleanly by its last writer (llcbench repair " + path +
                   " checks it; reduce refuses it until then)";
      }
    }
    if (json) {
      JsonWriter w;
      w.begin_object()
          .field("state", state)
          .field("jobs", static_cast<std::int64_t>(status.size()))
          .field("done", done)
          .field("failed", failed)
          .field("pending", pending)
          .field("running", running)
          .field("writer_host", running ? writer.host : std::string())
          .field("writer_pid", running ? writer.pid : std::int64_t{0})
          .field("seconds_since_last_write", last_write)
          .field("closed_cleanly", !unclean)
          .field("damage", running ? std::string() : unreadable)
          .field("journal_jobs", journal.jobs)
          .field("exit_code", static_cast<std::int64_t>(code))
          .end_object();
      std::cout << w.str() << "\n";
    } else {
      if (unreadable.empty()) {
        std::cout << "jobs: " << status.size() << " (done " << done << ", failed " << failed << ", pending "
                  << pending << ")\n";
      }
      std::cout << "state: " << state << (verdict.empty() ? "" : ": " + verdict) << "\n";
    }
    return code;
  });
}

}  // namespace llcb::cli
