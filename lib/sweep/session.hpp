// The pieces of a sweep that the single-process runner and the MPI scheduler/worker share.
//
// SweepSession (the writer's side, one per sweep, on the process that owns the store): creates
// the store (validating every setting first) or reopens it for --resume after checking the config,
// lists the jobs still to run, records finished jobs and live trace chunks, and reduces at the end.
// run_job (the worker's side, no store): runs a job's chains on a backend and combines them into
// the row and trace the store records. A job is a pure function of (config, job): the same on any
// rank.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/store/store.hpp"
#include "lib/sweep/grid.hpp"

namespace llcb::sweep {

struct JobOutcome {
  store::JobResult result;
  std::vector<float> trace;  // rows x chains (TraceShape of the config); empty when failed
  bool interrupted = false;  // stopped by a stop request: not a result, the job stays pending
};

// Runs a job; exceptions other than UsageError become a "failed" outcome with the message.
// listener (optional) receives the raw losses of each chain as the chain runs. A job with
// ranks_per_chain > 1 needs the group of that size it runs in (every member calls run_job).
JobOutcome run_job(const SweepConfig& config, const Job& job, const dln::Problem& problem,
                   backend::Backend& backend, const backend::TraceListener* listener = nullptr,
                   backend::ChainGroup* group = nullptr);

store::TraceShape trace_shape(const SweepConfig& config);

class SweepSession {
 public:
  SweepSession(const SweepConfig& config, const std::string& store_path, bool resume,
               bool force_config);

  const std::vector<Job>& grid() const { return grid_; }
  const std::vector<const Job*>& todo() const { return todo_; }
  std::int64_t skipped() const { return skipped_; }
  const dln::Problem& problem(std::int64_t index);
  // The job's true LLC as recorded in the store (no problem is drawn for it).
  double lambda_true(const Job& job) const { return lambda_true_.at(row_of_.at(job.id)); }

  // Losses [first_step, first_step + n) of one chain of a running job, for live progress; the
  // store is flushed at most every 2 s for them, so readers see running jobs advance.
  void record_chunk(const Job& job, std::size_t chain, std::int64_t first_step, const float* losses,
                    std::size_t n);
  void record(const Job& job, store::JobResult result, const std::vector<float>& trace,
              const std::string& host, const std::string& backend);
  store::Table finish();  // reduce, write /summary, return it

 private:
  const SweepConfig& config_;
  std::vector<Job> grid_;
  std::vector<const Job*> todo_;
  std::int64_t skipped_ = 0;
  std::map<std::string, std::size_t> row_of_;
  std::vector<double> lambda_true_;  // by /jobs row
  std::map<std::int64_t, dln::Problem> problems_;
  std::optional<store::Store> store_;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

}  // namespace llcb::sweep
