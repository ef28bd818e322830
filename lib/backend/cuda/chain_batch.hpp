// The device memory of C chains of one problem and one sampler that advance together, and the
// launches of one of their steps (host code; only the CUDA backend includes it).
//
// Layout: chain-major. Parameters, gradients and states: C x d; activations of layer s:
// C x rows x H_s; targets C x rows x H_out; backpropagated gradients C x rows x max H; minibatch
// indices C x B; the ring of per-step records C x ring_len x 4 doubles (loss, drift^2, noise^2,
// ||w - w*||^2). The teacher w* and the target map P are shared. rows = B alone, or this
// member's share of the B rows in a chain group.
//
// One step (launch_step, all on one stream, no host synchronisation, replayable as a CUDA graph
// because the kernels read each chain's step, coefficients and seed from device memory):
//   indices and inputs of every chain (data_kernels.hpp); targets Y = X P^T; the M forward
//   GEMMs; the residual and its squared sums; the 2M - 1 backward GEMMs; in a chain group the
//   sums of the gradients and loss partials over the members (NCCL); the fused update of every
//   chain (one launch); step_end (one block a chain). GEMMs are strided-batched over the C
//   chains (a plain GEMM when C = 1).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lib/backend/backend.hpp"
#include "lib/backend/cuda/cuda_handles.hpp"
#include "lib/backend/cuda/device.hpp"
#include "lib/backend/cuda/step_kernels.hpp"

namespace llcb::cuda {

template <class Rule>
class ChainBatch {
 public:
  // specs: the chains, all of Rule's sampler with one batch size and sampling mode.
  ChainBatch(const dln::Problem& problem, std::span<const backend::ChainSpec> specs,
             const backend::TeacherData& teacher, float sigma, backend::ChainGroup* group,
             std::int64_t ring_len);

  void launch_step(cublasHandle_t h, cudaStream_t stream);

  std::int64_t chains() const { return chains_; }
  std::int64_t d() const { return d_; }
  std::int64_t ring_len() const { return ring_len_; }
  const double* ring() const { return ring_.data(); }  // device
  float* parameters() { return w_.data(); }           // device, C x d

 private:
  const dln::Problem& problem_;
  backend::ChainGroup* group_;
  float sigma_;
  std::vector<std::int64_t> widths_, offsets_;
  std::int64_t chains_ = 0, d_ = 0, batch_ = 0, first_ = 0, rows_ = 0, hmax_ = 0, ring_len_ = 0;
  DeviceBuffer<float> w_, grad_, center_, product_, s0_, s1_, targets_, g_a_, g_b_;
  std::vector<DeviceBuffer<float>> acts_;  // A_0 = X .. A_M
  DeviceBuffer<std::uint64_t> idx_, seeds_;
  DeviceBuffer<dln::MinibatchStream> streams_;
  DeviceBuffer<double> loss_partial_, update_partial_, ring_;
  DeviceBuffer<std::int64_t> t_;
  DeviceBuffer<samplers::ChainScalars> scalars_;
  DeviceBuffer<typename Rule::Coeffs> coeffs_;
  DeviceBuffer<samplers::SamplerConfig> configs_;
};

}  // namespace llcb::cuda
