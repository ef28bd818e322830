// The pieces of a sweep that the single-process runner and the MPI scheduler/worker share.
//
// SweepSession (the writer's side, one per sweep, on the process that owns the store): takes the
// store's lock, creates the store (validating every setting first) or reopens it for --resume
// after checking the config (and, when its last writer did not close it cleanly, checking it
// against its journal and repairing it if need be; a store that is gone but whose journal lives
// is rebuilt from it), lists the jobs still to run, records finished jobs (journal first, then
// the HDF5 file) and live trace chunks, and reduces and closes the store at the end. A failed
// write does not throw: the session stops writing what failed (it checks its lock before every
// write and stops writing anything once the lock is lost), and failed() says why, so that the
// sweep stops its workers and exits resumable; the next resume repairs the store (docs/store.md).
// run_jobs (the worker's side, no store): runs the chains of one or more jobs of a problem on a
// backend and combines each job's chains into the row and trace the store records. A job is a
// pure function of (config, job): the same on any rank and in any bundle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/store/lock.hpp"
#include "lib/store/store.hpp"
#include "lib/sweep/calibrate.hpp"
#include "lib/sweep/grid.hpp"

namespace llcb::sweep {

struct JobOutcome {
  store::JobResult result;
  std::vector<float> trace;  // rows x chains (TraceShape of the config); empty when failed
  bool interrupted = false;  // stopped by a stop request: not a result, the job stays pending
};

// Receives the raw losses of a job's chains while they run (live progress, heartbeats).
struct JobTraceListener {
  double interval_seconds = 1.0;
  std::function<void(const Job& job, std::size_t chain, std::int64_t first_step, const float* losses,
                     std::size_t n)>
      on_losses;
};

// Runs a bundle of jobs of one problem: all their chains go to the backend in one run() call
// (the CUDA backend advances chains of one sampler together), and each job's outcome is what it
// would be alone. Exceptions other than UsageError and DeviceLostError (a device that can run
// nothing more: it propagates and stops the sweep) become "failed" outcomes with the message
// (for every job of the run that raised it); the test-only fault of config.fail_job fails that job
// alone. Outcomes come in the order of `jobs`; a stop request leaves the jobs whose chains did not
// all finish interrupted. A job with ranks_per_chain > 1 runs alone, in the group of that size
// (every member calls run_jobs).
std::vector<JobOutcome> run_jobs(const SweepConfig& config, const std::vector<const Job*>& jobs,
                                 const dln::Problem& problem, backend::Backend& backend,
                                 const JobTraceListener* listener = nullptr,
                                 backend::ChainGroup* group = nullptr);

// Jobs of the todo list that run_jobs may take together with `first`: up to `bundle` jobs in all,
// of its problem and sampler, running on one rank (ranks_per_chain 1), taken in list order.
// Returns the positions in `todo`, `first`'s position first.
std::vector<std::size_t> bundle_of(const std::vector<const Job*>& todo, std::size_t first,
                                   std::int64_t bundle);

store::TraceShape trace_shape(const SweepConfig& config);

// The canonical config of the store at `path` (of its journal when the file cannot be read); empty
// when there is neither (a new store).
std::map<std::string, std::string> stored_config(const std::string& path);

struct SessionOptions {
  bool resume = false;
  bool force_config = false;
  bool force_lock = false;  // take the store's lock over from a live writer
  std::string host;         // this process's host name, for the journal
  std::int64_t ranks = 1;   // the sweep's MPI world size, for the store's `sessions`
};

class SweepSession {
 public:
  SweepSession(const SweepConfig& config, const std::string& store_path, const SessionOptions& options);
  ~SweepSession();

