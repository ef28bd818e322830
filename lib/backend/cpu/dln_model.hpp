// Forward and backward passes of a deep linear network on a minibatch, on the CPU.
//
// Layout: parameters are one flat fp32 vector of d entries, layer s (0-based) a row-major
// H_{s+1} x H_s block at offset(s). Activations are row-major B x H (one sample a row):
// A_0 = X, A_{s+1} = A_s W_s^T. Targets Y = X P^T with P the teacher product (H_{M+1} x H_1),
// or (X F_in^T) F_out^T through its rank-r factors (TeacherData, backend.hpp).
// Loss L = sum (A_M - Y)^2 / (N H_{M+1}), accumulated in double over fixed chunks (deterministic
// for any thread count); its gradient goes into a flat vector laid out like the parameters.
// N is the batch B, or, for a member of a chain group that holds B of the step's N rows, N: the
// members' losses and gradients then add up to the whole minibatch's.
// The loss and gradient go layer by layer, or through the width index `cut` (gradient_plan.hpp):
// then the batch meets only the products below and above the cut, and every layer's gradient
// comes from two r-wide sums over the batch (cut_pass.hpp).
// GEMMs: OpenBLAS sgemm in blocks fixed by the shapes alone (dln::gemm's rows; through a cut,
// dln::gemm_rows_or_columns), so the result does not depend on the thread count. The products
// that sum over the batch (the weight gradients layer by layer; through a cut, its two r-wide
// sums) sum it whole, or with batch_halves (chain.batch_sums = halves) in two halves added at
// the end (dln::gemm_batch_halves): then each of two threads sums the rows it computed itself,
// and almost none of the batch's rows cross from core to core. Which thread computes what never
// changes a bit, so it is chosen to keep arrays on one core: the blocks go to the threads in
// fixed contiguous shares, the update pass follows the gradient's writers (update_owners), and on
// two threads a cut's two sides run apart where they balance (sides_apart); there the chain runs
// the update inside the backward pass's sides, through the hook loss_and_gradient takes
// (side_update.hpp). Not thread-safe: one DlnModel per chain runner.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "lib/backend/backend.hpp"
#include "lib/backend/cut_pass.hpp"
#include "lib/dln/linalg.hpp"

namespace llcb::backend::cpu {

class DlnModel {
 public:
  // normaliser_rows: N above; 0 means batch. cut: gradient_cut() of the widths and the whole
  // minibatch (-1: layer by layer). batch_halves: sum the batch in halves (above).
  DlnModel(std::vector<std::int64_t> widths, std::int64_t batch, std::int64_t normaliser_rows = 0,
           std::int64_t cut = -1, bool batch_halves = false);

  std::int64_t d() const { return d_; }
  std::int64_t offset(std::size_t s) const { return offsets_[s]; }
  std::int64_t batch() const { return batch_; }
  // The parameters of the layers below the cut (the first ones of w): 0 without a cut or at the
  // input, d() at the output.
  std::int64_t below_cut() const {
    if (cut_ <= 0) return 0;
    return cut_ >= static_cast<std::int64_t>(offsets_.size()) ? d_ : offsets_[static_cast<std::size_t>(cut_)];
  }
  const std::vector<std::int64_t>& widths() const { return widths_; }

  // The input buffer (B x H_1) that the caller fills before loss_and_gradient().
  float* inputs() { return acts_[0].data(); }
  // The target buffer (B x H_{M+1}); compute_targets() fills it from the inputs, through the
  // teacher's factors where it has them (rank > 0), else through its product.
  float* targets() { return targets_.data(); }
  void compute_targets(const TeacherData& teacher);

  // Work for the threads of the backward pass's two sides (side_update.hpp): called through a
  // cut only, once for each side, in the thread that ran it, as soon as that side's gradients
  // are written: after_side(kBelowThread, at_once) and after_side(kAboveThread, at_once), at_once
  // saying whether the two sides run in two threads at the same time (else one thread calls the
  // side below's first, then the other's). Neither may read the other side's gradients before
  // that side's call. Each may write its own side's weights (the layers below the cut, w[0,
  // below_cut()), or those above it): from its call on, no product of the step reads them again,
  // since each side's products read only that side's weights (cut_pass.hpp).
  using SideHook = std::function<void(int side, bool at_once)>;

