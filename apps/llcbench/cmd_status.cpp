// llcbench status FILE [--json]: how far a sweep's store is, as counts and as an exit code that
// says what to do next: 0 every job done, 1 none pending but some failed, 3 jobs pending
// (interrupted; continue with --resume). Launch wrappers use the code when the launcher's own
// exit status says nothing (tools/mpirun-sweep.sh: mpirun after a SIGTERM).
#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "lib/core/error.hpp"
#include "lib/core/json.hpp"
#include "lib/store/store.hpp"

namespace llcb::cli {

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
    std::vector<std::string> status;
    read_store_retrying([&] {
      status = store::Store::open(path, false).table("jobs").get<std::string>("status");
    });
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
    const int code = pending > 0 ? kExitInterrupted : failed > 0 ? kExitFailure : kExitOk;
    const char* verdict = pending > 0  ? "interrupted: continue it with llcbench sweep ... --resume"
                          : failed > 0 ? "finished, some jobs failed (llcbench query FILE jobs --where status=failed)"
                                       : "finished";
    if (vm["json"].as<bool>()) {
      JsonWriter w;
      w.begin_object()
          .field("jobs", static_cast<std::int64_t>(status.size()))
          .field("done", done)
          .field("failed", failed)
          .field("pending", pending)
          .field("exit_code", code)
          .end_object();
      std::cout << w.str() << "\n";
    } else {
      std::cout << "jobs: " << status.size() << " (done " << done << ", failed " << failed
                << ", pending " << pending << ")\n"
                << "state: " << verdict << "\n";
    }
    return code;
  });
}

}  // namespace llcb::cli