  const std::vector<Job>& grid() const { return grid_; }
  // The calibrations of the config's calibrated samplers (empty without any), and the recorded
  // one of a unit (nullptr while it has not run). Once a calibration is recorded its jobs' step
  // sizes are filled in (NaN when it found none: run_jobs records those jobs as failed).
  const std::vector<CalibrationUnit>& calibrations() const { return units_; }
  const store::CalibrationRecord* calibration(std::int64_t unit) const {
    const auto& r = calibrated_.at(static_cast<std::size_t>(unit));
    return r.status == "done" ? &r : nullptr;
  }
  // Whether a job can run now: it has no calibration, or its calibration is recorded.
  bool ready(const Job& job) const { return job.calibration < 0 || calibration(job.calibration); }
  const std::vector<const Job*>& todo() const { return todo_; }
  std::int64_t skipped() const { return skipped_; }
  const dln::Problem& problem(std::int64_t index);
  // The job's truth as recorded in the store (no problem is drawn for it).
  JobTruth truth(const Job& job) const {
    const std::size_t row = row_of_.at(job.id);
    return {lambda_true_.at(row), lambda_lower_.at(row), truth_status_.at(row)};
  }

  // Losses [first_step, first_step + n) of one chain of a running job, for live progress; the
  // store is flushed at most every 2 s for them, so readers see running jobs advance.
  void record_chunk(const Job& job, std::size_t chain, std::int64_t first_step, const float* losses,
                    std::size_t n);
  // Records a finished job (its finished time and rel_error_lower are set here): into the journal,
  // then the HDF5 file. True when it is recorded in at least one of them (a job that is not runs
  // again on resume); after a failure only in what still takes writes.
  bool record(const Job& job, store::JobResult result, const std::vector<float>& trace,
              const std::string& host, const std::string& backend);
  // Records a finished calibration as record() records a job: into the journal, then the HDF5
  // file (its /calibrations row and trace, then the step_size cells of its jobs); fills in its
  // jobs' step sizes. False when it is recorded nowhere (it runs again on resume).
  bool record_calibration(const CalibrationUnit& unit, store::CalibrationRecord record,
                          const std::vector<float>& trace, const std::string& host);
  // Reduces, writes /summary, closes the store and marks the journal clean; returns the summary
  // (empty when the store could not be read back).
  store::Table finish();
  // Why the store can no longer be written ("" while it can): an HDF5 or journal write failed, or
  // another process took the lock over (found at the next write or can_record()). The sweep then
  // stops handing out work.
  std::string failed() const;
  // Whether a job finishing now could still be recorded (false once neither the journal nor the
  // HDF5 file takes writes, or the lock is lost; checks the lock, a stat(2)): the MPI scheduler
  // then stops waiting for running jobs.
  bool can_record();

 private:
  const SweepConfig& config_;
  std::vector<Job> grid_;
  std::vector<CalibrationUnit> units_;
  std::vector<store::CalibrationRecord> calibrated_;  // by unit index; status "" until recorded
  std::vector<std::vector<std::size_t>> unit_jobs_;   // by unit index: its jobs' grid positions
  std::vector<const Job*> todo_;
  std::int64_t skipped_ = 0;
  std::map<std::string, std::size_t> row_of_;
  std::vector<double> lambda_true_, lambda_lower_;  // by /jobs row
  std::vector<std::string> truth_status_;            // by /jobs row ("" for older stores)
  std::map<std::int64_t, dln::Problem> problems_;
  void check_rows_read_only() const;
  void recover(bool exists);
  void settle_rows();
  std::int64_t rewrite_rows_from_journal(std::int64_t& verified);
  void check_against_journal();
  void load_calibrations();
  void resolve_steps(const CalibrationUnit& unit);  // its jobs' step sizes from calibrated_
  void write_step_sizes(const CalibrationUnit& unit);
  std::int64_t rewrite_calibrations_from_journal();
  // Records why the store can no longer be written (the first reason wins); `journal`: the
  // journal can no longer be written either.
  void fail(const std::string& why, bool journal = false);
  bool lock_held();  // false (and failed) once the lock is lost
  std::string path_, host_;
  std::string changed_;  // the keys in which this config differs from the store's (--force-config)
  std::optional<store::StoreLock> lock_;
  std::optional<store::Store> store_;
  std::optional<store::Journal> journal_;
  std::set<std::size_t> reset_rows_;  // rows whose trace this session reset before its live rows
  std::string failed_;
  bool hdf5_ok_ = true, journal_ok_ = true;  // whether the HDF5 file and the journal take writes
  bool recovered_ = false;  // this session opened a store its last writer had not closed
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

}  // namespace llcb::sweep
