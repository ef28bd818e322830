// The GEMMs of a step through a cut (gradient_plan.hpp), written once for every backend: `gemm`
// is any callable gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc) computing the row-major
// C = op(A) op(B), as dln::gemm_rows_or_columns (CPU) or a cuBLAS call on a stream (CUDA).
//
// Notation (widths h[0..M], cut k, r = h[k]; layer s is W_s, h[s+1] x h[s], row-major):
//   U_s = W_{k-1} .. W_s (r x h[s], s < k; U_{k-1} = W_{k-1}), Bp = U_0;
//   Z_s = W_{s-1} .. W_k (h[s] x r, s > k; Z_{k+1} = W_k), A = Z_M;
//   forward: A_k = X Bp^T (B x r; X itself at k = 0), out = A_k A^T (A_k itself at k = M);
//   backward from G = dL/d out (B x h[M]):
//     above: Y_{M-1} = G^T A_k, Y_{s-1} = W_s^T Y_s, dL/dW_s = Y_s Z_s^T (= Y_k at s = k);
//     below: D = G A (B x r; G itself at k = M), V_0 = D^T X, V_{s+1} = V_s W_s^T,
//            dL/dW_s = U_{s+1}^T V_s (= V_{k-1} at s = k - 1).
// Every product but those through the batch is r wide, so a layer costs at most 6 r h[s] h[s+1]
// flops (the layers next to the cut less: gradient_flops counts them exactly). The two sums over
// the batch, G^T A_k and D^T X, go through `batch_sum` (in backward()'s parts, `sum_above` and
// `sum_below`), callables of gemm's signature only ever called with trans_a set, trans_b not and
// k = B (a backend may sum the batch its own way there: the CPU's chain.batch_sums = halves).
// The products below the cut and those above it do not depend on each other until the batch's
// products: forward() and backward() come in parts that a backend may run at once (the CPU on
// two threads, lib/backend/cpu/dln_model.hpp).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace llcb::backend {

// One chain's memory for a step through cut k: w and grad M entries (layer s's weights, its
// gradient), products M + 1 (s < k - 1: r x h[s]; s > k + 1: h[s] x r; the others unused); at_cut
// and d_cut B x r (used for 0 < k < M); sum_a, sum_b, sum_c and sum_d max h x r (the layers above
// the cut use the first two, those below the others, which are the first two again unless the
// pass has side scratch; CutPass::scratch_buffers lays them out). forward()
// reads x and w and writes out; backward() reads them again (x, w, out unchanged in between, and
// at_cut and products as forward() left them) and writes grad.
struct CutBuffers {
  std::vector<const float*> w;   // W_s
  std::vector<float*> grad;      // dL/dW_s
  std::vector<float*> products;  // U_s or Z_s, by s
  const float* x = nullptr;      // B x h[0]
  float* out = nullptr;          // B x h[M]
  float* at_cut = nullptr;
  float* d_cut = nullptr;
  float* sum_a = nullptr;
  float* sum_b = nullptr;
  float* sum_c = nullptr;
  float* sum_d = nullptr;
};

class CutPass {
 public:
  // side_scratch: each side of the cut its own sum arrays (backward()'s parts, below).
  CutPass(const std::vector<std::int64_t>& widths, std::int64_t batch, std::int64_t cut, bool side_scratch = false)
      : h_(widths), b_(batch), k_(cut), m_(static_cast<std::int64_t>(widths.size()) - 1),
        side_scratch_(side_scratch) {}