  // Loss at parameters w for the current inputs and targets; writes dL/dw into grad.
  double loss_and_gradient(const float* w, float* grad, const SideHook& after_side = {});

  // On a team of two threads (and only then), where the two sides' work is balanced enough
  // (sides_balance() below), a step through a cut runs the products below the cut in thread
  // kBelowThread and those above it in kAboveThread, at once: each layer's weights, gradient and
  // products stay on one core from one step to the next (on cores that hand data to each other
  // slowly, docs/performance.md, "Two cores"). Each product is the same blocks either way, so
  // the bits are the same on any team. sides_apart(2) says whether this model does.
  static constexpr int kBelowThread = 0, kAboveThread = 1;
  bool sides_apart(int team) const;
  // Whether a step through `cut` of these widths and batch runs its sides apart on two threads:
  // the busier side has at most 10% more flops than the busier thread when each product is spread
  // over both (what the sides keep on one core makes up for that much). From the shapes alone.
  static bool sides_balance(const std::vector<std::int64_t>& widths, std::int64_t batch, std::int64_t cut);

  // For the update pass over a gradient array `grad` (d floats) that loss_and_gradient() writes,
  // on a team of `team` threads: the thread for each of its chunks (chunk_owners.hpp), the one
  // whose GEMM blocks write most of the chunk's gradient. Those blocks also read most of the
  // chunk's weights in the next step (the same split of the same layer's rows), so on cores that
  // hand data slowly the update keeps both where they are (docs/performance.md, "Two cores").
  std::vector<int> update_owners(const float* grad, int team);

  // The GEMMs of one step alone, the same calls as compute_targets() and loss_and_gradient()
  // make (bench's floor at the step's own shapes): no residual, loss or scaling in between.
  void step_gemms(const TeacherData& teacher, const float* w, float* grad);

 private:
  void forward(const float* w);                       // A_1 .. A_M
  void backward(const float* w, float* grad, float* g);  // from g = dL/dA_M (overwritten)
  void cut_forward(const float* w, float* grad);       // cut_ >= 0: CutPass, A_M
  void cut_backward(const float* g, const SideHook& after_side);  // cut_ >= 0: CutPass, the gradient

  // below(at_once) and above(at_once): on a team of two, at once (at_once true), below in thread
  // kBelowThread and above in kAboveThread; otherwise one after the other.
  template <class Below, class Above>
  void on_both_sides(Below&& below, Above&& above);
  float* output() { return acts_.back().data(); }
  // C = A^T B over the batch (k = batch_): in halves (above), or whole, split as the path's
  // other GEMMs are (dln::gemm; through a cut, dln::gemm_rows_or_columns).
  // adder: the thread that adds the halves (dln::gemm_batch_halves), -1 for all of them.
  void batch_sum(std::int64_t m, std::int64_t n, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
                 float* c, std::int64_t ldc, int adder = -1);
  dln::GemmCut batch_sum_cut() const;  // how batch_sum() cuts its product
  auto cut_batch_sum(int adder);  // batch_sum() as CutPass calls it
  std::vector<std::int64_t> widths_;
  std::int64_t batch_, normaliser_rows_, d_, cut_;
  bool batch_halves_;
  std::vector<float> half_sum_;           // batch_halves: the second half's sum (dln::gemm_batch_halves)
  std::vector<std::int64_t> offsets_;
  std::vector<std::vector<float>> acts_;  // A_0 .. A_M (through a cut: A_0 and A_M only)
  std::vector<float> targets_;
  std::vector<float> g_a_;                // dL/dA_M, then (layer by layer) backpropagated, B x max H
  std::vector<float> g_b_;                // layer by layer only: the other backpropagated one
  // Through a cut: the pass, its buffers (cut_pass.hpp) and their scratch.
  std::unique_ptr<CutPass> pass_;
  bool sides_balanced_ = false;  // sides_balance() of the model's shapes
  CutBuffers cut_buffers_;
  std::vector<float> cut_scratch_;
};

}  // namespace llcb::backend::cpu
