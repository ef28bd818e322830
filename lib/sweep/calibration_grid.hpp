// The grid of short chains that `llcbench calibrate` and a sweep's calibrated samplers share
// (lib/estimator/calibration.hpp has the statistics and the rule), and its JSON form. No store
// here: llcbench-bench links it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/backend/backend.hpp"
#include "lib/core/json.hpp"
#include "lib/estimator/calibration.hpp"

namespace llcb::sweep {

// The chains of a calibration grid as run.
struct CalibrationRun {
  std::vector<estimator::StepStats> grid;  // every grid point; those from `run` on have no chains
  std::size_t run = 0;  // points [0, run) ran; the later ones did not: every chain at a smaller step size diverged
  std::vector<std::vector<std::vector<float>>> losses;  // [point][chain]: every keep_every-th loss
  bool interrupted = false;  // a stop request ended it: not a result
};

// Runs `chains` (K specs; each point sets their step size) at the ascending step sizes `steps`,
// in order, until every chain of a point diverged. keep_every > 0: keep every keep_every-th loss of
// each chain in CalibrationRun::losses (0: keep none).
CalibrationRun run_calibration_grid(backend::Backend& backend, const dln::Problem& problem,
                                    const backend::DataSpec& data, const std::vector<backend::ChainSpec>& chains,
                                    const std::vector<double>& steps, std::int64_t keep_every,
                                    const backend::TraceListener* listener = nullptr);

// The rule's verdict on a run; grid points not run count as diverged.
estimator::Calibration judge(const CalibrationRun& run, const estimator::CalibrationRule& rule);

// The "rule" and "grid" fields of `calibrate --json` (also a /calibrations row's detail); each
// point's rel_error against lambda_true only where lambda_true is finite (--show-truth).
void write_calibration_json(JsonWriter& w, const CalibrationRun& run, const estimator::Calibration& cal,
                            const estimator::CalibrationRule& rule, double lambda_true);

}  // namespace llcb::sweep
