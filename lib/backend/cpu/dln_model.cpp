#include "lib/backend/cpu/dln_model.hpp"

#include <algorithm>

#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/dln/linalg.hpp"

namespace llcb::backend::cpu {
namespace {

constexpr std::int64_t kChunk = 4096;

using dln::gemm;  // thread-count-independent (lib/dln/linalg.hpp)

}  // namespace

double chunked_sum_squares(const float* x, std::int64_t n) {
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks));
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t end = std::min(n, (c + 1) * kChunk);
    const float* y = x + c * kChunk;
    double lanes[kSumLanes] = {};  // fixed lanes: the same bits for every vector width
    for_each_lane(end - c * kChunk,
                  [&](std::int64_t i, int l) { lanes[l] += static_cast<double>(y[i]) * y[i]; });
    partial[static_cast<std::size_t>(c)] = add_lanes(lanes);
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

DlnModel::DlnModel(std::vector<std::int64_t> widths, std::int64_t batch, std::int64_t normaliser_rows)
    : widths_(std::move(widths)), batch_(batch),
      normaliser_rows_(normaliser_rows > 0 ? normaliser_rows : batch), d_(0) {
  const std::size_t m = widths_.size() - 1;
  for (std::size_t s = 0; s < m; ++s) {
    offsets_.push_back(d_);
    d_ += widths_[s] * widths_[s + 1];
  }
  for (std::size_t s = 0; s <= m; ++s) acts_.emplace_back(static_cast<std::size_t>(batch_ * widths_[s]));
  targets_.resize(static_cast<std::size_t>(batch_ * widths_.back()));
  const std::int64_t hmax = *std::max_element(widths_.begin(), widths_.end());
  g_a_.resize(static_cast<std::size_t>(batch_ * hmax));
  g_b_.resize(static_cast<std::size_t>(batch_ * hmax));
}

void DlnModel::compute_targets(const TeacherData& teacher) {
  const std::int64_t h_in = widths_.front(), h_out = widths_.back(), r = teacher.rank;
  if (r == 0) {
    gemm(false, true, batch_, h_out, h_in, acts_[0].data(), h_in, teacher.product.data(), h_in,
         targets_.data(), h_out);
    return;
  }
  // T = X F_in^T (B x r, in g_a_, free until the residual), then Y = T F_out^T.
  gemm(false, true, batch_, r, h_in, acts_[0].data(), h_in, teacher.factor_in.data(), h_in, g_a_.data(), r);
  gemm(false, true, batch_, h_out, r, g_a_.data(), r, teacher.factor_out.data(), r, targets_.data(), h_out);
}

void DlnModel::forward(const float* w) {
  const std::size_t m = widths_.size() - 1;
  for (std::size_t s = 0; s < m; ++s) {
    gemm(false, true, batch_, widths_[s + 1], widths_[s], acts_[s].data(), widths_[s], w + offsets_[s],
         widths_[s], acts_[s + 1].data(), widths_[s + 1]);
  }
}

void DlnModel::backward(const float* w, float* grad, float* g) {
  float* g_next = g == g_a_.data() ? g_b_.data() : g_a_.data();
  for (std::size_t s = widths_.size() - 1; s-- > 0;) {
    // dL/dW_s = G_{s+1}^T A_s   (H_{s+1} x H_s)
    gemm(true, false, widths_[s + 1], widths_[s], batch_, g, widths_[s + 1], acts_[s].data(),
         widths_[s], grad + offsets_[s], widths_[s]);
    if (s > 0) {
      // G_s = G_{s+1} W_s   (B x H_s)
      gemm(false, false, batch_, widths_[s], widths_[s + 1], g, widths_[s + 1], w + offsets_[s],
           widths_[s], g_next, widths_[s]);
      std::swap(g, g_next);
    }
  }
}

double DlnModel::loss_and_gradient(const float* w, float* grad) {
  const std::size_t m = widths_.size() - 1;
  forward(w);
  // Residual into g_a_, loss in double, then scale to dL/dA_M = 2 R / (B H_out).
  const std::int64_t count = batch_ * widths_.back();
  float* g = g_a_.data();
  const float* out = acts_[m].data();
  const float* y = targets_.data();
#pragma omp parallel for simd schedule(static)
  for (std::int64_t i = 0; i < count; ++i) g[i] = out[i] - y[i];
  const double normaliser = static_cast<double>(normaliser_rows_ * widths_.back());
  const double loss = chunked_sum_squares(g, count) / normaliser;
  const float scale = static_cast<float>(2.0 / normaliser);
#pragma omp parallel for simd schedule(static)
  for (std::int64_t i = 0; i < count; ++i) g[i] *= scale;
  backward(w, grad, g);
  return loss;
}

void DlnModel::step_gemms(const TeacherData& teacher, const float* w, float* grad) {
  compute_targets(teacher);
  forward(w);
  backward(w, grad, g_a_.data());
}

}  // namespace llcb::backend::cpu
