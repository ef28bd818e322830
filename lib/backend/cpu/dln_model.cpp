#include "lib/backend/cpu/dln_model.hpp"

#include <omp.h>

#include <algorithm>
#include <functional>

#include "lib/backend/cpu/chunk_owners.hpp"
#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/core/check.hpp"
#include "lib/dln/linalg.hpp"

namespace llcb::backend::cpu {
namespace {

using dln::gemm;  // thread-count-independent (lib/dln/linalg.hpp)

// CutPass's GEMMs: its r-row products split by columns (dln::gemm_rows_or_columns).
const auto gemm_f32 = [](bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                         std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
  dln::gemm_rows_or_columns(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
};

}  // namespace

DlnModel::DlnModel(std::vector<std::int64_t> widths, std::int64_t batch, std::int64_t normaliser_rows,
                   std::int64_t cut, bool batch_halves)
    : widths_(std::move(widths)), batch_(batch),
      normaliser_rows_(normaliser_rows > 0 ? normaliser_rows : batch), d_(0), cut_(cut),
      batch_halves_(batch_halves) {
  const auto m = static_cast<std::int64_t>(widths_.size()) - 1;
  LLCB_CHECK(cut_ >= -1 && cut_ <= m, "gradient cut outside the network");
  for (std::int64_t s = 0; s < m; ++s) {
    offsets_.push_back(d_);
    d_ += widths_[s] * widths_[s + 1];
  }
  const auto size = [&](std::int64_t rows, std::int64_t cols) { return static_cast<std::size_t>(rows * cols); };
  acts_.resize(static_cast<std::size_t>(m + 1));
  for (std::int64_t s = 0; s <= m; ++s) {
    if (cut_ < 0 || s == 0 || s == m) acts_[static_cast<std::size_t>(s)].resize(size(batch_, widths_[s]));
  }
  targets_.resize(size(batch_, widths_.back()));
  const std::int64_t hmax = *std::max_element(widths_.begin(), widths_.end());
  g_a_.resize(size(batch_, hmax));
  if (batch_halves_) {
    // The largest sum over the batch: a layer's weight gradient, or through a cut r x H_1 and
    // H_{M+1} x r.
    std::int64_t largest = 0;
    for (std::int64_t s = 0; s < m; ++s) largest = std::max(largest, widths_[s] * widths_[s + 1]);
    if (cut_ >= 0) largest = std::max(widths_.front(), widths_.back()) * widths_[cut_];
    half_sum_.resize(static_cast<std::size_t>(largest));
  }
  if (cut_ < 0) {
    g_b_.resize(size(batch_, hmax));
    return;
  }
  pass_ = std::make_unique<CutPass>(widths_, batch_, cut_, true);  // side scratch: the sides may run at once
  constexpr std::int64_t kAlign = 16;  // floats: each scratch array on its own 64-byte lines
  cut_scratch_.resize(static_cast<std::size_t>(pass_->scratch_size(kAlign)));
  cut_buffers_ = pass_->scratch_buffers(cut_scratch_.data(), kAlign);
  cut_buffers_.x = acts_.front().data();
  cut_buffers_.out = acts_.back().data();
  cut_buffers_.w.resize(static_cast<std::size_t>(m));
  cut_buffers_.grad.resize(static_cast<std::size_t>(m));
  sides_balanced_ = sides_balance(widths_, batch_, cut_);
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

dln::GemmCut DlnModel::batch_sum_cut() const {
  return batch_halves_ ? dln::GemmCut::kBatchHalves : cut_ >= 0 ? dln::GemmCut::kRowsOrColumns : dln::GemmCut::kRows;
}

void DlnModel::batch_sum(std::int64_t m, std::int64_t n, const float* a, std::int64_t lda, const float* b,
                         std::int64_t ldb, float* c, std::int64_t ldc, int adder) {
  switch (batch_sum_cut()) {
    case dln::GemmCut::kBatchHalves:
      dln::gemm_batch_halves(m, n, batch_, a, lda, b, ldb, c, ldc, half_sum_.data(), adder);
      break;
    case dln::GemmCut::kRowsOrColumns:
      dln::gemm_rows_or_columns(true, false, m, n, batch_, a, lda, b, ldb, c, ldc);
      break;
    case dln::GemmCut::kRows:
      gemm(true, false, m, n, batch_, a, lda, b, ldb, c, ldc);
      break;
  }
}

std::vector<int> DlnModel::update_owners(const float* grad, int team) {
  ChunkOwners owners(d_, team);
  // Records the parts of a product that land in the gradient: spread over the team, or all in
  // one thread (>= 0).
  const auto record = [&](dln::GemmCut cut, std::int64_t m, std::int64_t n, std::int64_t k, const float* c,
                          std::int64_t ldc, int thread = -1, int adder = -1) {
    if (std::less<const float*>{}(c, grad) || !std::less<const float*>{}(c, grad + d_)) return;
    for (dln::GemmPart p : dln::gemm_parts(cut, m, n, k, thread < 0 ? team : 1, adder)) {
      if (thread >= 0) p.thread = thread;
      owners.add(c - grad, ldc, p);
    }
  };
  if (cut_ < 0) {
    for (std::size_t s = 0; s + 1 < widths_.size(); ++s) {
      record(batch_sum_cut(), widths_[s + 1], widths_[s], batch_, grad + offsets_[s], widths_[s]);
    }
    return owners.owners();
  }
  // The backward pass (cut_backward()), its products recorded instead of computed; each side's
  // in its own thread when the sides run apart.
  CutBuffers dry = cut_buffers_;
  for (std::size_t s = 0; s < offsets_.size(); ++s) dry.grad[s] = const_cast<float*>(grad) + offsets_[s];
  const auto dry_gemm = [&](dln::GemmCut cut, int thread, int adder) {
    return [&record, cut, thread, adder](bool, bool, std::int64_t m, std::int64_t n, std::int64_t k, const float*,
                                         std::int64_t, const float*, std::int64_t, float* c, std::int64_t ldc) {
      record(cut, m, n, k, c, ldc, thread, adder);
    };
  };
  const bool apart = sides_apart(team);
  const int below = apart ? kBelowThread : -1, above = apart ? kAboveThread : -1;
  pass_->backward_sum_above(dry_gemm(batch_sum_cut(), -1, above), dry, g_a_.data());
  pass_->backward_sum_below(dry_gemm(dln::GemmCut::kRowsOrColumns, -1, -1), dry_gemm(batch_sum_cut(), -1, below), dry,
                            g_a_.data());
  pass_->backward_below(dry_gemm(dln::GemmCut::kRowsOrColumns, below, -1), dry);
  pass_->backward_above(dry_gemm(dln::GemmCut::kRowsOrColumns, above, -1), dry);
  return owners.owners();
}

void DlnModel::backward(const float* w, float* grad, float* g) {
  float* g_next = g == g_a_.data() ? g_b_.data() : g_a_.data();
  for (std::size_t s = widths_.size() - 1; s-- > 0;) {
    // dL/dW_s = G_{s+1}^T A_s   (H_{s+1} x H_s)
    batch_sum(widths_[s + 1], widths_[s], g, widths_[s + 1], acts_[s].data(), widths_[s], grad + offsets_[s],
              widths_[s]);
    if (s > 0) {
      // G_s = G_{s+1} W_s   (B x H_s)
      gemm(false, false, batch_, widths_[s], widths_[s + 1], g, widths_[s + 1], w + offsets_[s],
           widths_[s], g_next, widths_[s]);
      std::swap(g, g_next);
    }
  }
}

auto DlnModel::cut_batch_sum(int adder) {
  return [this, adder](bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                       std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
    LLCB_CHECK(ta && !tb && k == batch_, "CutPass sums over the batch as A^T B with k = the batch");
    batch_sum(m, n, a, lda, b, ldb, c, ldc, adder);
  };
}

bool DlnModel::sides_apart(int team) const { return team == 2 && sides_balanced_; }

bool DlnModel::sides_balance(const std::vector<std::int64_t>& widths, std::int64_t batch, std::int64_t cut) {
  const auto m = static_cast<std::int64_t>(widths.size()) - 1;
  if (cut < 0 || cut > m) return false;
  const CutPass pass(widths, batch, cut, true);
  CutBuffers shapes;  // the products' shapes are all that is read: no array is touched
  shapes.w.resize(static_cast<std::size_t>(m));
  shapes.grad.resize(static_cast<std::size_t>(m));
  shapes.products.resize(static_cast<std::size_t>(m + 1));
  // The flops of each side, and those of the busier thread where each product is spread over two.
  double below = 0, above = 0, spread = 0;
  const auto count = [&spread](double& side) {
    return [&side, &spread](bool, bool, std::int64_t m, std::int64_t n, std::int64_t k, const float*, std::int64_t,
                            const float*, std::int64_t, float*, std::int64_t) {
      const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
      std::int64_t mine[2] = {0, 0};
      for (const dln::GemmPart& p : dln::gemm_parts(dln::GemmCut::kRowsOrColumns, m, n, k, 2)) {
        mine[p.thread] += p.rows * p.cols;
      }
      side += flops;
      spread += flops * static_cast<double>(std::max(mine[0], mine[1])) / static_cast<double>(m * n);
    };
  };
  pass.forward_below(count(below), shapes);
  pass.backward_below(count(below), shapes);
  pass.forward_above(count(above), shapes);
  pass.backward_above(count(above), shapes);
  // Up to 10% more on the busier side than on the busier thread of the spread split: the sides
  // save the barriers between the products and the data the spread split hands over. On 100K,
  // 4% more, they ran at 0.96 of the spread split (paired, median) where the cores hand data
  // fast and 6-18% faster where slowly; on 1M, 23% more, 11-15% slower where fast
  // (docs/performance.md, "Each array on one core").
  constexpr double kSlack = 1.10;
  return std::max(below, above) <= kSlack * spread;
}

template <class Below, class Above>
void DlnModel::on_both_sides(Below&& below, Above&& above) {
  if (!sides_apart(omp_get_max_threads())) {
    below(false);
    above(false);
    return;
  }
#pragma omp parallel num_threads(2)
  {
    // Each side's products in this thread alone: their own parallel regions, nested, get a team
    // of one, which runs all of a product's blocks (a team of one also where the runtime allows
    // nested teams: the setting is this thread's, for this region).
    omp_set_num_threads(1);
    const int me = omp_get_thread_num();
    const bool at_once = omp_get_num_threads() == 2;
    if (me == kBelowThread) below(at_once);
    if (me == kAboveThread || !at_once) above(at_once);
  }
}

void DlnModel::cut_forward(const float* w, float* grad) {
  for (std::size_t s = 0; s < offsets_.size(); ++s) {
    cut_buffers_.w[s] = w + offsets_[s];
    cut_buffers_.grad[s] = grad + offsets_[s];
  }
  on_both_sides([&](bool) { pass_->forward_below(gemm_f32, cut_buffers_); },
                [&](bool) { pass_->forward_above(gemm_f32, cut_buffers_); });
  pass_->forward_out(gemm_f32, cut_buffers_);
}

void DlnModel::cut_backward(const float* g, const SideHook& after_side) {
  // Apart, each side's sum over the batch is added up in that side's thread, which reads it next.
  const bool apart = sides_apart(omp_get_max_threads());
  pass_->backward_sum_above(cut_batch_sum(apart ? kAboveThread : -1), cut_buffers_, g);
  pass_->backward_sum_below(gemm_f32, cut_batch_sum(apart ? kBelowThread : -1), cut_buffers_, g);
  on_both_sides(
      [&](bool at_once) {
        pass_->backward_below(gemm_f32, cut_buffers_);
        if (after_side) after_side(kBelowThread, at_once);
      },
      [&](bool at_once) {
        pass_->backward_above(gemm_f32, cut_buffers_);
        if (after_side) after_side(kAboveThread, at_once);
      });
}

double DlnModel::loss_and_gradient(const float* w, float* grad, const SideHook& after_side) {
  if (cut_ >= 0) {
    cut_forward(w, grad);
  } else {
    forward(w);
  }
  // Residual R, its sum of squares (chunked_lane_sum: fixed chunks and lanes) and
  // dL/dA_M = 2 R / (B H_out) into g_a_: one pass.
  const std::int64_t count = batch_ * widths_.back();
  float* g = g_a_.data();
  const float* out = output();
  const float* y = targets_.data();
  const double normaliser = static_cast<double>(normaliser_rows_ * widths_.back());
  const float scale = static_cast<float>(2.0 / normaliser);
  const double sum = chunked_lane_sum(count, [&](std::int64_t i) {
    const float r = out[i] - y[i];
    g[i] = r * scale;
    return static_cast<double>(r) * r;
  });
  const double loss = sum / normaliser;
  if (cut_ >= 0) {
    cut_backward(g, after_side);
  } else {
    backward(w, grad, g);
  }
  return loss;
}

void DlnModel::step_gemms(const TeacherData& teacher, const float* w, float* grad) {
  compute_targets(teacher);
  if (cut_ >= 0) {
    cut_forward(w, grad);
    cut_backward(g_a_.data(), {});
    return;
  }
  forward(w);
  backward(w, grad, g_a_.data());
}

}  // namespace llcb::backend::cpu
