#include "lib/sweep/calibrate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "lib/core/error.hpp"
#include "lib/core/hash.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::sweep {

store::CalibrationShape calibration_shape(const SweepConfig& config) {
  const CalibrationSettings& k = config.calibration;
  return {(k.steps + config.trace_every - 1) / config.trace_every, config.trace_every, k.chains, k.grid};
}

CalibrationOutcome run_calibration(const SweepConfig& config, const CalibrationUnit& unit, const dln::Problem& problem,
                                   backend::Backend& backend, const std::function<void()>& heartbeat) {
  const CalibrationSettings& k = config.calibration;
  Job probe;  // the chain settings of the sampler's jobs, at the calibration's length
  probe.problem_index = unit.problem_index;
  probe.problem_seed = unit.problem_seed;
  probe.sampler_index = unit.sampler_index;
  probe.step_size = k.grid.front();
  probe.chain_key = unit.description;
  backend::ChainSpec base = chain_specs(config, probe, problem).front();
  base.steps = k.steps;
  base.burn_in = k.burn_in;
  std::vector<backend::ChainSpec> specs(static_cast<std::size_t>(k.chains), base);
  for (std::size_t c = 0; c < specs.size(); ++c) {
    specs[c].chain_seed = splitmix64((config.seed ^ fnv1a64(unit.description)) + c);
    backend::validate(specs[c], problem);
  }
  backend::TraceListener beat;
  if (heartbeat) {
    beat.interval_seconds = config.chunk_seconds;
    beat.on_losses = [&](std::size_t, std::int64_t, const float*, std::size_t) { heartbeat(); };
  }
  const auto start = std::chrono::steady_clock::now();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const store::CalibrationShape shape = calibration_shape(config);
  const auto columns = static_cast<std::size_t>(shape.chains) * shape.step_sizes.size();
  CalibrationOutcome out;
  store::CalibrationRecord& r = out.record;
  CalibrationRun run;
  try {
    run = run_calibration_grid(backend, problem, data_spec(config), specs,
                               k.grid, config.trace_every, heartbeat ? &beat : nullptr);
  } catch (const UsageError&) {
    throw;
  } catch (const DeviceLostError&) {
    throw;  // the device runs nothing more: end this worker
  } catch (const std::exception& e) {
    // A failed calibration is recorded (found 0, why), as a failed job is: its slots then fail
    // with a reason instead of the sweep ending on every resume.
    r.status = "done";
    r.step_size = r.accepted_low = r.accepted_high = nan;
    r.why = std::string("the calibration failed: ") + e.what();
    r.detail = "{}";
    r.backend = backend.name();
    out.trace.assign(static_cast<std::size_t>(shape.rows) * columns, nan);
    return out;
  }
  if (run.interrupted) {
    out.interrupted = true;
    return out;
  }
  const estimator::Calibration cal = judge(run, k.rule);
  r.status = "done";
  r.found = cal.found ? 1 : 0;
  r.step_size = cal.found ? k.grid[cal.chosen] : nan;
  r.accepted_low = cal.found ? k.grid[cal.first] : nan;
  r.accepted_high = cal.found ? k.grid[cal.last] : nan;
  r.why = cal.why;
  JsonWriter w;
  w.begin_object();
  w.field("sampler", config.samplers[unit.sampler_index].name);
  w.field("problem_seed", static_cast<std::int64_t>(unit.problem_seed));
  w.field("steps", k.steps);
  w.field("burn_in", k.burn_in);
  w.field("chains", k.chains);
  write_calibration_json(w, run, cal, k.rule, nan);
  w.end_object();
  r.detail = w.str();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.backend = backend.name();
  out.trace.assign(static_cast<std::size_t>(shape.rows) * columns, nan);
  for (std::size_t p = 0; p < run.losses.size(); ++p) {
    for (std::size_t c = 0; c < run.losses[p].size(); ++c) {
      const auto& t = run.losses[p][c];
      const std::size_t column = p * static_cast<std::size_t>(shape.chains) + c;
      for (std::size_t row = 0; row < static_cast<std::size_t>(shape.rows) && row < t.size(); ++row) {
        out.trace[row * columns + column] = t[row];  // already every trace_every-th loss
      }
    }
  }
  return out;
}

double slot_step_size(const SweepConfig& config, const store::CalibrationRecord& record, std::int64_t slot) {
  if (record.status != "done" || !record.found) return std::numeric_limits<double>::quiet_NaN();
  // The grid's own formula (log_grid), so that a slot inside the grid is exactly a grid point.
  const std::vector<double>& grid = config.calibration.grid;
  const auto chosen = std::find(grid.begin(), grid.end(), record.step_size);
  if (chosen == grid.end()) throw InternalError("a calibration chose a step size off its grid");
  const auto k = static_cast<double>(chosen - grid.begin()) + static_cast<double>(slot);
  return grid.front() * std::pow(10.0, k / static_cast<double>(config.calibration.per_decade));
}

}  // namespace llcb::sweep
