// llcbench sweep CONFIG --store FILE [--resume] [--force-config] [--set key=value ...]
// Runs (or resumes) a sweep in this process, writing every result to the store, then prints the
// summary. Exit codes: 0 all jobs done, 1 some job failed, 2 bad input, 3 interrupted (SIGINT or
// SIGTERM) and resumable.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/table_output.hpp"
#include "lib/backend/backend.hpp"
#include "lib/core/error.hpp"
#include "lib/core/host.hpp"
#include "lib/core/log.hpp"
#include "lib/sweep/runner.hpp"
#include "lib/sweep/session.hpp"
#if LLCB_HAVE_MPI
#include "mpi/sweep.hpp"
#endif

namespace llcb::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void request_stop(int) { g_stop.store(true); }

// "true 16.5, exact", "Aoyagi 35, above: at least 41", "Aoyagi 16.5, global: a lower bound", or
// "true 16.5" for stores without statuses (docs/truth.md).
std::string describe_truth(const sweep::JobTruth& t) {
  if (t.status == "exact" || t.status.empty()) {
    return fmt::format("true {:.4g}{}", t.lambda_true, t.status.empty() ? "" : ", exact");
  }
  if (t.status == "above") return fmt::format("Aoyagi {:.4g}, above: at least {:.4g}", t.lambda_true, t.lambda_lower);
  return fmt::format("Aoyagi {:.4g}, {}: a lower bound", t.lambda_true, t.status);
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
    log::info("[{}/{}] {} eps={:g} problem {}: lambda_hat {:.4g} ({}); {:.2f} chains/s, ETA {}",
              p.done, p.total, s, p.job->step_size, p.job->problem_index, p.lambda_hat,
              describe_truth(p.truth), p.chains_per_second, format_duration(p.eta_seconds));
  }
}

void report_calibration(const sweep::CalibrationUnit& u, const store::CalibrationRecord& r,
                        const sweep::SweepConfig& c) {
  const auto& s = c.samplers[u.sampler_index].name;
  if (r.found) {
    log::info("calibrated {} on problem {}: eps={:g} (accepted {:g}..{:g}): {}", s, u.problem_index, r.step_size,
              r.accepted_low, r.accepted_high, r.why);
  } else {
    log::warn("calibration of {} on problem {} found no step size ({}); its jobs are recorded as failed", s,
              u.problem_index, r.why);
  }
}

int finish(const sweep::RunSummary& s, const std::string& store, TableFormat format) {
  if (!s.store_error.empty()) {
    std::cerr << "llcbench sweep: the store could no longer be written (" << s.store_error
              << "); every job that finished before that is in the store or its journal: rerun with "
                 "--resume, which repairs the store\n";
    return static_cast<int>(kExitInterrupted);
  }
  print_summary(std::cout, s.summary, format, store);
  if (s.interrupted) {
    std::cerr << "llcbench sweep: interrupted with " << s.total - s.done
              << " jobs pending; rerun with --resume to finish\n";
    return static_cast<int>(kExitInterrupted);
  }
  if (s.failed > 0) {
    std::cerr << "llcbench sweep: " << s.failed << " jobs failed (see llcbench query " << store
              << " jobs --where status=failed)\n";
    return static_cast<int>(kExitFailure);
  }
  return 0;
}

#if LLCB_HAVE_MPI
// Under mpirun or srun with MPI the launcher sets one of these (PALS_RANKID: HPE Cray's PALS); a
// plain run never pays for MPI_Init.
bool launched_by_mpi() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_RANK") ||
         std::getenv("PALS_RANKID");
}
#endif

// The task count of the Slurm step this process is a task of (0 outside a step; a batch script,
// a task of its own, has only the allocation's SLURM_NTASKS).
long slurm_step_tasks() {
  const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  return tasks && std::getenv("SLURM_PROCID") ? std::atol(tasks) : 0;
}

// One line from the step's task 0 (the others exit quietly: one line, not one a task); exit 2.
int refuse_slurm_step(const std::string& why) {
  const char* task = std::getenv("SLURM_PROCID");
  if (!task || std::atol(task) == 0) std::cerr << "llcbench sweep: error: " << printable(why) << "\n";
  return static_cast<int>(kExitUsage);
}

