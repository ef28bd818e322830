#include "lib/backend/cuda/chain_batch.hpp"

#include <algorithm>

#include "lib/backend/cuda/data_kernels.hpp"
#include "lib/backend/cuda/update_kernel.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cuda {

template <class Rule>
ChainBatch<Rule>::ChainBatch(const dln::Problem& problem, std::span<const backend::ChainSpec> specs,
                             const backend::TeacherData& teacher, float sigma,
                             backend::ChainGroup* group, std::int64_t ring_len, std::int64_t cut)
    : problem_(problem), group_(group), sigma_(sigma), widths_(problem.widths),
      chains_(static_cast<std::int64_t>(specs.size())), batch_(specs.front().batch_size),
      ring_len_(ring_len) {
  const backend::RowShare share =
      group_ ? backend::group_rows(batch_, group_->rank(), group_->size()) : backend::RowShare{0, batch_};
  first_ = share.first;
  rows_ = share.count;
  layout_ = ChainLayout(widths_, rows_);
  d_ = layout_.d;
  const auto c = static_cast<std::size_t>(chains_);
  const auto pd = static_cast<std::size_t>(layout_.params);  // a chain's stride: d and padding
  w_ = DeviceBuffer<float>(c * pd);
  grad_ = DeviceBuffer<float>(c * pd);
  center_ = DeviceBuffer<float>(pd);
  product_ = DeviceBuffer<float>(teacher.product.size());
  rank_ = teacher.rank;
  factor_in_ = DeviceBuffer<float>(teacher.factor_in.size());
  factor_out_ = DeviceBuffer<float>(teacher.factor_out.size());
  s0_ = DeviceBuffer<float>(Rule::kStates > 0 ? c * pd : 0);
  s1_ = DeviceBuffer<float>(Rule::kStates > 1 ? c * pd : 0);
  // Through a cut only the inputs and the outputs are activations (cut_pass.hpp).
  const std::size_t m = widths_.size() - 1;
  for (std::size_t s = 0; s <= m; ++s) {
    const bool used = cut < 0 || s == 0 || s == m;
    acts_.emplace_back(used ? c * static_cast<std::size_t>(layout_.acts[s]) : 0);
  }
  if (cut >= 0) {
    pass_ = std::make_unique<backend::CutPass>(widths_, rows_, cut);
    cut_stride_ = pass_->scratch_size(kCutAlign);
    cut_memory_ = DeviceBuffer<float>(c * static_cast<std::size_t>(cut_stride_));
    for (std::int64_t k = 0; k < chains_; ++k) cut_buffers_.push_back(chain_cut_buffers(k));
  }
  targets_ = DeviceBuffer<float>(c * static_cast<std::size_t>(layout_.targets));
  g_a_ = DeviceBuffer<float>(c * static_cast<std::size_t>(layout_.grads));
  g_b_ = DeviceBuffer<float>(cut < 0 ? c * static_cast<std::size_t>(layout_.grads) : 0);  // layer by layer
  // The padding of the gradients is never written: zero, so that a chain group's sums over the
  // whole buffer add zeros there.
  LLCB_CUDA_CHECK(cudaMemset(grad_.data(), 0, c * pd * sizeof(float)));
  idx_ = DeviceBuffer<std::uint64_t>(c * static_cast<std::size_t>(batch_));
  // Shares differ by at least one row when the group does not divide B; the widest is share 0.
  const std::int64_t widest = group_ ? backend::group_rows(batch_, 0, group_->size()).count : batch_;
  loss_blocks_ = residual_blocks(widest * widths_.back());
  loss_partial_ = DeviceBuffer<double>(c * static_cast<std::size_t>(loss_blocks_));
  update_partial_ = DeviceBuffer<double>(c * static_cast<std::size_t>(4 * update_blocks(d_)));
  ring_ = DeviceBuffer<double>(c * static_cast<std::size_t>(4 * ring_len_));

  // Host images of the per-chain state, then one upload each.
  // The chains' blocks in the device layout, zero in the padding (chain_layout.hpp).
  std::vector<float> center(pd, 0.0f);
  for (std::size_t s = 0; s < layout_.sizes.size(); ++s) {
    std::copy_n(teacher.center.begin() + layout_.logical[s], layout_.sizes[s],
                center.begin() + layout_.physical[s]);
  }
  std::vector<float> w(c * pd), s0(Rule::kStates > 0 ? c * pd : 0), s1(Rule::kStates > 1 ? c * pd : 0);
  std::vector<std::uint64_t> seeds;
  std::vector<dln::MinibatchStream> streams;
  std::vector<std::int64_t> t(c, 0);
  std::vector<samplers::ChainScalars> scalars;
  std::vector<typename Rule::Coeffs> coeffs;
  std::vector<samplers::SamplerConfig> configs;
  for (std::size_t i = 0; i < c; ++i) {
    const backend::ChainSpec& s = specs[i];
    std::copy(center.begin(), center.end(), w.begin() + static_cast<std::ptrdiff_t>(i * pd));
    for (std::size_t l = 0; l < layout_.sizes.size(); ++l) {
      const auto at = static_cast<std::ptrdiff_t>(i * pd) + layout_.physical[l];
      if (Rule::kStates > 0) std::fill_n(s0.begin() + at, layout_.sizes[l], Rule::initial_state(s.sampler, 0));
      if (Rule::kStates > 1) std::fill_n(s1.begin() + at, layout_.sizes[l], Rule::initial_state(s.sampler, 1));
    }
    seeds.push_back(s.chain_seed);
    streams.emplace_back(static_cast<std::uint64_t>(problem.n), batch_, s.chain_seed, s.sampling);
    scalars.push_back(samplers::initial_scalars(s.sampler));
    coeffs.push_back(Rule::coeffs(s.sampler, 1, scalars.back()));
    configs.push_back(s.sampler);
  }
  seeds_ = DeviceBuffer<std::uint64_t>(c);
  streams_ = DeviceBuffer<dln::MinibatchStream>(c);
  t_ = DeviceBuffer<std::int64_t>(c);
  scalars_ = DeviceBuffer<samplers::ChainScalars>(c);
  coeffs_ = DeviceBuffer<typename Rule::Coeffs>(c);
  configs_ = DeviceBuffer<samplers::SamplerConfig>(c);
  copy_to_device(w_.data(), w.data(), w.size() * sizeof(float));
  copy_to_device(center_.data(), center.data(), pd * sizeof(float));
  // The update kernel's map of flat parameter indices to the layout: logical, then physical offsets.
  std::vector<std::int64_t> map = layout_.logical;
  map.insert(map.end(), layout_.physical.begin(), layout_.physical.end());
  layer_map_ = DeviceBuffer<std::int64_t>(map.size());
  copy_to_device(layer_map_.data(), map.data(), map.size() * sizeof(std::int64_t));
  copy_to_device(product_.data(), teacher.product.data(), teacher.product.size() * sizeof(float));
  copy_to_device(factor_in_.data(), teacher.factor_in.data(), teacher.factor_in.size() * sizeof(float));
  copy_to_device(factor_out_.data(), teacher.factor_out.data(), teacher.factor_out.size() * sizeof(float));
  copy_to_device(s0_.data(), s0.data(), s0.size() * sizeof(float));
  copy_to_device(s1_.data(), s1.data(), s1.size() * sizeof(float));
  copy_to_device(seeds_.data(), seeds.data(), c * sizeof(std::uint64_t));
  copy_to_device(streams_.data(), streams.data(), c * sizeof(dln::MinibatchStream));
  copy_to_device(t_.data(), t.data(), c * sizeof(std::int64_t));
  copy_to_device(scalars_.data(), scalars.data(), c * sizeof(samplers::ChainScalars));
  copy_to_device(coeffs_.data(), coeffs.data(), c * sizeof(typename Rule::Coeffs));
  copy_to_device(configs_.data(), configs.data(), c * sizeof(samplers::SamplerConfig));
  // The uploads ran on the default stream, which a non-blocking stream does not wait for (and a
  // pageable cudaMemcpy may return before its DMA lands): finish them first.
  LLCB_CUDA_CHECK(cudaDeviceSynchronize());
  active_.assign(c, 1);
  for (std::size_t i = 0; i < kMaxLanes; ++i) {
    events_.push_back(std::make_unique<EventHandle>(cudaEventDisableTiming));
  }
}

