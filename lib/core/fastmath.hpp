// Branch-free float log and sincos(2 pi u) for noise generation, written once for CPU and GPU.
//
// Contract: plain arithmetic and bit operations only (no libm, no intrinsics), so loops calling
// them vectorise on the CPU and the same code runs in CUDA kernels. Accuracy (checked against
// libm in double by the tests): log_f within 2 ulp on (0, 1]; sincos_2pi_f within 2e-7 absolute.
// Domain: log_f for normal positive floats; sincos_2pi_f for u in [0, 1].
// The polynomials are the Cephes single-precision minimax coefficients.
#pragma once

#include <cstdint>
#include <cstring>

#include "lib/core/hd.hpp"

namespace llcb {

LLCB_HD inline std::uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

LLCB_HD inline float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// Natural logarithm of a positive normal float.
LLCB_HD inline float log_f(float x) {
  const std::uint32_t i = float_bits(x);
  int e = static_cast<int>((i >> 23) & 0xffu) - 126;          // x = m * 2^e, m in [0.5, 1)
  float m = bits_float((i & 0x007fffffu) | 0x3f000000u);
  // m below sqrt(1/2): e - 1 and (m + m) - 1. Selected with an integer mask, the same values as
  // selecting between e - 1 and e and between (m + m) - 1 and m - 1: GCC vectorises that without
  // AVX-512's mask registers too, where with ?: selects it left an AVX2 build's noise loop scalar,
  // ten times slower.
  const std::uint32_t small = 0u - static_cast<std::uint32_t>(m < 0.707106781186547524f);
  e -= static_cast<int>(small & 1u);
  const float f = bits_float((float_bits(m + m) & small) | (float_bits(m) & ~small)) - 1.0f;  // [-0.2929, 0.4142)
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  const float fe = static_cast<float>(e);
  float y = f * z * p;
  y += fe * -2.12194440e-4f;
  y -= 0.5f * z;
  return (f + y) + fe * 0.693359375f;
}

// s = sin(2 pi u), c = cos(2 pi u).
LLCB_HD inline void sincos_2pi_f(float u, float& s, float& c) {
  const float q = u * 4.0f;                                   // quarter turns
  const int quadrant_turns = static_cast<int>(q + 0.5f);      // nearest quadrant, 0..4
  const float k = static_cast<float>(quadrant_turns);
  const float t = (q - k) * 1.57079632679489662f;              // |t| <= pi/4
  const float t2 = t * t;
  float ps = -1.9515295891e-4f;
  ps = ps * t2 + 8.3321608736e-3f;
  ps = ps * t2 - 1.6666654611e-1f;
  const float st = t + t * t2 * ps;
  float pc = 2.443315711809948e-5f;
  pc = pc * t2 - 1.388731625493765e-3f;
  pc = pc * t2 + 4.166664568298827e-2f;
  const float ct = 1.0f - 0.5f * t2 + t2 * t2 * pc;
  const int quadrant = quadrant_turns & 3;
  const float sv = (quadrant & 1) ? ct : st;
  const float cv = (quadrant & 1) ? st : ct;
  // Negation is a flip of the sign bit: s = -sv in quadrants 2 and 3, c = -cv in 1 and 2.
  s = bits_float(float_bits(sv) ^ (static_cast<std::uint32_t>(quadrant & 2) << 30));
  c = bits_float(float_bits(cv) ^ (static_cast<std::uint32_t>((quadrant + 1) & 2) << 30));
}

}  // namespace llcb