// A task of a Slurm step of several tasks that srun started without MPI (Slurm's default
// MpiDefault=none) would run the whole sweep on its own: several writers of one store. Returns 0,
// or exit code 2 after task 0 said why.
int refuse_slurm_step_without_mpi() {
  const long tasks = slurm_step_tasks();
#if LLCB_HAVE_MPI
  if (tasks <= 1 || launched_by_mpi()) return 0;
  return refuse_slurm_step("this is one of " + std::to_string(tasks) +
                           " tasks of a Slurm step started without MPI, so each would run the whole sweep: "
                           "launch it with `srun --mpi=pmix` (or MpiDefault=pmix) or with mpirun inside the "
                           "allocation (tools/slurm/)");
#else
  if (tasks <= 1) return 0;
  return refuse_slurm_step("this is one of " + std::to_string(tasks) +
                           " tasks of a Slurm step, and this build has no MPI, so each would run the whole "
                           "sweep: run one task (srun -n 1)");
#endif
}

#if LLCB_HAVE_MPI
// Config text and overrides in one string for the broadcast: "ok" or "fail", the overrides one a
// line, an empty line, then the file.
std::string pack(const sweep::SweepConfig* c) {
  if (!c) return "fail\n";
  std::string out = "ok\n";
  for (const auto& o : c->overrides) out += o + "\n";
  return out + "\n" + c->source;
}

// Once the ranks cooperate, an error on one of them must end them all: the others would wait for
// it forever. Prints the one-line error, then aborts the run with its exit code.
int abort_on_error(const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::cerr << "llcbench sweep: error: " << printable(e.what()) << "\n";
    mpi::abort_world(e.exit_code());
  } catch (const std::exception& e) {
    std::cerr << "llcbench sweep: error: " << printable(e.what()) << "\n";
    mpi::abort_world(kExitFailure);
  }
}

