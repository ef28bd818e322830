// What one chain reports: the LLC estimate, the loss trace, divergence and diagnostics
// (benchmark.md section 4). Travels from the backend to the CLI and, later, into the store.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace llcb::estimator {

// Why a chain was declared diverged.
enum class Divergence : std::uint8_t {
  kNone,
  kNonFiniteLoss,       // the minibatch loss was NaN or infinite
  kLossAboveBound,      // the minibatch loss exceeded the divergence bound
  kNonFiniteParameter,  // a parameter (or the step's sums) became NaN or infinite
  kEstimateAboveBound,  // the chain finished with an estimate above the estimate bound
                        // (estimator.hpp: far above d/2, the largest possible LLC)
};
const char* to_string(Divergence d);

struct ChainResult {
  double lambda_hat = std::numeric_limits<double>::quiet_NaN();  // NaN when diverged
  // nbeta * (mean kept loss - L_n(w*)) whether or not the chain diverged (NaN with no kept step):
  // for diagnosis only; summaries use lambda_hat.
  double raw_estimate = std::numeric_limits<double>::quiet_NaN();
  // Batch-means standard error of raw_estimate (estimator.hpp); NaN below kBatches kept steps.
  double estimate_se = std::numeric_limits<double>::quiet_NaN();
  double mean_loss = std::numeric_limits<double>::quiet_NaN();   // over the kept window
  double loss_variance = std::numeric_limits<double>::quiet_NaN();
  std::int64_t kept = 0;           // number of losses in the kept window (t >= burn_in)
  std::int64_t steps_run = 0;      // steps completed (the divergence step excluded)
  bool diverged = false;
  Divergence reason = Divergence::kNone;
  std::int64_t divergence_step = -1;
  double last_finite_loss = std::numeric_limits<double>::quiet_NaN();

  std::vector<float> loss_trace;   // L_m(w_t) for every step run (and the diverging one)

  // Diagnostics, recorded every diag_every steps (step index in diag_steps).
  std::int64_t diag_every = 0;
  std::vector<std::int64_t> diag_steps;
  std::vector<float> distance_trace;    // ||w_t - w*|| after the step's update
  std::vector<float> drift_noise_trace; // ||drift|| / ||noise|| of the step
  double mean_drift_noise_ratio = std::numeric_limits<double>::quiet_NaN();  // kept window
  double final_distance = std::numeric_limits<double>::quiet_NaN();
  // Least-squares slope of the loss over the kept window (loss per step), and the change it
  // implies across the window in units of lambda: nbeta * slope * kept.
  double loss_slope = std::numeric_limits<double>::quiet_NaN();
  double nbeta_drift = std::numeric_limits<double>::quiet_NaN();
  bool nonstationary = false;           // |nbeta_drift| > stationarity_tolerance * lambda_hat

  double seconds = 0;
  double steps_per_second = 0;
  bool interrupted = false;  // stopped by a stop request before finishing (not a result)
};

}  // namespace llcb::estimator
