#include "lib/estimator/estimator.hpp"

#include <cmath>
#include <limits>

#include "lib/core/check.hpp"

namespace llcb::estimator {

const char* to_string(Divergence d) {
  switch (d) {
    case Divergence::kNone: return "none";
    case Divergence::kNonFiniteLoss: return "non_finite_loss";
    case Divergence::kLossAboveBound: return "loss_above_bound";
    case Divergence::kNonFiniteParameter: return "non_finite_parameter";
    case Divergence::kEstimateAboveBound: return "estimate_above_bound";
  }
  return "unknown";
}

double default_loss_bound(const EstimatorConfig& c) {
  return c.loss_at_center + c.divergence_factor * (static_cast<double>(c.d) / 2.0) / c.nbeta;
}

ChainEstimator::ChainEstimator(const EstimatorConfig& config)
    : config_(config), loss_bound_(default_loss_bound(config)) {
  LLCB_CHECK(config.steps > 0 && config.burn_in >= 0 && config.burn_in < config.steps,
             "estimator needs 0 <= burn_in < steps");
  LLCB_CHECK(config.diag_every >= 1, "diagnostic decimation must be >= 1");
  result_.loss_trace.reserve(static_cast<std::size_t>(config.steps));
  result_.diag_every = config.diag_every;
}

void ChainEstimator::diverge(std::int64_t t, Divergence why) {
  result_.diverged = true;
  result_.reason = why;
  result_.divergence_step = t;
}

bool ChainEstimator::observe_loss(std::int64_t t, double loss) {
  result_.loss_trace.push_back(static_cast<float>(loss));
  if (!std::isfinite(loss)) {
    diverge(t, Divergence::kNonFiniteLoss);
    return false;
  }
  if (loss > loss_bound_) {
    result_.last_finite_loss = loss;
    diverge(t, Divergence::kLossAboveBound);
    return false;
  }
  result_.last_finite_loss = loss;
  if (t >= config_.burn_in) {
    const auto k = static_cast<double>(++result_.kept);
    const double td = static_cast<double>(t);
    const double dl = loss - mean_l_;
    const double dt = td - mean_t_;
    mean_l_ += dl / k;
    mean_t_ += dt / k;
    m2_l_ += dl * (loss - mean_l_);
    m2_t_ += dt * (td - mean_t_);
    c_tl_ += dt * (loss - mean_l_);
    // Batch b holds kept steps [b K / kBatches, (b + 1) K / kBatches), K the window's length.
    const std::int64_t window = config_.steps - config_.burn_in;
    const auto b = static_cast<std::size_t>((t - config_.burn_in) * kBatches / window);
    LLCB_CHECK(b < batch_sum_.size(), "a loss observed after the last step");
    batch_sum_[b] += loss;
    ++batch_count_[b];
  }
  return true;
}

bool ChainEstimator::observe_step(std::int64_t t, double distance2, double drift2, double noise2) {
  if (!std::isfinite(distance2) || !std::isfinite(drift2) || !std::isfinite(noise2)) {
    diverge(t, Divergence::kNonFiniteParameter);
    return false;
  }
  result_.steps_run = t + 1;
  const double ratio = noise2 > 0 ? std::sqrt(drift2 / noise2) : std::numeric_limits<double>::infinity();
  if (t >= config_.burn_in && std::isfinite(ratio)) {
    ratio_sum_ += ratio;
    ++ratio_count_;
  }
  result_.final_distance = std::sqrt(distance2);
  if (t % config_.diag_every == 0 || t == config_.steps - 1) {
    result_.diag_steps.push_back(t);
    result_.distance_trace.push_back(static_cast<float>(std::sqrt(distance2)));
    result_.drift_noise_trace.push_back(static_cast<float>(ratio));
  }
  return true;
}

double ChainEstimator::standard_error() const {
  std::vector<double> means;
  for (std::size_t b = 0; b < batch_sum_.size(); ++b) {
    if (batch_count_[b] == 0) return std::numeric_limits<double>::quiet_NaN();
    means.push_back(batch_sum_[b] / static_cast<double>(batch_count_[b]));
  }
  double mean = 0;
  for (const double m : means) mean += m;
  mean /= static_cast<double>(means.size());
  double ss = 0;
  for (const double m : means) ss += (m - mean) * (m - mean);
  const auto k = static_cast<double>(means.size());
  return config_.nbeta * std::sqrt(ss / (k - 1) / k);
}

ChainResult ChainEstimator::finish(double seconds) {
  ChainResult r = std::move(result_);
  r.seconds = seconds;
  r.steps_per_second = seconds > 0 ? static_cast<double>(r.steps_run) / seconds : 0;
  if (ratio_count_ > 0) r.mean_drift_noise_ratio = ratio_sum_ / static_cast<double>(ratio_count_);
  if (r.kept > 0) {
    r.mean_loss = mean_l_;
    r.loss_variance = r.kept > 1 ? m2_l_ / static_cast<double>(r.kept - 1) : 0.0;
  }
  if (r.kept > 1 && m2_t_ > 0) {
    r.loss_slope = c_tl_ / m2_t_;
    r.nbeta_drift = config_.nbeta * r.loss_slope * static_cast<double>(r.kept);
  }
  if (r.kept > 0) r.raw_estimate = config_.nbeta * (r.mean_loss - config_.loss_at_center);
  r.estimate_se = standard_error();
  if (!r.diverged && r.kept > 0) {
    const double lambda_hat = r.raw_estimate;
    if (lambda_hat > config_.estimate_bound_factor * static_cast<double>(config_.d) / 2.0) {
      r.diverged = true;
      r.reason = Divergence::kEstimateAboveBound;
      r.divergence_step = r.steps_run;
    } else {
      r.lambda_hat = lambda_hat;
      r.nonstationary = std::isfinite(r.nbeta_drift) &&
                        std::abs(r.nbeta_drift) > config_.stationarity_tolerance * std::abs(lambda_hat);
    }
  }
  return r;
}

}  // namespace llcb::estimator
