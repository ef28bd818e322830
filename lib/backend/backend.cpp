#include "lib/backend/backend.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "lib/backend/cpu/cpu_backend.hpp"
#if LLCB_HAVE_CUDA
#include "lib/backend/cuda/cuda_backend.hpp"
#endif
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
  if (s.drift_check_every < 1) throw UsageError("drift check interval must be >= 1 step");
  samplers::validate(s.sampler);
}

std::vector<std::string> available_backends() {
#if LLCB_HAVE_CUDA
  return {"cpu", "cuda"};
#else
  return {"cpu"};
#endif
}

void check_available(const std::string& name) {
  const auto known = available_backends();
  if (std::find(known.begin(), known.end(), name) != known.end()) return;
  std::string list;
  for (const auto& b : known) list += (list.empty() ? "" : ", ") + b;
  throw UsageError("backend '" + name + "' is not available in this build (available: " + list + ")");
}

std::unique_ptr<Backend> make_backend(const BackendOptions& options) {
  check_available(options.name);
  if (options.precision != "fp32" && options.precision != "tf32") {
    throw UsageError("precision '" + options.precision + "' is not one llcbench has: fp32 or tf32 (tf32 changes "
                     "only the cuda backend's GEMMs)");
  }
#if LLCB_HAVE_CUDA
  if (options.name == "cuda") return make_cuda_backend(options);
#endif
  return std::make_unique<CpuBackend>(options.threads, options.stop);
}

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

TraceFeed::TraceFeed(const TraceListener* listener, std::size_t chain)
    : listener_(listener && listener->on_losses ? listener : nullptr), chain_(chain),
      last_(now_seconds()) {}

void TraceFeed::offer(const std::vector<float>& trace) {
  if (!listener_ || trace.size() == sent_) return;
  const double now = now_seconds();
  if (now - last_ < listener_->interval_seconds) return;
  listener_->on_losses(chain_, static_cast<std::int64_t>(sent_), trace.data() + sent_,
                       trace.size() - sent_);
  sent_ = trace.size();
  last_ = now;
}

namespace {

// W_{b-1} ... W_a of the teacher (widths[b] x widths[a]); the identity when a == b.
dln::MatrixD teacher_range(const dln::Problem& problem, std::size_t a, std::size_t b) {
  if (a == b) {
    dln::MatrixD id(problem.widths[a], problem.widths[a]);
    for (std::int64_t i = 0; i < id.rows; ++i) id.at(i, i) = 1.0;
    return id;
  }
  const std::vector<std::int64_t> widths(problem.widths.begin() + static_cast<std::ptrdiff_t>(a),
                                         problem.widths.begin() + static_cast<std::ptrdiff_t>(b) + 1);
  return dln::chain_product(widths, [&](std::size_t s) { return dln::teacher_layer(problem, a + s); });
}

dln::MatrixD columns(const dln::MatrixD& m, std::int64_t k) {  // m[:, :k]
  dln::MatrixD out(m.rows, k);
  for (std::int64_t i = 0; i < m.rows; ++i) {
    for (std::int64_t j = 0; j < k; ++j) out.at(i, j) = m.at(i, j);
  }
  return out;
}

dln::MatrixD rows(const dln::MatrixD& m, std::int64_t k) {  // m[:k, :]
  dln::MatrixD out(k, m.cols);
  std::copy(m.a.begin(), m.a.begin() + k * m.cols, out.a.begin());
  return out;
}

// The teacher's narrowest point: an inner width H_j (between layers j - 1 and j), or a layer cut
// to k; at = 0 and !layer when nothing is narrower than the ends. From the architecture alone.
struct NarrowestPoint {
  std::int64_t rank = 0;
  std::size_t at = 0;
  bool layer = false;
};

NarrowestPoint narrowest_point(const dln::Problem& problem) {
  NarrowestPoint n{std::min(problem.widths.front(), problem.widths.back()), 0, false};
  for (std::size_t j = 1; j + 1 < problem.widths.size(); ++j) {
    if (problem.widths[j] < n.rank) n = {problem.widths[j], j, false};
  }
  for (std::size_t s = 0; s < problem.cuts.size(); ++s) {
    if (problem.cuts[s].cut && problem.cuts[s].k < n.rank) n = {problem.cuts[s].k, s, true};
  }
  return n;
}

}  // namespace

std::int64_t targets_rank(const dln::Problem& problem, bool factored) {
  const std::int64_t r = narrowest_point(problem).rank;
  const std::int64_t h_in = problem.widths.front(), h_out = problem.widths.back();
  return factored && r * (h_in + h_out) < h_in * h_out ? r : 0;
}