  // Products U_s and Z_s, then out (and A_k) for the inputs x.
  template <class Gemm>
  void forward(Gemm&& gemm, const CutBuffers& c) const {
    forward_below(gemm, c);
    forward_above(gemm, c);
    forward_out(gemm, c);
  }
  // forward() in its parts: the products below the cut (U_s) and those above it (Z_s), which do
  // not depend on each other (a backend may run them at once), then out and A_k, which need both.
  template <class Gemm>
  void forward_below(Gemm&& gemm, const CutBuffers& c) const {
    const std::int64_t r = h_[k_];
    for (std::int64_t s = k_ - 2; s >= 0; --s) {  // U_s = U_{s+1} W_s
      gemm(false, false, r, h_[s], h_[s + 1], below(c, s + 1), h_[s + 1], c.w[s], h_[s], c.products[s], h_[s]);
    }
  }
  template <class Gemm>
  void forward_above(Gemm&& gemm, const CutBuffers& c) const {
    const std::int64_t r = h_[k_];
    for (std::int64_t s = k_ + 1; s < m_; ++s) {  // Z_{s+1} = W_s Z_s
      gemm(false, false, h_[s + 1], r, h_[s], c.w[s], h_[s], above(c, s), r, c.products[s + 1], r);
    }
  }
  template <class Gemm>
  void forward_out(Gemm&& gemm, const CutBuffers& c) const {
    const std::int64_t r = h_[k_];
    float* a = at_cut(c);
    if (k_ > 0) gemm(false, true, b_, r, h_[0], c.x, h_[0], below(c, 0), h_[0], a, r);
    if (k_ < m_) gemm(false, true, b_, h_[m_], r, a, r, above(c, m_), r, c.out, h_[m_]);
  }

  // Every layer's gradient from g = dL/d out (B x h[M]), after forward().
  template <class Gemm, class BatchSum>
  void backward(Gemm&& gemm, BatchSum&& batch_sum, const CutBuffers& c, const float* g) const {
    backward_sum_above(batch_sum, c, g);
    backward_above(gemm, c);
    backward_sum_below(gemm, batch_sum, c, g);
    backward_below(gemm, c);
  }
  // backward() in its parts. Above the cut: the sum G^T A_k (through sum_above, into sum_a, or at
  // a cut next to the output into that layer's gradient), then the gradients of the layers above
  // it (backward_above, through sum_a and sum_b). Below: D = G A and the sum D^T X (through
  // sum_below, into sum_c, or at a cut next to the input into W_0's gradient), then the gradients
  // of the layers below it (backward_below, through sum_c and sum_d). With scratch for each side
  // (side_scratch) the two sides share nothing they write, and any order that puts each sum
  // before its side's gradients (or both sides at once) gives the same; without, sum_c and sum_d
  // are sum_a and sum_b, and the parts must run in backward()'s order. backward_below reads only
  // the weights below the cut (W_0 .. W_{k-1}) and writes only their gradients, backward_above
  // only those of W_k .. W_{M-1}: a backend may update one side's weights while the other side's
  // part still runs (the CPU does, lib/backend/cpu/side_update.hpp), so keep it so.
  template <class SumAbove>
  void backward_sum_above(SumAbove&& sum_above, const CutBuffers& c, const float* g) const {
    const std::int64_t r = h_[k_], h_out = h_[m_];
    if (k_ < m_) sum_above(true, false, h_out, r, b_, g, h_out, at_cut(c), r, m_ - 1 == k_ ? c.grad[k_] : c.sum_a, r);
  }
  template <class Gemm, class SumBelow>
  void backward_sum_below(Gemm&& gemm, SumBelow&& sum_below, const CutBuffers& c, const float* g) const {
    const std::int64_t r = h_[k_], h_in = h_[0], h_out = h_[m_];
    if (k_ == 0) return;
    const float* dc = g;
    if (k_ < m_) {
      gemm(false, false, b_, r, h_out, g, h_out, above(c, m_), r, c.d_cut, r);
      dc = c.d_cut;
    }
    sum_below(true, false, r, h_in, b_, dc, r, c.x, h_in, k_ == 1 ? c.grad[0] : c.sum_c, h_in);
  }
  template <class Gemm>
  void backward_above(Gemm&& gemm, const CutBuffers& c) const {
    const std::int64_t r = h_[k_];
    float* y = c.sum_a;
    float* y_next = c.sum_b;
    for (std::int64_t s = m_ - 1; s > k_; --s) {
      gemm(false, true, h_[s + 1], h_[s], r, y, r, above(c, s), r, c.grad[s], h_[s]);
      gemm(true, false, h_[s], r, h_[s + 1], c.w[s], h_[s], y, r, s - 1 == k_ ? c.grad[k_] : y_next, r);
      std::swap(y, y_next);
    }
  }
  template <class Gemm>
  void backward_below(Gemm&& gemm, const CutBuffers& c) const {
    float* v = c.sum_c;
    float* v_next = c.sum_d;
    for (std::int64_t s = 0; s + 1 < k_; ++s) {
      gemm(true, false, h_[s + 1], h_[s], h_[k_], below(c, s + 1), h_[s + 1], v, h_[s], c.grad[s], h_[s]);
      gemm(false, true, h_[k_], h_[s + 1], h_[s], v, h_[s], c.w[s], h_[s], s + 2 == k_ ? c.grad[s + 1] : v_next,
           h_[s + 1]);
      std::swap(v, v_next);
    }
  }

