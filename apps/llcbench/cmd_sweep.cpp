// llcbench sweep CONFIG --store FILE [--resume] [--force-config] [--set key=value ...]
// Runs (or resumes) a sweep in this process, writing every result to the store, then prints the
// summary. Exit codes: 0 all jobs done, 1 some job failed, 2 bad input, 3 interrupted (SIGINT or
// SIGTERM) and resumable.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/table_output.hpp"
#include "lib/core/error.hpp"
#include "lib/core/log.hpp"
#include "lib/sweep/runner.hpp"

namespace llcb::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void request_stop(int) { g_stop.store(true); }

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
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

void report(const sweep::Progress& p, const sweep::SweepConfig& c, bool bar) {
  if (bar) {
    const int width = 30;
    const int filled = static_cast<int>(width * p.done / std::max<std::int64_t>(p.total, 1));
    std::fprintf(stderr, "\r[%s%s] %lld/%lld jobs, %.2f chains/s, ETA %s   ",
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), ' ').c_str(),
                 static_cast<long long>(p.done), static_cast<long long>(p.total), p.chains_per_second,
                 format_duration(p.eta_seconds).c_str());
    if (p.ran == p.to_run) std::fprintf(stderr, "\n");
    return;
  }
  const auto& s = c.samplers[p.job->sampler_index].name;
  if (p.failed) {
    log::warn("[{}/{}] job {} ({} eps={:g} problem {}) failed: {}", p.done, p.total, p.job->id, s,
              p.job->step_size, p.job->problem_index, p.message);
  } else {
    log::info("[{}/{}] {} eps={:g} problem {}: lambda_hat {:.4g} (true {:.4g}); {:.2f} chains/s, ETA {}",
              p.done, p.total, s, p.job->step_size, p.job->problem_index, p.lambda_hat, p.lambda_true,
              p.chains_per_second, format_duration(p.eta_seconds));
  }
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  return guarded("sweep", [&] {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>(), "sweep config (INI), see configs/README.md")(
        "store", po::value<std::string>(), "HDF5 store to create (or continue with --resume)")(
        "resume", po::bool_switch(), "continue an existing store: skip finished jobs")(
        "force-config", po::bool_switch(), "continue a store made by a different config")(
        "set", po::value<std::vector<std::string>>()->composing(), "override a key: section.key=value")(
        "backend", po::value<std::string>(), "same as --set sweep.backend=...")(
        "threads", po::value<std::string>(), "same as --set sweep.threads=...")(
        "format", po::value<std::string>()->default_value("table"), "summary: table, csv or json");
    add_common_options(desc);
    po::positional_options_description pos;
    pos.add("config", 1);
    po::variables_map vm;
    std::vector<std::string> a = args;
    if (std::find(a.begin(), a.end(), "--log-level") == a.end()) {
      a.insert(a.begin(), {"--log-level", "info"});  // progress lines are the point of a sweep
    }
    if (!parse(a, desc, "usage: llcbench sweep CONFIG --store FILE [--resume] [--set key=value ...]", vm, &pos)) {
      return 0;
    }
    const std::string& config_path = required(vm, "config", "configs/demo.ini");
    sweep::RunOptions options;
    options.store_path = required(vm, "store", "demo.h5");
    options.resume = vm["resume"].as<bool>();
    options.force_config = vm["force-config"].as<bool>();
    const TableFormat format = parse_table_format(vm["format"].as<std::string>());
    std::vector<std::string> overrides;
    if (vm.count("set")) overrides = vm["set"].as<std::vector<std::string>>();
    if (vm.count("backend")) overrides.push_back("sweep.backend=" + vm["backend"].as<std::string>());
    if (vm.count("threads")) overrides.push_back("sweep.threads=" + vm["threads"].as<std::string>());
    const sweep::SweepConfig config = sweep::load_config(config_path, overrides);

    options.host = hostname();
    options.stop = &g_stop;
    const bool bar = isatty(STDERR_FILENO) && log::enabled(log::Level::kInfo);
    options.on_progress = [&](const sweep::Progress& p) { report(p, config, bar); };
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    log::info("sweep '{}': {} problems of class {}, {} jobs, store {}", config.name,
              config.problem_count, config.model_class, sweep::make_grid(config).size(),
              options.store_path);
    const sweep::RunSummary s = sweep::run_sweep(config, options);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    print_table(std::cout, s.summary, format);
    if (s.interrupted) {
      std::cerr << "llcbench sweep: interrupted with " << s.total - s.done
                << " jobs pending; rerun with --resume to finish\n";
      return static_cast<int>(kExitInterrupted);
    }
    if (s.failed > 0) {
      std::cerr << "llcbench sweep: " << s.failed << " jobs failed (see query " << options.store_path
                << " jobs --where status=failed)\n";
      return static_cast<int>(kExitFailure);
    }
    return 0;
  });
}

}  // namespace llcb::cli
