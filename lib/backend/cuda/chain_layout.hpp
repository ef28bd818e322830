// Where each chain's arrays sit in the device buffers of a ChainBatch (chain_batch.hpp). Host
// code only, no CUDA: the layout is tested on machines without a GPU.
//
// Every per-chain block (parameters, gradients and sampler states; the activations of each
// layer; the targets; the backpropagated gradients) starts at a multiple of kAlign floats
// (256 bytes) from its buffer's start, and so does every layer's matrix within a chain's
// parameters (physical[s]); cudaMalloc aligns buffers to at least 256 bytes. So every pointer a
// GEMM gets is 256-byte aligned whatever the chain's slot in a batch: cuBLAS, which picks kernels
// partly by pointer alignment (Hopper's vectorised and TMA kernels want 16 bytes), runs the same
// kernels for a chain in any slot, and a chain in a batch computes the bits it computes alone,
// which resume and rank-count invariance rely on. Unpadded, chain k of a problem with an odd d
// (class 1M seed 1: d = 2,094,521) started k floats off the alignment of chain 0, and its layers
// after the first odd-sized one sat 4, 8 or 12 bytes off a 16-byte boundary.
//
// Parameter e of the CPU's flat layout (layer s holds [logical[s], logical[s] + size) of it) sits
// at physical[s] + (e - logical[s]) in a chain's block: the update kernel walks e, so that its
// noise, addressed by e, stays the CPU oracle's. The padding (between layers and after a chain)
// is never read by a GEMM or the update; it is zero in the parameters, centre and states
// (uploaded so) and in the gradients (cleared once), so sums over whole buffers (the
// chain-group drift checksum, the group's gradient sums) see only zeros there.
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
    std::int64_t next = 0;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      const std::int64_t size = widths[l] * widths[l + 1];
      logical.push_back(d);
      physical.push_back(next);
      sizes.push_back(size);
      d += size;
      next += padded(size);
    }
    std::int64_t hmax = 0;
    for (const std::int64_t h : widths) {
      acts.push_back(padded(rows * h));
      hmax = std::max(hmax, h);
    }
    params = next;
    targets = acts.back();  // the targets have the shape of the last activation
    grads = padded(rows * hmax);
  }

  // Where parameter e of the flat layout sits in a chain's block.
  std::int64_t physical_index(std::int64_t e) const {
    std::size_t s = 0;
    while (s + 1 < logical.size() && e >= logical[s + 1]) ++s;
    return physical[s] + (e - logical[s]);
  }

  std::int64_t d = 0;                  // parameters of one chain
  std::vector<std::int64_t> logical;   // layer s starts at parameter logical[s] of the flat layout
  std::vector<std::int64_t> physical;  // and at float physical[s] of a chain's block (aligned)
  std::vector<std::int64_t> sizes;     // H_s x H_{s+1}
  std::int64_t params = 0;             // per-chain stride of w, gradients, states and the centre
  std::vector<std::int64_t> acts;     // per-chain stride of activation s (rows x H_s)
  std::int64_t targets = 0;           // per-chain stride of the targets (rows x H_M)
  std::int64_t grads = 0;             // per-chain stride of the backpropagated gradients
};

}  // namespace llcb::cuda
