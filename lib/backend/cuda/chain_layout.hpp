// Where each chain's arrays sit in the device buffers of a ChainBatch (chain_batch.hpp). Host
// code only, no CUDA: the layout is tested on machines without a GPU.
//
// Every per-chain block (parameters, gradients and sampler states; the activations of each
// layer; the targets; the backpropagated gradients) starts at a multiple of kAlign floats
// (256 bytes) from its buffer's start, and cudaMalloc aligns buffers to at least 256 bytes. So a
// chain's pointers have the same alignment whatever its slot in a batch, and cuBLAS, which picks
// kernels partly by pointer alignment (Hopper's vectorised and TMA kernels want 16 bytes), runs
// the same kernels for a chain in any slot: a chain in a batch computes the bits it computes
// alone, which resume and rank-count invariance rely on. Unpadded, chain k of a problem with an
// odd d (class 1M seed 1: d = 2,094,521) started k floats off the alignment of chain 0.
//
// Within a chain the parameters stay flat as on the CPU (layer s at offsets[s], the cumulative
// sizes of the layers before it): the update kernel addresses its noise by the parameter's index,
// which is what keeps the CUDA chain's noise identical to the CPU oracle's. The padding between
// chains is never read by a GEMM or the update; it is zero in the parameters (uploaded so) and in
// the gradients (cleared once), so sums over whole buffers (the chain-group drift checksum, the
// group's gradient sums) see only zeros there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace llcb::cuda {

struct ChainLayout {
  static constexpr std::int64_t kAlign = 64;  // floats: 256 bytes

  static std::int64_t padded(std::int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

  ChainLayout() = default;
  // widths H_0..H_M of the network, `rows` minibatch rows a chain computes on this rank.
  ChainLayout(const std::vector<std::int64_t>& widths, std::int64_t rows) {
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      offsets.push_back(d);
      d += widths[l] * widths[l + 1];
    }
    std::int64_t hmax = 0;
    for (const std::int64_t h : widths) {
      acts.push_back(padded(rows * h));
      hmax = std::max(hmax, h);
    }
    params = padded(d);
    targets = acts.back();  // the targets have the shape of the last activation
    grads = padded(rows * hmax);
  }

  std::int64_t d = 0;                 // parameters of one chain
  std::vector<std::int64_t> offsets;  // layer s of a chain's parameters at offsets[s] (flat)
  std::int64_t params = 0;            // per-chain stride of w, gradients and sampler states
  std::vector<std::int64_t> acts;     // per-chain stride of activation s (rows x H_s)
  std::int64_t targets = 0;           // per-chain stride of the targets (rows x H_M)
  std::int64_t grads = 0;             // per-chain stride of the backpropagated gradients
};

}  // namespace llcb::cuda
