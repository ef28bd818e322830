// Distributed sweeps: rank 0 is the scheduler and the only process that opens the store; ranks
// 1..N-1 are workers. Workers ask for work (no static split); rank 0 prefers to hand a worker a
// job of the problem it ran last, so it reuses its teacher, bundled with up to sweep.bundle - 1
// more jobs of that problem and sampler (sweep::bundle_of), and holds idle workers for a chain
// group job (ranks_per_chain = G) until G are free. Workers stream loss chunks about every
// second while a chain runs (rank 0 writes them into the store for live progress; they double as
// heartbeats) and send the job's result and trace at the end; rank 0 records it and flushes, as
// in the single-process sweep. A job's result does not depend on which rank runs it. Calibrations
// (docs/calibration.md "In a sweep") go to idle workers before any job; a calibrated job waits
// until its calibration is recorded, and travels with the step size it chose.
//
// Stop requests (SIGINT/SIGTERM on any rank set the stop flag of that rank): workers stop their
// chain and report the job interrupted; rank 0 hands out no more work, waits for every worker,
// writes the summary, and returns interrupted. A worker that sends nothing for
// heartbeat_timeout seconds while holding a job makes rank 0 abort the run with a message naming
// it (MPI_Abort), rather than hang.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "lib/sweep/runner.hpp"
#include "lib/sweep/session.hpp"
#include "mpi/environment.hpp"

namespace llcb::mpi {

struct ScheduleOptions {
  double heartbeat_timeout = 600;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const sweep::Progress&)> on_progress;
  std::function<void(const sweep::CalibrationUnit&, const store::CalibrationRecord&)> on_calibration;
};

// Rank 0. Returns when every worker has stopped.
sweep::RunSummary schedule(const Environment& env, const sweep::SweepConfig& config,
                           sweep::SweepSession& session, const ScheduleOptions& options);

struct WorkerOptions {
  std::string host;
  const std::atomic<bool>* stop = nullptr;
  double chunk_seconds = 1.0;
};

// The backend a worker runs its chains on (its device: docs/cluster.md's rank-to-GPU rule).
std::unique_ptr<backend::Backend> make_worker_backend(const Environment& env, const sweep::SweepConfig& config,
                                                      const WorkerOptions& options);

// Ranks 1..N-1. Returns true when a stop request interrupted one of its jobs or calibrations.
bool work(const Environment& env, const sweep::SweepConfig& config, const WorkerOptions& options,
          backend::Backend& backend);

// Collective over every rank: each passes its own error ("" when it has none); every rank gets
// the first one in rank order, prefixed "rank R (HOST): ", or "" when there is none.
std::string first_error(const Environment& env, const std::string& host, const std::string& error);

// Broadcasts a string from rank 0 to every rank (the config text travels this way).
void broadcast(std::string& text);

}  // namespace llcb::mpi
