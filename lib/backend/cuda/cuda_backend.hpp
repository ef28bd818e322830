// The CUDA backend: chains on one GPU, through the same Backend interface as the CPU oracle.
//
// Device: BackendOptions::device when >= 0, else the node-local rank modulo the visible devices
// (docs/cluster.md). No usable device (no driver, none visible, index out of range) is a
// UsageError (exit code 2) raised when the backend is made, before any chain runs.
//
// Consecutive chains of a run() call with the same sampler, batch size, sampling mode and length
// advance together as one batch (chain_batch.hpp): their GEMMs run concurrently on
// BackendOptions::gemm_lanes lanes (streams forked and joined inside the captured graph) and one
// update launch serves them all, so that several chains of a small problem fill the GPU. A chain's
// GEMMs are the ones it would run alone, so its bits do not depend on which chains share its batch.
// One step of a batch is a fixed sequence of launches on one stream, all reading each chain's step
// number and sampler coefficients from device memory (ChainState, step_kernels.hpp): minibatch
// indices and inputs (data_kernels.hpp), targets Y = X P^T, forward and backward GEMMs through
// cuBLAS (fp32, or tf32 tensor-core math when BackendOptions::precision is "tf32"), the residual
// and its squared sum in double, the fused sampler update (update_kernel.hpp), and step_end, which
// records the loss and the step's sums in a device ring and prepares the next update's
// coefficients. The first step launches directly (kernel loading and cuBLAS set-up happen outside
// any capture); the next is captured into a CUDA graph that every later step replays. A failed
// capture is logged once and the steps launch directly (same launches, same bits). The host waits
// only between round trips of up to 1024 steps (sized to take about 0.25 s), to copy the ring back
// and feed the estimator, which decides divergence exactly as on the CPU (steps computed past a
// divergence are discarded); the stop flag and the live trace are served at the same points. Chains
// of a batch that end early (divergence) leave its GEMMs after the round trip that saw them end
// (the step is captured anew); the batched kernels still pass over them, and their records are
// ignored. In a sweep's step-size grid the largest steps often diverge early, so this gives their
// share of the GEMMs back to the others.
//
// Chain groups (ChainGroup with device sums, i.e. NCCL): each member computes its rows of the
// minibatch; the gradient and the loss partials are summed in the captured step, between the
// backward GEMMs and the update; before each round trip the members agree on its length and on
// stop requests, after it on whether the chain ended and on a checksum of the parameters (the
// drift check, every round trip); waits poll NCCL for errors and give up after 300 s.
//
// Determinism: the same job gives the same trace bit for bit on the same GPU model and toolkit.
// Against the CPU backend the data and the noise are identical (same Philox addresses); the
// arithmetic differs in summation order and FMA contraction, so traces agree to about 1e-4
// relative over the first thousand steps, not bit for bit (tests/backend/cuda).
// Not thread-safe: one backend per thread.
#pragma once

#include <memory>

#include "lib/backend/backend.hpp"

namespace llcb::backend {

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options);

}  // namespace llcb::backend
