// A sweep's calibration of one calibrated sampler on one problem (docs/calibration.md "In a
// sweep"), run on the grid of calibration_grid.hpp, and the step sizes of its slots. A
// calibration is a pure function of (config, unit): the same on any rank.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "lib/store/calibration_record.hpp"
#include "lib/store/store.hpp"
#include "lib/sweep/calibration_grid.hpp"
#include "lib/sweep/grid.hpp"

namespace llcb::sweep {

store::CalibrationShape calibration_shape(const SweepConfig& config);

struct CalibrationOutcome {
  store::CalibrationRecord record;  // status "done"; host and finished are the writer's
  std::vector<float> trace;         // calibration_shape rows x columns, NaN where nothing ran
  bool interrupted = false;
};

// The calibration of `unit` on its problem (config.calibration's grid, chains and rule). The
// heartbeat, when given, is called about every config.chunk_seconds while chains run.
CalibrationOutcome run_calibration(const SweepConfig& config, const CalibrationUnit& unit, const dln::Problem& problem,
                                   backend::Backend& backend, const std::function<void()>& heartbeat = {});

// The step size of slot `slot`: the chosen one moved that many points along the calibration grid
// (past its ends at the same spacing); NaN when the calibration found none.
double slot_step_size(const SweepConfig& config, const store::CalibrationRecord& record, std::int64_t slot);

}  // namespace llcb::sweep
