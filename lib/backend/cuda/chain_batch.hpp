// The device memory of C chains of one problem and one sampler that advance together, and the
// launches of one of their steps (host code; only the CUDA backend includes it).
//
// Layout: chain-major, every chain's block and every layer's matrix in it at a multiple of 256
// bytes (chain_layout.hpp: a chain's pointers have the same alignment in every slot; the centre
// w* is laid out like one chain's parameters). Parameters, gradients and states:
// C x layout.params (d used, layer s at layout.physical[s]); activations of layer s: C x layout.acts[s] (rows x H_s used);
// targets C x layout.targets; backpropagated gradients C x layout.grads; minibatch indices C x B; the ring of per-step records C x ring_len x 4 doubles (loss, drift^2, noise^2,
// ||w - w*||^2). The teacher w* and the target map P are shared. rows = B alone, or this
// member's share of the B rows in a chain group.
//
// One step (launch_step, all on one stream, no host synchronisation, replayable as a CUDA graph
// because the kernels read each chain's step, coefficients and seed from device memory):
//   indices and inputs of every chain (data_kernels.hpp); targets Y = X P^T; the M forward
//   GEMMs; the residual and its squared sums; the 2M - 1 backward GEMMs (or, through a cut of
//   gradient_plan.hpp, the GEMMs of lib/backend/cut_pass.hpp, the CPU's); in a chain group the
//   sums of the gradients and loss partials over the members (NCCL); the fused update of every
//   chain (one launch); step_end (one block a chain).
// GEMMs are issued per chain, chain c on lane c % lanes (GemmLanes): the lanes are streams forked
// from the main stream and joined back, so in the captured graph the chains' GEMMs run
// concurrently, and each is exactly the GEMM a chain alone would run. A chain's bits therefore
// do not depend on which chains share its batch (strided-batched GEMMs could pick other kernels
// for other batch counts), which lets the scheduler bundle jobs without breaking determinism.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "lib/backend/backend.hpp"
#include "lib/backend/cut_pass.hpp"
#include "lib/backend/cuda/chain_layout.hpp"
#include "lib/backend/cuda/cuda_handles.hpp"
#include "lib/backend/cuda/device.hpp"
#include "lib/backend/cuda/step_kernels.hpp"

namespace llcb::cuda {

// Streams and cuBLAS handles for per-chain GEMMs; lane 0 is the main stream. Every handle has
// the same math mode and workspace size, so every lane computes the same bits.
struct GemmLanes {
  std::vector<cudaStream_t> streams;
  std::vector<cublasHandle_t> handles;
};

// At most this many lanes. A 100K-class GEMM (500 x 392 x 391) spans about 16 thread blocks of
// cuBLAS's larger tiles, so 8 concurrent ones are about what the 132 SMs of an H100 hold.
constexpr std::size_t kMaxLanes = 8;

template <class Rule>
class ChainBatch {
 public:
  // specs: the chains, all of Rule's sampler with one batch size and sampling mode. cut: the
  // gradient_cut() of the widths and the whole minibatch (-1: layer by layer).
  ChainBatch(const dln::Problem& problem, std::span<const backend::ChainSpec> specs,
             const backend::TeacherData& teacher, float sigma, backend::ChainGroup* group,
             std::int64_t ring_len, std::int64_t cut = -1);

  void launch_step(const GemmLanes& lanes);
  // Chains that ended (diverged) stop costing GEMMs: launch_step skips the GEMMs of chains whose
  // flag is 0 (all 1 at first). The batched kernels still run over every chain, on whatever the
  // ended chains' buffers hold; their records are ignored. The other chains' bits do not change
  // (their GEMMs are the same). A captured step holds the flags of its capture: capture anew.
  void set_active(const std::vector<char>& active) { active_ = active; }

  std::int64_t chains() const { return chains_; }
  std::int64_t d() const { return d_; }
  const ChainLayout& layout() const { return layout_; }
  const double* ring() const { return ring_.data(); }  // device
  float* parameters() { return w_.data(); }           // device, C x layout().params

 private:
  const dln::Problem& problem_;
  backend::ChainGroup* group_;
  float sigma_;
  std::vector<std::int64_t> widths_;
  ChainLayout layout_;
  std::int64_t chains_ = 0, d_ = 0, batch_ = 0, first_ = 0, rows_ = 0, ring_len_ = 0;
  // Loss partial sums per chain: the blocks of the largest member share, the same on every member
  // (the group sums these arrays element by element); blocks past this member's rows stay zero.
  std::int64_t loss_blocks_ = 0;
  DeviceBuffer<float> w_, grad_, center_, product_, factor_in_, factor_out_, s0_, s1_, targets_, g_a_, g_b_;
  std::int64_t rank_ = 0;  // > 0: targets through the teacher's rank-r factors (TeacherData)
  std::vector<DeviceBuffer<float>> acts_;  // A_0 = X .. A_M
  // Through a cut: the pass, and each chain's block of its scratch (CutPass::scratch_buffers,
  // every array at a multiple of kCutAlign floats, 256 bytes), cut_stride_ floats apart.
  static constexpr std::int64_t kCutAlign = 64;
  std::unique_ptr<backend::CutPass> pass_;
  std::int64_t cut_stride_ = 0;
  DeviceBuffer<float> cut_memory_;
  std::vector<backend::CutBuffers> cut_buffers_;  // by chain, set once
  backend::CutBuffers chain_cut_buffers(std::int64_t chain);
  DeviceBuffer<std::uint64_t> idx_, seeds_;
  DeviceBuffer<dln::MinibatchStream> streams_;
  DeviceBuffer<double> loss_partial_, update_partial_, ring_;
  DeviceBuffer<std::int64_t> t_;
  DeviceBuffer<std::int64_t> layer_map_;  // the layout's logical then physical layer offsets
  DeviceBuffer<samplers::ChainScalars> scalars_;
  DeviceBuffer<typename Rule::Coeffs> coeffs_;
  DeviceBuffer<samplers::SamplerConfig> configs_;
  // Fork (0) and join (1..) points of the lanes, made here rather than during graph capture.
  std::vector<std::unique_ptr<EventHandle>> events_;
  std::vector<char> active_;         // per chain: 1 while its GEMMs run
};

}  // namespace llcb::cuda
