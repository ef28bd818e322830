#include "lib/sweep/runner.hpp"

#include <algorithm>
#include <chrono>

#include "lib/core/error.hpp"
#include "lib/sweep/calibrate.hpp"
#include "lib/sweep/session.hpp"

namespace llcb::sweep {

void ProgressMeter::finished(const Job& job, const store::JobResult& r, const JobTruth& truth) {
  ++progress_.done;
  ++progress_.ran;
  progress_.elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  progress_.chains_per_second = static_cast<double>(progress_.ran * chains_per_job_) /
                                std::max(progress_.elapsed, 1e-9);
  progress_.eta_seconds = progress_.elapsed / static_cast<double>(progress_.ran) *
                          static_cast<double>(progress_.to_run - progress_.ran);
  progress_.job = &job;
  progress_.lambda_hat = r.lambda_hat;
  progress_.truth = truth;
  progress_.failed = r.status == "failed";
  progress_.message = r.message;
  if (callback_) callback_(progress_);
}

ProgressMeter::ProgressMeter(std::int64_t total, std::int64_t done_before, std::int64_t to_run,
                             std::int64_t chains_per_job, std::function<void(const Progress&)> callback)
    : start_(std::chrono::steady_clock::now()), chains_per_job_(chains_per_job),
      callback_(std::move(callback)) {
  progress_.total = total;
  progress_.done = done_before;
  progress_.to_run = to_run;
}

backend::BackendOptions backend_options(const SweepConfig& config) {
  backend::BackendOptions bo;
  bo.name = config.backend;
  bo.threads = config.threads;
  bo.device = config.device;
  bo.precision = config.precision;
  bo.graphs = config.cuda_graphs;
  return bo;
}

void check_chain_groups(const SweepConfig& config, int workers) {
  const std::int64_t g = *std::max_element(config.ranks_per_chain.begin(), config.ranks_per_chain.end());
  if (g == 1) return;
  if (g > workers) {
    throw UsageError("chain.ranks_per_chain = " + std::to_string(g) + " needs " + std::to_string(g) +
                     " worker ranks: run under mpirun -np " + std::to_string(g + 1) +
                     " or more (" +
                     (workers == 0 ? std::string("a sweep without mpirun has none")
                                   : "this run has " + std::to_string(workers)) + ")");
  }
}

SessionOptions session_options(const RunOptions& options) {
  SessionOptions so;
  so.resume = options.resume;
  so.force_config = options.force_config;
  so.force_lock = options.force_lock;
  so.host = options.host;
  so.ranks = options.ranks;
  return so;
}

RunSummary run_sweep(const SweepConfig& config, const RunOptions& options) {
  check_chain_groups(config, 0);
  // The backend first: a sweep that cannot run (no GPU for --backend cuda) creates no store.
  backend::BackendOptions bo = backend_options(config);
  bo.stop = options.stop;
  auto be = backend::make_backend(bo);
  SweepSession session(config, options.store_path, session_options(options));
  RunSummary summary;
  summary.total = static_cast<std::int64_t>(session.grid().size());
  summary.skipped = session.skipped();

  ProgressMeter meter(summary.total, summary.skipped, static_cast<std::int64_t>(session.todo().size()),
                      config.chains_per_job, options.on_progress);
  JobTraceListener listener;
  listener.interval_seconds = config.chunk_seconds;
  listener.on_losses = [&](const Job& j, std::size_t chain, std::int64_t first, const float* losses,
                           std::size_t n) { session.record_chunk(j, chain, first, losses, n); };
  std::vector<const Job*> todo = session.todo();
  while (!todo.empty() && !summary.interrupted) {
    if ((options.stop && options.stop->load()) || !session.failed().empty()) {
      summary.interrupted = true;
      break;
    }
    // A calibrated job's calibration runs first (once: the store keeps it for a resume).
    if (!session.ready(*todo.front())) {
      const CalibrationUnit& unit = session.calibrations()[static_cast<std::size_t>(todo.front()->calibration)];
      const CalibrationOutcome c = run_calibration(config, unit, session.problem(unit.problem_index), *be);
      if (c.interrupted || !session.record_calibration(unit, c.record, c.trace, options.host)) {
        summary.interrupted = true;
        break;
      }
      if (options.on_calibration) options.on_calibration(unit, c.record);
      continue;
    }
    std::vector<const Job*> bundle;
    const auto picked = bundle_of(todo, 0, config.bundle);
    for (std::size_t i : picked) bundle.push_back(todo[i]);
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) todo.erase(todo.begin() + static_cast<std::ptrdiff_t>(*it));
    std::sort(bundle.begin(), bundle.end(), [](const Job* a, const Job* b) { return a->index < b->index; });
    const dln::Problem& p = session.problem(bundle.front()->problem_index);
    const auto outcomes = run_jobs(config, bundle, p, *be, &listener);
    for (std::size_t i = 0; i < bundle.size(); ++i) {
      if (outcomes[i].interrupted) {
        summary.interrupted = true;
        continue;
      }
      if (!session.record(*bundle[i], outcomes[i].result, outcomes[i].trace, options.host, be->name())) {
        summary.interrupted = true;  // not recorded anywhere: it runs again on resume
        continue;
      }
      ++summary.ran;
      summary.failed += outcomes[i].result.status == "failed";
      meter.finished(*bundle[i], outcomes[i].result, session.truth(*bundle[i]));
    }
  }
  summary.done = meter.progress().done;
  summary.summary = session.finish();
  summary.store_error = session.failed();
  summary.interrupted |= !summary.store_error.empty();
  return summary;
}

}  // namespace llcb::sweep
