// Data on the fly (benchmark.md section 1, steps 5-6): nothing of size n is ever stored.
//
//   input(seed, i, j)     x_i[j] = 20 * u01f(word j % 4 of kInput block (i, j / 4)) - 10,
//                         uniform on (-10, 10).
//   target noise          sigma * normal4f(kTargetNoise block (i, k / 4)).z[k % 4] on output k.
//   targets               y_i = P x_i + noise, P = W*_M ... W*_1 (the teacher product, computed
//                         once in double and rounded to float).
//   minibatch(t)          the B sample indices of step t, a pure function of (chain seed, t):
//     without replacement (default): position p = t*B + b of an endless stream of epochs;
//       epoch p / n is a Feistel permutation (lib/core/permutation.hpp) keyed by the kEpochKeys
//       block of that epoch, and the index is perm_epoch(p mod n). Every sample appears once per
//       epoch, as with a shuffled data loader; batches may straddle epochs.
//     with replacement: index = uniform_int(kBatch block p) in 0..n-1.
// All LLCB_HD: the CUDA backend generates the same data on the device.
#pragma once

#include <cstdint>
#include <string>

#include "lib/core/permutation.hpp"
#include "lib/core/random.hpp"

namespace llcb::dln {

enum class Sampling : std::uint8_t { kWithoutReplacement, kWithReplacement };

// "without_replacement" or "with_replacement" (host only); UsageError naming `what` otherwise.
Sampling parse_sampling(const std::string& text, const std::string& what);

// Fills x[0..h_in) with sample i's input.
LLCB_HD inline void sample_input(std::uint64_t problem_seed, std::uint64_t i, std::int64_t h_in,
                                 float* x) {
  for (std::int64_t j0 = 0; j0 < h_in; j0 += 4) {
    const PhiloxBlock b =
        draw_block(problem_seed, Stream::kInput, i, static_cast<std::uint32_t>(j0 / 4));
    const std::int64_t m = h_in - j0 < 4 ? h_in - j0 : 4;
    // The product is rounded before the subtraction on both CPU and GPU (no FMA contraction), so
    // the inputs are bit-identical on every backend.
    for (std::int64_t k = 0; k < m; ++k) x[j0 + k] = mul_rn(20.0f, u01f(b.v[k])) - 10.0f;
  }
}

// sample_input's bits, faster on the host: the row's blocks drawn together (draw_blocks). Host only.
void sample_input_host(std::uint64_t problem_seed, std::uint64_t i, std::int64_t h_in, float* x);

// The rows of samples idx[0 .. rows) into x (rows x h_in, row r at x + r h_in), split over the
// OpenMP threads: a minibatch's inputs as the CPU backend draws them. Host only.
void sample_inputs_host(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t rows, std::int64_t h_in,
                        float* x);

// Adds sigma * noise to sample i's target y[0..h_out).
LLCB_HD inline void add_target_noise(std::uint64_t problem_seed, std::uint64_t i,
                                     std::int64_t h_out, float sigma, float* y) {
  for (std::int64_t k0 = 0; k0 < h_out; k0 += 4) {
    const Normal4f z = normal4f(
        draw_block(problem_seed, Stream::kTargetNoise, i, static_cast<std::uint32_t>(k0 / 4)));
    const std::int64_t m = h_out - k0 < 4 ? h_out - k0 : 4;
    for (std::int64_t k = 0; k < m; ++k) y[k0 + k] += sigma * z.z[k];
  }
}

// The minibatch index stream of one chain.
class MinibatchStream {
 public:
  LLCB_HD MinibatchStream(std::uint64_t n, std::int64_t batch, std::uint64_t chain_seed,
                          Sampling sampling)
      : n_(n), batch_(batch), chain_seed_(chain_seed), sampling_(sampling) {}

  // Index of the b-th sample (0 <= b < batch) of step t.
  LLCB_HD std::uint64_t index(std::int64_t t, std::int64_t b) const {
    const std::uint64_t p = static_cast<std::uint64_t>(t) * static_cast<std::uint64_t>(batch_) +
                            static_cast<std::uint64_t>(b);
    if (sampling_ == Sampling::kWithReplacement) {
      const PhiloxBlock r = draw_block(chain_seed_, Stream::kBatch, p);
      return static_cast<std::uint64_t>(
          uniform_int(join64(r.v[0], r.v[1]), 0, static_cast<std::int64_t>(n_ - 1)));
    }
    return epoch_permutation(p / n_).apply(p % n_);
  }

  // out[b] = index(t, b) for the whole batch, building each epoch's permutation once.
  LLCB_HD void fill(std::int64_t t, std::uint64_t* out) const {
    if (sampling_ == Sampling::kWithReplacement) {
      for (std::int64_t b = 0; b < batch_; ++b) out[b] = index(t, b);
      return;
    }
    const std::uint64_t first = static_cast<std::uint64_t>(t) * static_cast<std::uint64_t>(batch_);
    std::uint64_t epoch = first / n_;
    FeistelPermutation perm = epoch_permutation(epoch);
    for (std::int64_t b = 0; b < batch_; ++b) {
      const std::uint64_t p = first + static_cast<std::uint64_t>(b);
      if (p / n_ != epoch) {
        epoch = p / n_;
        perm = epoch_permutation(epoch);
      }
      out[b] = perm.apply(p % n_);
    }
  }

  LLCB_HD FeistelPermutation epoch_permutation(std::uint64_t epoch) const {
    const PhiloxBlock k = draw_block(chain_seed_, Stream::kEpochKeys, epoch);
    const std::uint32_t keys[4] = {k.v[0], k.v[1], k.v[2], k.v[3]};
    return FeistelPermutation(n_, keys);
  }

 private:
  std::uint64_t n_;
  std::int64_t batch_;
  std::uint64_t chain_seed_;
  Sampling sampling_;
};

}  // namespace llcb::dln
