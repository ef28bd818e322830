#include "lib/estimator/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "lib/core/error.hpp"
#include "lib/core/median.hpp"

namespace llcb::estimator {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string eps(double step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", step);
  return buf;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * fraction);
  return buf;
}

}  // namespace

CalibrationChain calibration_chain(const ChainResult& r) {
  return {r.lambda_hat, r.diverged, r.nonstationary, r.mean_drift_noise_ratio, r.estimate_se, r.nbeta_drift};
}

bool drifts(const CalibrationChain& c) {
  if (!c.nonstationary) return false;
  if (!std::isfinite(c.estimate_se) || !std::isfinite(c.nbeta_drift)) return true;
  return std::fabs(c.nbeta_drift) > 2.0 * std::sqrt(12.0) * c.estimate_se;
}

StepStats summarize_step(double step_size, std::vector<CalibrationChain> chains) {
  StepStats s;
  s.step_size = step_size;
  std::vector<double> lambdas, ratios;
  for (const CalibrationChain& c : chains) {
    if (c.diverged || !std::isfinite(c.lambda_hat)) {
      ++s.diverged;
      continue;
    }
    s.nonstationary += drifts(c) ? 1 : 0;
    lambdas.push_back(c.lambda_hat);
    if (std::isfinite(c.drift_noise)) ratios.push_back(c.drift_noise);
  }
  s.chains = std::move(chains);
  s.median = median(lambdas);
  s.low = lambdas.empty() ? kNaN : *std::min_element(lambdas.begin(), lambdas.end());
  s.high = lambdas.empty() ? kNaN : *std::max_element(lambdas.begin(), lambdas.end());
  s.drift_noise = median(ratios);
  return s;
}

void validate(const CalibrationRule& rule) {
  if (!(rule.plateau_tolerance > 0) || !std::isfinite(rule.plateau_tolerance)) {
    throw UsageError("calibration: the plateau tolerance must be a number above 0");
  }
  if (!(rule.max_nonstationary >= 0 && rule.max_nonstationary <= 1)) {
    throw UsageError("calibration: the tolerated fraction of drifting chains must be within [0, 1]");
  }
  if (rule.pick != "upper" && rule.pick != "middle") {
    throw UsageError("calibration: pick '" + rule.pick + "' is not upper or middle");
  }
}

Calibration recommend(const std::vector<StepStats>& grid, const CalibrationRule& rule) {
  validate(rule);
  for (std::size_t i = 1; i < grid.size(); ++i) {
    if (!(grid[i].step_size > grid[i - 1].step_size)) {
      throw UsageError("calibration: step sizes must be given in ascending order, each once");
    }
  }
  Calibration out;
  std::size_t diverged = 0;
  for (const StepStats& s : grid) {
    const auto ran = static_cast<double>(s.chains.size());
    const bool ok = !s.chains.empty() && s.diverged == 0 && std::isfinite(s.median) &&
                    static_cast<double>(s.nonstationary) <= rule.max_nonstationary * ran;
    out.sound.push_back(ok);
    diverged += !s.chains.empty() && s.diverged == static_cast<std::int64_t>(s.chains.size());
  }
  if (grid.empty()) {
    out.why = "no step sizes to calibrate over";
    return out;
  }
  if (diverged == grid.size()) {
    out.why = "every chain diverged at every step size (down to " + eps(grid.front().step_size) +
              "): extend the grid to smaller step sizes";
    return out;
  }
  if (std::none_of(out.sound.begin(), out.sound.end(), [](bool b) { return b; })) {
    out.why = "no step size gave chains that all stayed finite with a stationary kept window: lengthen the "
              "chains (--steps) or extend the grid";
    return out;
  }
  // Plateaus: runs of sound neighbours whose medians agree within the tolerance.
  std::size_t best_first = 0, best_len = 0;
  for (std::size_t i = 0; i < grid.size();) {
    if (!out.sound[i]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j + 1 < grid.size() && out.sound[j + 1]) {
      const double a = grid[j].median, b = grid[j + 1].median;
      if (std::fabs(b - a) > rule.plateau_tolerance * std::max(std::fabs(a), std::fabs(b))) break;
      ++j;
    }
    const std::size_t len = j - i + 1;
    if (len >= 2 && len >= best_len) {  // ties: the later run, at larger step sizes
      best_first = i;
      best_len = len;
    }
    i = j + 1;
  }
  if (best_len < 2) {
    out.why = "no plateau: lambda_hat changes by more than " + percent(rule.plateau_tolerance) +
              " between every two neighbouring sound step sizes; use a finer grid or longer chains";
    return out;
  }
  out.found = true;
  out.first = best_first;
  out.last = best_first + best_len - 1;
  out.chosen = rule.pick == "upper" ? out.last : out.first + best_len / 2;
  const StepStats& c = grid[out.chosen];
  out.why = "the " + std::string(rule.pick == "upper" ? "largest" : "middle") + " step size of the " +
            std::to_string(best_len) + "-point plateau " + eps(grid[out.first].step_size) + ".." +
            eps(grid[out.last].step_size) + " where lambda_hat changes by at most " +
            percent(rule.plateau_tolerance) + " a grid point and no chain diverged" +
            (rule.max_nonstationary < 1 ? ", at most " + percent(rule.max_nonstationary) + " of the chains drifting"
                                        : std::string()) +
            " (median lambda_hat " + eps(c.median) + " there)";
  return out;
}

}  // namespace llcb::estimator
