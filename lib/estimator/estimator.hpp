// The LLC estimator of one chain, fed step by step by a backend (benchmark.md section 4):
//
//   lambda_hat = nbeta * (mean_{t >= burn_in} L_m(w_t) - L_n(w*))
//
// where t = 0..steps-1 indexes the minibatch losses, L_m(w_0) being the loss at w* itself.
// Streaming: the kept window's mean and variance (Welford, double) and the least-squares slope of
// the loss in t, so nothing but the trace is stored.
//
// Divergence (stops the chain at once; lambda_hat is NaN, never a number):
//   - a non-finite minibatch loss, or one above loss_bound;
//   - a non-finite parameter (reported by the backend through mark_nonfinite_parameter);
//   - at the end, an estimate above estimate_bound_factor * d/2 (no LLC exceeds d/2;
//     preconditioned samplers fail this way). The default factor 2 keeps noise and moderate bias
//     around d/2 (a regular model's LLC is d/2 itself) from counting as failure;
//     docs/samplers.md gives its measured false-positive and detection rates.
// Standard error: the kept window is cut into kBatches batches of consecutive steps (sizes
// differing by at most one); estimate_se = nbeta * sd(batch means) / sqrt(kBatches), the
// batch-means estimate, which allows for the autocorrelation of the trace within a batch.
// Default bound: L_n(w*) + divergence_factor * (d/2) / nbeta, i.e. a loss whose nbeta-scaled
// excess is divergence_factor times the largest possible LLC.
//
// Not thread-safe: one estimator per chain, fed from one thread.
#pragma once

#include <cstdint>
#include <vector>

#include "lib/estimator/chain_result.hpp"

namespace llcb::estimator {

constexpr double kEstimateBoundFactor = 2;  // the default estimate bound, in units of d/2

struct EstimatorConfig {
  std::int64_t steps = 0;
  std::int64_t burn_in = 0;        // 0 <= burn_in < steps
  double nbeta = 0;
  double loss_at_center = 0;       // L_n(w*)
  std::int64_t d = 0;
  double divergence_factor = 100;  // see above
  double estimate_bound_factor = kEstimateBoundFactor;
  double stationarity_tolerance = 0.1;
  std::int64_t diag_every = 1;     // diagnostic decimation
};

double default_loss_bound(const EstimatorConfig& c);

constexpr std::int64_t kBatches = 20;  // batches of the standard error

class ChainEstimator {
 public:
  explicit ChainEstimator(const EstimatorConfig& config);

  // Records L_m(w_t). Returns false when the chain diverged at t (the caller stops).
  bool observe_loss(std::int64_t t, double loss);
  // Records the step's diagnostics (after its update). Returns false, marking divergence, when
  // the sums are not finite (a parameter became NaN or infinite).
  bool observe_step(std::int64_t t, double distance2, double drift2, double noise2);

  bool diverged() const { return result_.diverged; }
  const std::vector<float>& loss_trace() const { return result_.loss_trace; }
  ChainResult finish(double seconds);

 private:
  void diverge(std::int64_t t, Divergence why);
  double standard_error() const;  // of the estimate from the batch means; NaN if a batch is empty

  EstimatorConfig config_;
  double loss_bound_;
  ChainResult result_;
  // Welford accumulators over the kept window: loss mean and M2, t mean and M2, co-moment.
  double mean_l_ = 0, m2_l_ = 0, mean_t_ = 0, m2_t_ = 0, c_tl_ = 0;
  std::vector<double> batch_sum_ = std::vector<double>(kBatches, 0.0);
  std::vector<std::int64_t> batch_count_ = std::vector<std::int64_t>(kBatches, 0);
  double ratio_sum_ = 0;
  std::int64_t ratio_count_ = 0;
};

}  // namespace llcb::estimator
