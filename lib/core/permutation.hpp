// A keyed pseudo-random permutation of 0..n-1 that needs O(1) memory: a 4-round balanced Feistel
// network on 2h bits (2^(2h) >= n, so the smallest such h gives at most 4n values) with
// cycle-walking down to [0, n). Used for minibatches drawn without replacement within an epoch.
//
// Contract: for every n >= 1 and key, apply() is a bijection of [0, n) (tested exhaustively for
// small n); pure, LLCB_HD, identical on CPU and GPU. Expected cycle-walking steps are below 4.
// Round function: the "lowbias32" integer hash of (half ^ round key), masked to h bits.
#pragma once

#include <cstdint>

#include "lib/core/hd.hpp"

namespace llcb {

LLCB_HD inline std::uint32_t hash32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

class FeistelPermutation {
 public:
  // n in [1, 2^62]; keys are four 32-bit round keys (for example one Philox block).
  LLCB_HD FeistelPermutation(std::uint64_t n, const std::uint32_t (&keys)[4]) : n_(n) {
    half_bits_ = 1;
    while ((std::uint64_t{1} << (2 * half_bits_)) < n) ++half_bits_;
    mask_ = (std::uint64_t{1} << half_bits_) - 1;
    for (int r = 0; r < 4; ++r) keys_[r] = keys[r];
  }

  LLCB_HD std::uint64_t apply(std::uint64_t x) const {
    do {
      x = round_trip(x);
    } while (x >= n_);
    return x;
  }

 private:
  LLCB_HD std::uint64_t round_trip(std::uint64_t x) const {
    std::uint64_t left = x >> half_bits_;
    std::uint64_t right = x & mask_;
    for (int r = 0; r < 4; ++r) {
      const std::uint64_t f =
          (hash32(static_cast<std::uint32_t>(right) ^ keys_[r]) ^
           (static_cast<std::uint64_t>(hash32(static_cast<std::uint32_t>(right >> 32) + keys_[r])) << 32)) &
          mask_;
      const std::uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    return (left << half_bits_) | right;
  }

  std::uint64_t n_;
  unsigned half_bits_;
  std::uint64_t mask_;
  std::uint32_t keys_[4];
};

}  // namespace llcb
