// The /problems and /jobs tables a new store starts with (docs/store.md): one row per problem
// (its architecture, Aoyagi's value and the local truth at its teacher) and one per job of the
// grid, every job pending. Used when a store is created and when a damaged one is rebuilt.
#pragma once

#include <vector>

#include "lib/store/table.hpp"
#include "lib/sweep/grid.hpp"

namespace llcb::sweep {

store::Table problems_table(const std::vector<dln::Problem>& problems);
store::Table jobs_table(const SweepConfig& config, const std::vector<Job>& jobs,
                        const std::vector<dln::Problem>& problems);

// /calibrations as a new store holds it: a row per calibration unit, every one "pending".
store::Table calibrations_table(const SweepConfig& config, const std::vector<CalibrationUnit>& units);

}  // namespace llcb::sweep
