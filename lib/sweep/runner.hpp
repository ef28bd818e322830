// The single-process sweep: scheduler and worker in one process (the embedded default for a
// laptop, tests and the demo). Creates or resumes the store, runs every job that is not done in
// grid order on one backend, writes each result as it completes, and reduces at the end. The
// calibration of a calibrated sampler on a problem runs (and is recorded) before its first job.
//
// Contract:
//   - a new store is created only where no file exists; an existing store is continued only with
//     resume, and only when its config matches (identity keys), unless force_config, which still
//     requires every job of the new grid to be in the store;
//   - bad configs (for example a batch larger than a problem's n) are UsageErrors raised before
//     any job runs;
//   - a job that throws is recorded as "failed" with its message, and the sweep goes on;
//   - when *stop becomes true the running chain stops, its job stays "pending", and the run
//     returns with interrupted = true (the app exits 3); the store is resumable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "lib/store/store.hpp"
#include "lib/store/table.hpp"
#include "lib/sweep/grid.hpp"
#include "lib/sweep/session.hpp"

namespace llcb::sweep {

struct Progress {
  std::int64_t total = 0;       // jobs in the grid
  std::int64_t done = 0;        // finished (done or failed), including those done before resume
  std::int64_t to_run = 0;      // jobs this run started with
  std::int64_t ran = 0;         // jobs this run finished
  double elapsed = 0;           // seconds since this run started
  double chains_per_second = 0;
  double eta_seconds = 0;
  const Job* job = nullptr;     // the job just finished
  double lambda_hat = 0;
  JobTruth truth;
  bool failed = false;
  std::string message;
};

struct RunOptions {
  std::string store_path;
  bool resume = false;
  bool force_config = false;
  bool force_lock = false;
  const std::atomic<bool>* stop = nullptr;
  std::string host;
  std::int64_t ranks = 1;  // the MPI world size (rank 0 and the workers), recorded in the store
  std::function<void(const Progress&)> on_progress;
  // Called when a calibration is recorded (the CLI prints its choice).
  std::function<void(const CalibrationUnit&, const store::CalibrationRecord&)> on_calibration;
};

struct RunSummary {
  std::int64_t total = 0, done = 0, failed = 0, skipped = 0, ran = 0;
  bool interrupted = false;
  std::string store_error;  // why the store could no longer be written (the run is interrupted)
  // Running jobs the MPI scheduler stopped waiting for: the store could no longer record them, so
  // rank 0 ends the run (their workers with it) rather than wait; they run again on resume.
  std::int64_t abandoned = 0;
  store::Table summary;
};

// The backend settings of a sweep's config (name, threads, device, precision, graphs); the caller
// adds the stop flag and, under MPI, the node-local rank.
backend::BackendOptions backend_options(const SweepConfig& config);

// Throws UsageError (before any store is touched) when the config's chain groups cannot run with
// `workers` worker ranks (0 in a single-process sweep, world size - 1 under MPI).
void check_chain_groups(const SweepConfig& config, int workers);

RunSummary run_sweep(const SweepConfig& config, const RunOptions& options);

// The session options of a run's options.
SessionOptions session_options(const RunOptions& options);

// Progress bookkeeping shared by the single-process runner and the MPI scheduler.
class ProgressMeter {
 public:
  ProgressMeter(std::int64_t total, std::int64_t done_before, std::int64_t to_run,
                std::int64_t chains_per_job, std::function<void(const Progress&)> callback);
  void finished(const Job& job, const store::JobResult& r, const JobTruth& truth);
  const Progress& progress() const { return progress_; }

 private:
  Progress progress_;
  std::chrono::steady_clock::time_point start_;
  std::int64_t chains_per_job_;
  std::function<void(const Progress&)> callback_;
};

}  // namespace llcb::sweep