  // A chain's scratch arrays (products, at_cut, d_cut, sum_a, sum_b, and with side_scratch sum_c
  // and sum_d) in one block of scratch_size(align) floats, each array at a multiple of `align`
  // floats from its start.
  std::int64_t scratch_size(std::int64_t align) const {
    CutBuffers unused;
    std::int64_t total = 0;
    for_each_scratch(unused, [&](std::int64_t n, float*&) { total += (n + align - 1) / align * align; });
    return total;
  }
  // CutBuffers whose scratch arrays lie in `scratch` (scratch_size(align) floats); w, grad, x and
  // out are the caller's to set.
  CutBuffers scratch_buffers(float* scratch, std::int64_t align) const {
    CutBuffers c;
    float* at = scratch;
    for_each_scratch(c, [&](std::int64_t n, float*& p) {
      p = at;
      at += (n + align - 1) / align * align;
    });
    if (!side_scratch_) {
      c.sum_c = c.sum_a;
      c.sum_d = c.sum_b;
    }
    return c;
  }

 private:
  // f(element count, pointer in c) for each scratch array of c, in layout order: products[s]
  // (r x h[s] below the cut but next to it, h[s] x r above; none elsewhere), at_cut and d_cut
  // (B x r, between the ends), sum_a and sum_b, and with side_scratch sum_c and sum_d (max h x r).
  template <class F>
  void for_each_scratch(CutBuffers& c, F&& f) const {
    c.products.assign(static_cast<std::size_t>(m_ + 1), nullptr);
    for (std::int64_t s = 0; s <= m_; ++s) {
      f(s + 1 < k_ || s > k_ + 1 ? h_[s] * h_[k_] : 0, c.products[static_cast<std::size_t>(s)]);
    }
    const std::int64_t at_cut = k_ > 0 && k_ < m_ ? b_ * h_[k_] : 0;
    std::int64_t hmax = 0;
    for (std::int64_t v : h_) hmax = v > hmax ? v : hmax;
    f(at_cut, c.at_cut);
    f(at_cut, c.d_cut);
    f(hmax * h_[k_], c.sum_a);
    f(hmax * h_[k_], c.sum_b);
    if (side_scratch_) {
      f(hmax * h_[k_], c.sum_c);
      f(hmax * h_[k_], c.sum_d);
    }
  }
  const float* below(const CutBuffers& c, std::int64_t s) const { return s == k_ - 1 ? c.w[s] : c.products[s]; }
  const float* above(const CutBuffers& c, std::int64_t s) const { return s == k_ + 1 ? c.w[k_] : c.products[s]; }
  float* at_cut(const CutBuffers& c) const {
    return k_ == 0 ? const_cast<float*>(c.x) : k_ == m_ ? c.out : c.at_cut;
  }
  std::vector<std::int64_t> h_;
  std::int64_t b_, k_, m_;
  bool side_scratch_;
};

}  // namespace llcb::backend