template <class Rule>
backend::CutBuffers ChainBatch<Rule>::chain_cut_buffers(std::int64_t chain) {
  const ChainLayout& L = layout_;
  const std::size_t m = widths_.size() - 1;
  backend::CutBuffers b = pass_->scratch_buffers(cut_memory_.data() + chain * cut_stride_, kCutAlign);
  for (std::size_t s = 0; s < m; ++s) {
    b.w.push_back(w_.data() + chain * L.params + L.physical[s]);
    b.grad.push_back(grad_.data() + chain * L.params + L.physical[s]);
  }
  b.x = acts_[0].data() + chain * L.acts[0];
  b.out = acts_[m].data() + chain * L.acts[m];
  return b;
}

template <class Rule>
void ChainBatch<Rule>::launch_step(const GemmLanes& lanes) {
  const std::size_t m = widths_.size() - 1;
  const std::int64_t h_in = widths_.front(), h_out = widths_.back();
  const std::int64_t c = chains_, b = rows_;
  const ChainLayout& L = layout_;
  const std::int64_t gstride = L.grads;  // per-chain stride of the backpropagated gradients
  cudaStream_t stream = lanes.streams.front();
  const std::size_t used = std::min({lanes.streams.size(), static_cast<std::size_t>(c), events_.size()});
  // Lanes 1.. wait for the main stream here (fork), and the main stream for them (join).
  const auto fork = [&] {
    LLCB_CUDA_CHECK(cudaEventRecord(events_[0]->e, stream));
    for (std::size_t l = 1; l < used; ++l) {
      LLCB_CUDA_CHECK(cudaStreamWaitEvent(lanes.streams[l], events_[0]->e, 0));
    }
  };
  const auto join = [&] {
    for (std::size_t l = 1; l < used; ++l) {
      LLCB_CUDA_CHECK(cudaEventRecord(events_[l]->e, lanes.streams[l]));
      LLCB_CUDA_CHECK(cudaStreamWaitEvent(stream, events_[l]->e, 0));
    }
  };
  const auto handle = [&](std::int64_t chain) { return lanes.handles[static_cast<std::size_t>(chain) % used]; };

  minibatch_on_device(streams_.data(), c, batch_, t_.data(), idx_.data(), stream);
  inputs_on_device(problem_.seed, idx_.data(), c, batch_, first_, b, h_in, acts_[0].data(), L.acts[0], stream);
  fork();
  const auto active = [&](std::int64_t k) { return active_[static_cast<std::size_t>(k)] != 0; };
  for (std::int64_t k = 0; k < c; ++k) {  // Y = X P^T, or (X F_in^T) F_out^T through g_a_
    if (!active(k)) continue;
    if (rank_ == 0) {
      gemm(handle(k), false, true, b, h_out, h_in, acts_[0].data() + k * L.acts[0], h_in,
           product_.data(), h_in, targets_.data() + k * L.targets, h_out);
      continue;
    }
    float* low = g_a_.data() + k * L.grads;  // B x r, free until the residual
    gemm(handle(k), false, true, b, rank_, h_in, acts_[0].data() + k * L.acts[0], h_in, factor_in_.data(), h_in,
         low, rank_);
    gemm(handle(k), false, true, b, h_out, rank_, low, rank_, factor_out_.data(), rank_,
         targets_.data() + k * L.targets, h_out);
  }
  join();
  if (sigma_ != 0) {
    target_noise_on_device(problem_.seed, idx_.data(), c, batch_, first_, b, h_out, sigma_,
                           targets_.data(), L.targets, stream);
  }
  // cuda::gemm on chain k's lane, as CutPass calls it.
  const auto lane_gemm = [&](std::int64_t k) {
    return [h = handle(k)](bool ta, bool tb, std::int64_t mm, std::int64_t n, std::int64_t kk, const float* a,
                           std::int64_t lda, const float* bb, std::int64_t ldb, float* cc, std::int64_t ldc) {
      gemm(h, ta, tb, mm, n, kk, a, lda, bb, ldb, cc, ldc);
    };
  };
  fork();
  for (std::int64_t k = 0; k < c; ++k) {
    if (!active(k)) continue;
    if (pass_) {
      pass_->forward(lane_gemm(k), cut_buffers_[static_cast<std::size_t>(k)]);
      continue;
    }
    const float* w = w_.data() + k * L.params;
    for (std::size_t s = 0; s < m; ++s) {  // A_{s+1} = A_s W_s^T
      gemm(handle(k), false, true, b, widths_[s + 1], widths_[s], acts_[s].data() + k * L.acts[s],
           widths_[s], w + L.physical[s], widths_[s], acts_[s + 1].data() + k * L.acts[s + 1],
           widths_[s + 1]);
    }
  }
  join();
  const std::int64_t count = b * h_out;  // this share's outputs of one chain
  const double normaliser = static_cast<double>(batch_) * static_cast<double>(h_out);
  residual_on_device(acts_[m].data(), targets_.data(), g_a_.data(), c, count, L.targets, gstride,
                     static_cast<float>(2.0 / normaliser), loss_partial_.data(), loss_blocks_, stream);
  fork();
  for (std::int64_t k = 0; k < c; ++k) {
    if (!active(k)) continue;
    if (pass_) {
      pass_->backward(lane_gemm(k), lane_gemm(k), cut_buffers_[static_cast<std::size_t>(k)], g_a_.data() + k * gstride);
      continue;
    }
    const float* w = w_.data() + k * L.params;
    float* grad = grad_.data() + k * L.params;
    float* g = g_a_.data() + k * gstride;
    float* g_next = g_b_.data() + k * gstride;
    for (std::size_t s = m; s-- > 0;) {
      // dL/dW_s = G_{s+1}^T A_s, then G_s = G_{s+1} W_s
      gemm(handle(k), true, false, widths_[s + 1], widths_[s], b, g, widths_[s + 1],
           acts_[s].data() + k * L.acts[s], widths_[s], grad + L.physical[s], widths_[s]);
      if (s > 0) {
        gemm(handle(k), false, false, b, widths_[s], widths_[s + 1], g, widths_[s + 1],
             w + L.physical[s], widths_[s], g_next, widths_[s]);
        std::swap(g, g_next);
      }
    }
  }
  join();
  const std::int64_t loss_blocks = loss_blocks_;
  if (group_) {  // the members' partial gradients and loss sums, added up (NCCL)
    group_->sum_device(grad_.data(), static_cast<std::size_t>(c * L.params), stream);
    group_->sum_device(loss_partial_.data(), static_cast<std::size_t>(c * loss_blocks), stream);
  }
  update_on_device<Rule>(coeffs_.data(), t_.data(), seeds_.data(), c, w_.data(), grad_.data(),
                         center_.data(), s0_.data(), s1_.data(), d_, L.params, layer_map_.data(),
                         static_cast<std::int64_t>(L.sizes.size()), update_partial_.data(), stream);
  ChainState<Rule> state;
  state.t = t_.data();
  state.scalars = scalars_.data();
  state.k = coeffs_.data();
  state.config = configs_.data();
  step_end_on_device<Rule>(state, c, loss_partial_.data(), loss_blocks, normaliser,
                           update_partial_.data(), update_blocks(d_), d_, ring_.data(), ring_len_,
                           stream);
}

template class ChainBatch<samplers::SgldRule>;
template class ChainBatch<samplers::RmspropSgldRule>;
template class ChainBatch<samplers::AdamSgldRule>;
template class ChainBatch<samplers::SghmcRule>;
template class ChainBatch<samplers::SgnhtRule>;

}  // namespace llcb::cuda
