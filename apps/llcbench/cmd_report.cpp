// llcbench report STORE --out DIR: the figures, the CSV behind each, and a self-contained
// index.html of a sweep's store (docs/report.md). The store is checked here (a file that is not
// a store is a one-line error, exit 2, before anything is written); tools/report.py (matplotlib,
// pandas, h5py) then draws, reading the tables through this binary's `query`, so that the report's
// numbers are the ones `query` prints.
#include <filesystem>
#include <string>
#include <vector>

#include "apps/llcbench/cli.hpp"
#include "lib/core/error.hpp"
#include "lib/store/store.hpp"

namespace llcb::cli {

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
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    const int code = run_report_script({self.empty() ? "llcbench" : self, path, out});
    if (code != 0) {
      // tools/report.py says why in one line of its own where it can; a Python that cannot run it
      // (no matplotlib, too old, not Python) may say nothing or print a traceback.
      const std::string why = "drawing the report into '" + out + "' failed (the report script exited with " +
                              std::to_string(code) + "; set LLCB_PYTHON to a python3 with matplotlib, pandas and h5py)";
      if (code == kExitUsage) throw UsageError(why);
      throw RuntimeError(why);
    }
    return 0;
  });
}

}  // namespace llcb::cli
