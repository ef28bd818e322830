#include "lib/sweep/calibration_grid.hpp"

#include <cmath>
#include <limits>

namespace llcb::sweep {

CalibrationRun run_calibration_grid(backend::Backend& backend, const dln::Problem& problem,
                                    const backend::DataSpec& data, const std::vector<backend::ChainSpec>& chains,
                                    const std::vector<double>& steps, std::int64_t keep_every,
                                    const backend::TraceListener* listener) {
  CalibrationRun out;
  out.run = steps.size();
  for (std::size_t i = 0; i < out.run; ++i) {
    std::vector<backend::ChainSpec> specs = chains;
    for (auto& s : specs) s.sampler.step_size = steps[i];
    std::vector<estimator::CalibrationChain> point;
    std::vector<std::vector<float>> losses;
    for (auto& r : backend.run(problem, data, specs, listener)) {
      if (r.interrupted) out.interrupted = true;
      point.push_back(estimator::calibration_chain(r));
      if (keep_every > 0) {  // decimated at once: a grid of long chains is not held whole
        std::vector<float> kept;
        for (std::size_t i = 0; i < r.loss_trace.size(); i += static_cast<std::size_t>(keep_every)) {
          kept.push_back(r.loss_trace[i]);
        }
        losses.push_back(std::move(kept));
      }
    }
    if (out.interrupted) return out;
    out.grid.push_back(estimator::summarize_step(steps[i], std::move(point)));
    out.losses.push_back(std::move(losses));
    // Every chain diverged: larger step sizes diverge too; they are not run.
    if (out.grid.back().diverged == static_cast<std::int64_t>(chains.size())) out.run = i + 1;
  }
  for (std::size_t i = out.grid.size(); i < steps.size(); ++i) out.grid.push_back(estimator::summarize_step(steps[i], {}));
  return out;
}

estimator::Calibration judge(const CalibrationRun& run, const estimator::CalibrationRule& rule) {
  std::vector<estimator::StepStats> judged = run.grid;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = run.run; i < judged.size(); ++i) {
    judged[i].chains = {estimator::CalibrationChain{nan, true, false, nan, nan, nan}};
    judged[i].diverged = 1;
  }
  return estimator::recommend(judged, rule);
}

void write_calibration_json(JsonWriter& w, const CalibrationRun& run, const estimator::Calibration& cal,
                            const estimator::CalibrationRule& rule, double lambda_true) {
  w.key("rule").begin_object();
  w.field("plateau_tolerance", rule.plateau_tolerance);
  w.field("max_nonstationary", rule.max_nonstationary);
  w.field("pick", rule.pick);
  w.end_object();
  w.key("grid").begin_array();
  for (std::size_t i = 0; i < run.grid.size(); ++i) {
    const estimator::StepStats& s = run.grid[i];
    w.begin_object();
    w.field("step_size", s.step_size);
    w.field("run", i < run.run);
    w.field("chains", static_cast<std::int64_t>(s.chains.size()));
    w.field("diverged", s.diverged);
    w.field("nonstationary", s.nonstationary);
    w.field("median", s.median);
    w.field("low", s.low);
    w.field("high", s.high);
    w.field("drift_noise", s.drift_noise);
    w.field("sound", i < cal.sound.size() && cal.sound[i]);
    std::vector<double> lambdas;
    for (const estimator::CalibrationChain& c : s.chains) lambdas.push_back(c.lambda_hat);
    w.array("lambda_hat", lambdas);
    if (std::isfinite(lambda_true)) w.field("rel_error", (s.median - lambda_true) / lambda_true);
    w.end_object();
  }
  w.end_array();
}

}  // namespace llcb::sweep