TeacherFactors teacher_factors(const dln::Problem& problem) {
  const std::size_t m = problem.widths.size() - 1;  // layers
  const auto [best, at, layer] = narrowest_point(problem);
  TeacherFactors f;
  f.rank = best;
  if (!layer && at == 0) {  // no point narrower than the ends: P itself, through an identity
    const dln::MatrixD p = dln::teacher_product(problem);
    if (p.rows <= p.cols) {
      f.out = teacher_range(problem, m, m);
      f.in = p;
    } else {
      f.out = p;
      f.in = teacher_range(problem, 0, 0);
    }
    return f;
  }
  if (!layer) {
    f.out = teacher_range(problem, at, m);
    f.in = teacher_range(problem, 0, at);
    return f;
  }
  const dln::LayerCut& cut = problem.cuts[at];
  const dln::MatrixD w = dln::teacher_layer(problem, at);
  if (cut.rows) {  // W_s = [W_s[:k, :]; 0]: P = (W_M..W_{s+1})[:, :k] (W_s[:k, :] W_{s-1}..W_1)
    f.out = columns(teacher_range(problem, at + 1, m), cut.k);
    f.in = dln::multiply(rows(w, cut.k), teacher_range(problem, 0, at));
  } else {  // W_s = [W_s[:, :k] 0]: P = (W_M..W_{s+1} W_s[:, :k]) (W_{s-1}..W_1)[:k, :]
    f.out = dln::multiply(teacher_range(problem, at + 1, m), columns(w, cut.k));
    f.in = rows(teacher_range(problem, 0, at), cut.k);
  }
  return f;
}

bool parse_targets(const std::string& text, const std::string& what) {
  if (text == "factored") return true;
  if (text == "product") return false;
  throw UsageError(what + " is '" + text + "', expected factored or product");
}

TeacherData teacher_data(const dln::Problem& problem, bool factored) {
  TeacherData t;
  for (std::size_t s = 0; s < problem.cuts.size(); ++s) {
    const dln::MatrixD w = dln::teacher_layer(problem, s);
    for (double v : w.a) t.center.push_back(static_cast<float>(v));
  }
  const dln::MatrixD p = dln::teacher_product(problem);
  t.product.reserve(p.a.size());
  for (double v : p.a) t.product.push_back(static_cast<float>(v));
  if (targets_rank(problem, factored) == 0) return t;  // the product is no more work
  const TeacherFactors f = teacher_factors(problem);
  for (double v : f.in.a) t.factor_in.push_back(static_cast<float>(v));
  for (double v : f.out.a) t.factor_out.push_back(static_cast<float>(v));
  t.rank = f.rank;
  return t;
}

void PreparedProblem::prepare(const dln::Problem& problem, const DataSpec& data) {
  char sigma[40];
  std::snprintf(sigma, sizeof sigma, "%.17g", data.target_sigma);
  const std::string key = problem.class_name + "|" + std::to_string(problem.seed) + "|" +
                          dln::to_string(problem.teacher) + "|" + std::to_string(problem.rank) +
                          "|" + std::to_string(problem.n) + "|" + sigma + (data.factored_targets ? "|f" : "|p");
  if (key == key_) return;
  key_.clear();  // stays invalid if the computation below throws
  teacher_ = teacher_data(problem, data.factored_targets);
  loss_center_ = loss_at_teacher(problem, data);
  key_ = key;
}

estimator::EstimatorConfig estimator_config(const ChainSpec& spec, std::int64_t d,
                                            double loss_center) {
  estimator::EstimatorConfig ec;
  ec.steps = spec.steps;
  ec.burn_in = spec.burn_in;
  ec.nbeta = spec.sampler.nbeta;
  ec.loss_at_center = loss_center;
  ec.d = d;
  ec.divergence_factor = spec.divergence_factor;
  ec.estimate_bound_factor = spec.estimate_bound_factor;
  ec.stationarity_tolerance = spec.stationarity_tolerance;
  ec.diag_every = spec.diag_every > 0 ? spec.diag_every : std::max<std::int64_t>(1, spec.steps / 1000);
  return ec;
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

void ChainGroup::sum_device(float*, std::size_t, void*) {
  throw InternalError("this chain group cannot sum device memory");
}
void ChainGroup::sum_device(double*, std::size_t, void*) {
  throw InternalError("this chain group cannot sum device memory");
}
void ChainGroup::wait_device(void*, double) {
  throw InternalError("this chain group cannot wait for a device stream");
}

RowShare group_rows(std::int64_t batch, int rank, int size) {
  const std::int64_t base = batch / size, extra = batch % size;
  RowShare r;
  r.count = base + (rank < extra ? 1 : 0);
  r.first = rank * base + std::min<std::int64_t>(rank, extra);
  return r;
}

double update_bytes_per_step(samplers::SamplerKind kind, std::int64_t d) {
  const int states = samplers::sampler_info(kind).states;
  return static_cast<double>(d) * (16.0 + 8.0 * states);
}

double step_floor_seconds(const dln::Problem& problem, std::int64_t batch_size,
                          samplers::SamplerKind kind, const HardwareFloor& floor, std::int64_t targets_rank,
                          std::int64_t cut) {
  double s = 0;
  if (floor.sgemm_gflops > 0) s += flops_per_step(problem, batch_size, targets_rank, cut) / (floor.sgemm_gflops * 1e9);
  if (floor.bandwidth_gbs > 0) {
    s += update_bytes_per_step(kind, dln::parameter_count(problem.widths)) / (floor.bandwidth_gbs * 1e9);
  }
  return s;
}

double flops_per_step(const dln::Problem& problem, std::int64_t batch_size, std::int64_t targets_rank,
                      std::int64_t cut) {
  const auto& h = problem.widths;
  const double b = static_cast<double>(batch_size);
  const double targets = targets_rank > 0 ? static_cast<double>(targets_rank * (h.front() + h.back()))
                                          : static_cast<double>(h.front() * h.back());
  return gradient_flops(h, batch_size, cut) + 2 * b * targets;
}

}  // namespace llcb::backend
