// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror & Shaw, "Parallel random
// numbers: as easy as 1, 2, 3" (SC11), as specified by the Random123 library.
//
// Contract: philox4x32_10(counter, key) is a pure function of 128 counter bits and 64 key bits;
// it returns four 32-bit words. It is header-only and LLCB_HD, so the CPU backend and CUDA kernels
// call the same code and get the same bits. Tested against Random123's known-answer vectors.
#pragma once

#include <cstdint>

#include "lib/core/hd.hpp"

namespace llcb {

struct PhiloxCounter {
  std::uint32_t v[4];
};

struct PhiloxKey {
  std::uint32_t v[2];
};

struct PhiloxBlock {
  std::uint32_t v[4];
};

namespace philox_detail {

constexpr std::uint32_t kM0 = 0xD2511F53u;
constexpr std::uint32_t kM1 = 0xCD9E8D57u;
constexpr std::uint32_t kW0 = 0x9E3779B9u;  // golden ratio
constexpr std::uint32_t kW1 = 0xBB67AE85u;  // sqrt(3) - 1

LLCB_HD inline void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

}  // namespace philox_detail

// Philox4x32 with R rounds (R = 10 is the standard, and the one llcbench uses everywhere).
template <int R>
LLCB_HD inline PhiloxBlock philox4x32(PhiloxCounter c, PhiloxKey k) {
  using namespace philox_detail;
  std::uint32_t x0 = c.v[0], x1 = c.v[1], x2 = c.v[2], x3 = c.v[3];
  std::uint32_t k0 = k.v[0], k1 = k.v[1];
  for (int r = 0; r < R; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kM0, x0, hi0, lo0);
    mulhilo(kM1, x2, hi1, lo1);
    const std::uint32_t y0 = hi1 ^ x1 ^ k0;
    const std::uint32_t y2 = hi0 ^ x3 ^ k1;
    x0 = y0;
    x1 = lo1;
    x2 = y2;
    x3 = lo0;
  }
  return PhiloxBlock{{x0, x1, x2, x3}};
}

LLCB_HD inline PhiloxBlock philox4x32_10(PhiloxCounter c, PhiloxKey k) { return philox4x32<10>(c, k); }

}  // namespace llcb
