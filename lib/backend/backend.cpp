#include "lib/backend/backend.hpp"

#include <cmath>

#include "lib/backend/cpu/cpu_backend.hpp"
#include "lib/core/error.hpp"
#include "lib/dln/architecture.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::backend {

void validate(const ChainSpec& s, const dln::Problem& problem) {
  if (s.steps < 1) throw UsageError("steps is " + std::to_string(s.steps) + ", expected >= 1");
  if (s.burn_in < 0 || s.burn_in >= s.steps) {
    throw UsageError("burn-in is " + std::to_string(s.burn_in) + ", expected 0.." +
                     std::to_string(s.steps - 1) + " (it must leave at least one kept step)");
  }
  if (s.batch_size < 1 || s.batch_size > problem.n) {
    throw UsageError("batch size is " + std::to_string(s.batch_size) + ", expected 1..n = " +
                     std::to_string(problem.n));
  }
  if (!(s.divergence_factor > 0) || !std::isfinite(s.divergence_factor)) {
    throw UsageError("divergence factor must be a finite number > 0");
  }
  if (!(s.estimate_bound_factor > 0) || !std::isfinite(s.estimate_bound_factor)) {
    throw UsageError("estimate bound factor must be a finite number > 0");
  }
  if (s.diag_every < 0) throw UsageError("diagnostic decimation must be >= 0");
  samplers::validate(s.sampler);
}

std::vector<std::string> available_backends() { return {"cpu"}; }

std::unique_ptr<Backend> make_backend(const BackendOptions& options) {
  if (options.name == "cpu") return std::make_unique<CpuBackend>(options.threads, options.stop);
  std::string known;
  for (const auto& b : available_backends()) known += (known.empty() ? "" : ", ") + b;
  throw UsageError("backend '" + options.name + "' is not available in this build (available: " +
                   known + ")");
}

double loss_at_teacher(const dln::Problem& problem, const DataSpec& data) {
  if (data.target_sigma == 0) return 0.0;
  const std::int64_t h_out = problem.widths.back();
  const auto sigma = static_cast<float>(data.target_sigma);
  std::vector<float> y(static_cast<std::size_t>(h_out));
  double sum = 0;
  for (std::int64_t i = 0; i < problem.n; ++i) {
    std::fill(y.begin(), y.end(), 0.0f);
    dln::add_target_noise(problem.seed, static_cast<std::uint64_t>(i), h_out, sigma, y.data());
    for (float v : y) sum += static_cast<double>(v) * v;
  }
  return sum / (static_cast<double>(problem.n) * static_cast<double>(h_out));
}

double flops_per_step(const dln::Problem& problem, std::int64_t batch_size) {
  const auto& h = problem.widths;
  const double b = static_cast<double>(batch_size);
  const double d = static_cast<double>(dln::parameter_count(h));
  return 2 * d * b + 2 * d * b + 2 * b * (d - static_cast<double>(h[0] * h[1])) +
         2 * b * static_cast<double>(h.front() * h.back());
}

}  // namespace llcb::backend
