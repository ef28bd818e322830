#include "apps/llcbench/cli.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "lib/core/error.hpp"
#include "lib/core/log.hpp"

namespace llcb::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      {"truth", "exact true LLC of a deep linear network (--widths, --rank)", cmd_truth},
      {"problem", "draw a learning problem from a model class and seed", cmd_problem},
      {"run", "run one SGMCMC chain and estimate the LLC", cmd_run},
      {"bench", "steps/s and GFLOP/s of chains against the sgemm floor", cmd_bench},
      {"calibrate", "recommend a sampler's step size from short chains, without the truth", cmd_calibrate},
#if LLCB_STORE_COMMANDS
      {"sweep", "run or resume a sweep of jobs into an HDF5 store", cmd_sweep},
      {"reduce", "recompute a store's summary table", cmd_reduce},
      {"query", "print a store's summary, jobs, problems or a trace", cmd_query},
      {"status", "count a store's done, failed and pending jobs; exit code 0, 1 or 3", cmd_status},
      {"repair", "rebuild a damaged store from its config and journal", cmd_repair},
      {"report", "figures, CSVs and an HTML page of a store (matplotlib)", cmd_report},
#endif
  };
  return list;
}

void add_common_options(po::options_description& desc, const char* default_level) {
  desc.add_options()("help,h", "show this help and exit")(
      "log-level", po::value<std::string>()->default_value(default_level),
      "trace, debug, info, warn, error or off (logs go to stderr)");
}

bool parse(const std::vector<std::string>& args, const po::options_description& desc,
           const std::string& usage, po::variables_map& vm,
           const po::positional_options_description* positional) {
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (positional) {
      parser.positional(*positional);
    } else {
      parser.positional(po::positional_options_description());  // positionals are errors
    }
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << desc << "\n";
    return false;
  }
  log::set_level(log::parse_level(vm["log-level"].as<std::string>()));
  return true;
}

const std::string& required(const po::variables_map& vm, const std::string& name,
                            const std::string& example) {
  if (!vm.count(name)) {
    throw UsageError("--" + name + " is required (for example --" + name + " " + example + ")");
  }
  return vm[name].as<std::string>();
}

void read_store_retrying(const std::function<void()>& read) {
  for (int attempt = 1;; ++attempt) {
    try {
      read();
      return;
    } catch (const Error&) {
      if (attempt == 5) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 120) {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  } else if (s < 7200) {
    std::snprintf(buf, sizeof buf, "%.1f min", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  }
  return buf;
}

int guarded(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::cerr << "llcbench " << command << ": error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::cerr << "llcbench " << command << ": error: out of memory\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "llcbench " << command << ": error: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace llcb::cli
