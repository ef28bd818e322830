// Step-size calibration without the truth (docs/calibration.md): short chains at each step size
// of a log grid, summarised from what a user of a real network has (each chain's lambda_hat,
// divergence, the stationarity of its kept window, its drift-to-noise ratio), and a rule that
// picks a step size and an accepted range from those alone. Nothing here sees a true LLC; the
// CLI prints the truth beside the result only when asked, for studies.
//
// The rule (CalibrationRule, defaults measured in docs/calibration.md):
//   - a grid point is sound when no chain diverged, at most `max_nonstationary` of its chains
//     have a kept window that drifts (ChainResult::nonstationary), and it has a finite median;
//   - neighbouring sound points whose medians differ by at most `plateau_tolerance` (relative to
//     the larger) belong to one plateau: lambda_hat no longer depends much on the step size;
//   - the accepted range is the longest plateau of at least two points (ties: the one at larger
//     step sizes, which mix faster); the recommended step size is its `pick` point: "upper"
//     (its largest step size) or "middle" (its geometric middle, the upper one of two).
// Where no plateau exists the result says why (every point diverged; none is sound; sound
// points but no two agree) and found is false: a caller must not pick anything then.
// Deterministic: the same statistics give the same choice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/estimator/chain_result.hpp"

namespace llcb::estimator {

// One chain at one step size, as calibration keeps it.
struct CalibrationChain {
  double lambda_hat = 0;  // NaN when diverged
  bool diverged = false;
  bool nonstationary = false;  // ChainResult::nonstationary: |nbeta_drift| > 0.1 lambda_hat
  double drift_noise = 0;      // mean |drift| / |noise| over the kept window
  double estimate_se = 0;      // batch-means standard error of lambda_hat (NaN when unknown)
  double nbeta_drift = 0;      // nbeta * loss slope * kept steps: the window's drift, in lambda units
};

// Whether a chain's kept window drifts beyond its noise: nonstationary, and |nbeta_drift| above
// 2 standard errors of a least-squares drift across the window (sqrt(12) x the mean's standard
// error for a window of that many effective samples). Short calibration chains flag noise as
// drift otherwise (docs/calibration.md). A chain without a standard error counts by its flag.
bool drifts(const CalibrationChain& c);

CalibrationChain calibration_chain(const ChainResult& r);

// The chains of one grid point, summarised.
struct StepStats {
  double step_size = 0;
  std::vector<CalibrationChain> chains;
  std::int64_t diverged = 0, nonstationary = 0;  // nonstationary: drifts(), among the chains that did not diverge
  double median = 0, low = 0, high = 0;          // lambda_hat of the chains that did not diverge
  double drift_noise = 0;                        // median drift/noise of those chains
};

StepStats summarize_step(double step_size, std::vector<CalibrationChain> chains);

// Defaults: the setting that recommended a step size within 15% of an exact truth most often on
// the tuning problems of docs/calibration.md (tiny class, seeds 1-8, both teacher modes, all five
// samplers); there the drift test did not help (max_nonstationary 1 ignores it).
struct CalibrationRule {
  double plateau_tolerance = 0.3;
  double max_nonstationary = 1.0;  // fraction of a point's chains
  std::string pick = "middle";     // "upper" or "middle"
};

// UsageError for a rule that makes no sense (tolerance <= 0, an unknown pick).
void validate(const CalibrationRule& rule);

struct Calibration {
  bool found = false;
  std::size_t chosen = 0, first = 0, last = 0;  // grid indices: the pick and the accepted range
  std::vector<bool> sound;                      // per grid point
  std::string why;                              // one line, found or not
};

// grid: ascending step sizes.
Calibration recommend(const std::vector<StepStats>& grid, const CalibrationRule& rule);

}  // namespace llcb::estimator