// The start of a distributed sweep, in three agreements before anything is written: rank 0
// loads the config and broadcasts it (or that it failed); every worker makes its backend and the
// ranks learn the first failure (no GPU, say); rank 0 takes the store's lock and creates or
// opens the store and broadcasts whether it could. A failure at any of them is printed once, by
// rank 0, and every rank exits with exit code 2 without touching the store.
int run_distributed(const mpi::Environment& env, const std::function<sweep::SweepConfig()>& load,
                    sweep::RunOptions& options, TableFormat format, bool bar) {
  if (env.rank() == 0) {
    std::optional<sweep::SweepConfig> config;
    std::string packed;
    try {
      config.emplace(load());
      sweep::check_chain_groups(*config, env.size() - 1);
      backend::check_available(config->backend);
      packed = pack(&*config);
    } catch (...) {
      packed = pack(nullptr);
      mpi::broadcast(packed);
      throw;
    }
    mpi::broadcast(packed);
    const std::string worker_error = mpi::first_error(env, options.host, "");
    std::optional<sweep::SweepSession> session;
    std::string verdict = "ok";
    try {
      if (!worker_error.empty()) throw UsageError(worker_error);
      options.ranks = env.size();
      session.emplace(*config, options.store_path, sweep::session_options(options));
    } catch (...) {
      verdict = "fail";
      if (worker_error.empty()) mpi::broadcast(verdict);
      throw;
    }
    mpi::broadcast(verdict);
    log::info("sweep '{}': {} jobs on {} worker ranks, store {}", config->name, session->grid().size(),
              env.size() - 1, options.store_path);
    mpi::ScheduleOptions so;
    so.heartbeat_timeout = config->heartbeat_timeout;
    so.stop = options.stop;
    so.on_progress = [&](const sweep::Progress& p) { report(p, *config, bar); };
    so.on_calibration = [&](const sweep::CalibrationUnit& u, const store::CalibrationRecord& r) {
      report_calibration(u, r, *config);
    };
    return abort_on_error([&] {
      const sweep::RunSummary s = mpi::schedule(env, *config, *session, so);
      session.reset();  // releases the store's lock before any abort
      const int code = finish(s, options.store_path, format);
      if (s.abandoned > 0) mpi::abort_world(code);  // the workers still run jobs nobody can record
      return code;
    });
  }
  std::string packed;
  mpi::broadcast(packed);
  if (packed.rfind("ok\n", 0) != 0) return static_cast<int>(kExitUsage);  // rank 0 reports it
  std::vector<std::string> overrides;
  std::size_t pos = 3;
  while (pos < packed.size() && packed[pos] != '\n') {
    const std::size_t end = packed.find('\n', pos);
    overrides.push_back(packed.substr(pos, end - pos));
    pos = end + 1;
  }
  std::optional<sweep::SweepConfig> config;
  mpi::WorkerOptions wo;
  wo.host = options.host;
  wo.stop = options.stop;
  std::unique_ptr<backend::Backend> be;
  std::string error;
  try {
    config.emplace(sweep::parse_config(packed.substr(pos + 1), overrides));
    wo.chunk_seconds = config->chunk_seconds;
    be = mpi::make_worker_backend(env, *config, wo);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!mpi::first_error(env, options.host, error).empty()) return static_cast<int>(kExitUsage);
  std::string verdict;
  mpi::broadcast(verdict);
  if (verdict != "ok") return static_cast<int>(kExitUsage);  // rank 0 reports it
  return abort_on_error([&] { return mpi::work(env, *config, wo, *be) ? static_cast<int>(kExitInterrupted) : 0; });
}
#endif

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  return guarded("sweep", [&] {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>(), "sweep config (INI), see configs/README.md")(
        "store", po::value<std::string>(), "HDF5 store to create (or continue with --resume)")(
        "resume", po::bool_switch(), "continue an existing store: skip finished jobs")(
        "force-config", po::bool_switch(), "continue a store made by a different config")(
        "force-lock", po::bool_switch(),
        "take the store's lock over from a writer that is still heartbeating (when it is known gone)")(
        "set", po::value<std::vector<std::string>>()->composing(), "override a key: section.key=value")(
        "backend", po::value<std::string>(), "same as --set sweep.backend=...")(
        "threads", po::value<std::string>(), "same as --set sweep.threads=...")(
        "format", po::value<std::string>()->default_value("table"), "summary: table, csv or json");
    add_common_options(desc, "info");  // progress lines are the point of a sweep
    po::positional_options_description pos;
    pos.add("config", 1);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench sweep CONFIG --store FILE [--resume] [--set key=value ...]", vm, &pos)) {
      return 0;
    }
    if (const int refused = refuse_slurm_step_without_mpi()) return refused;
    const std::string& config_path = required(vm, "config", "configs/demo.ini");
    sweep::RunOptions options;
    options.store_path = required(vm, "store", "demo.h5");
    options.resume = vm["resume"].as<bool>();
    options.force_config = vm["force-config"].as<bool>();
    options.force_lock = vm["force-lock"].as<bool>();
    const TableFormat format = parse_table_format(vm["format"].as<std::string>());
    std::vector<std::string> overrides;
    if (vm.count("set")) overrides = vm["set"].as<std::vector<std::string>>();
    if (vm.count("backend")) overrides.push_back("sweep.backend=" + vm["backend"].as<std::string>());
    if (vm.count("threads")) overrides.push_back("sweep.threads=" + vm["threads"].as<std::string>());
    const auto load_for_store = [&] {
      sweep::SweepConfig config = sweep::load_config(config_path, overrides);
      if (!options.resume) return config;
      // A store written before a key existed continues the way its jobs ran (chain.targets).
      const std::vector<std::string> legacy = sweep::legacy_overrides(config, sweep::stored_config(options.store_path));
      if (legacy.empty()) return config;
      for (const auto& o : legacy) log::info("continuing a store of an earlier version with --set {}", o);
      std::vector<std::string> all = overrides;
      all.insert(all.end(), legacy.begin(), legacy.end());
      return sweep::load_config(config_path, all);
    };
    const auto load = [&] {
      sweep::SweepConfig config = load_for_store();
      for (const auto& name : config.unused_samplers) {
        log::warn("[{}] is set but sweep.samplers does not list {}: its keys are checked, not used", name, name);
      }
      return config;
    };
    options.host = host_name();
    options.stop = &g_stop;
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    const bool bar = isatty(STDERR_FILENO) && log::enabled(log::Level::kInfo);
#if LLCB_HAVE_MPI
    const bool explicit_level = !vm["log-level"].defaulted();
    if (launched_by_mpi()) {
      mpi::Environment env(nullptr, nullptr);
      if (env.size() == 1 && slurm_step_tasks() > 1 && !std::getenv("OMPI_COMM_WORLD_SIZE")) {
        // The launcher's PMI is not one this MPI library speaks: every task is a world of one.
        return refuse_slurm_step("this is one of " + std::to_string(slurm_step_tasks()) +
                                 " tasks of a Slurm step, but MPI sees a world of one (the launcher's PMI is "
                                 "not one this Open MPI speaks): launch it with `srun --mpi=pmix` or mpirun");
      }
      if (env.size() > 1) {
        if (env.rank() > 0 && !explicit_level) log::set_level(log::Level::kWarn);
        return run_distributed(env, load, options, format, bar);
      }
    }
#endif
    const sweep::SweepConfig config = load();
    options.on_progress = [&](const sweep::Progress& p) { report(p, config, bar); };
    options.on_calibration = [&](const sweep::CalibrationUnit& u, const store::CalibrationRecord& r) {
      report_calibration(u, r, config);
    };
    log::info("sweep '{}': {} problems of class {}, {} jobs, store {}", config.name,
              config.problem_count, config.model_class, sweep::make_grid(config).size(),
              options.store_path);
    return finish(sweep::run_sweep(config, options), options.store_path, format);
  });
}

}  // namespace llcb::cli
