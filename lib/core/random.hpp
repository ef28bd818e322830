// Draws from Philox4x32-10 blocks (lib/core/philox.hpp), addressed as in lib/core/streams.hpp.
//
// Contract (all LLCB_HD, pure functions, same bits on CPU and GPU for the integer and u01 parts):
//   u01f(w)           float in the open interval (0, 1) from one 32-bit word: ((w >> 9) + 0.5) / 2^23
//                     (exactly representable, never 0 or 1).
//   u01d(lo, hi)      double in (0, 1) from 64 bits: ((x >> 12) + 0.5) / 2^52 (exact, never 0 or 1).
//   uniform_int(x, lo, hi)  integer in [lo, hi] (inclusive) from 64 bits by multiply-high
//                     (bias below (hi - lo + 1) / 2^64, negligible for every range llcbench uses).
//   normal2d(block)   two independent N(0, 1) doubles by Box-Muller from the block's two 64-bit
//                     uniforms (host libm; used for problem generation, which runs on the host).
//   normal4f(block)   four N(0, 1) floats by Box-Muller from the block's four words, with the
//                     branch-free log and sincos of fastmath.hpp: the same code on CPU and GPU
//                     (bit-identical where both evaluate it without contracting into FMAs).
#pragma once

#include <cmath>
#include <cstdint>

#include "lib/core/fastmath.hpp"
#include "lib/core/hd.hpp"
#include "lib/core/philox.hpp"
#include "lib/core/streams.hpp"

namespace llcb {

LLCB_HD inline PhiloxKey key_from_seed(std::uint64_t seed) {
  return PhiloxKey{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
}

LLCB_HD inline PhiloxCounter stream_counter(Stream stream, std::uint64_t index, std::uint32_t sub) {
  return PhiloxCounter{{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32),
                        sub, static_cast<std::uint32_t>(stream)}};
}

// One block of the given stream of `seed`.
LLCB_HD inline PhiloxBlock draw_block(std::uint64_t seed, Stream stream, std::uint64_t index,
                                      std::uint32_t sub = 0) {
  return philox4x32_10(stream_counter(stream, index, sub), key_from_seed(seed));
}

LLCB_HD inline std::uint64_t join64(std::uint32_t lo, std::uint32_t hi) {
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

LLCB_HD inline float u01f(std::uint32_t w) {
  return (static_cast<float>(w >> 9) + 0.5f) * 0x1p-23f;
}

LLCB_HD inline double u01d(std::uint32_t lo, std::uint32_t hi) {
  return (static_cast<double>(join64(lo, hi) >> 12) + 0.5) * 0x1p-52;
}

LLCB_HD inline std::uint64_t mulhi64(std::uint64_t a, std::uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(a, b);
#else
  __extension__ typedef unsigned __int128 u128;
  return static_cast<std::uint64_t>((static_cast<u128>(a) * b) >> 64);
#endif
}

// Requires lo <= hi.
LLCB_HD inline std::int64_t uniform_int(std::uint64_t x, std::int64_t lo, std::int64_t hi) {
  const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1u;  // 0 means the full range
  if (span == 0) return static_cast<std::int64_t>(x);
  return lo + static_cast<std::int64_t>(mulhi64(x, span));
}

struct Normal2d {
  double z0, z1;
};

inline Normal2d normal2d(PhiloxBlock b) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  const double u1 = u01d(b.v[0], b.v[1]);
  const double u2 = u01d(b.v[2], b.v[3]);
  const double r = std::sqrt(-2.0 * std::log(u1));
  return Normal2d{r * std::cos(kTwoPi * u2), r * std::sin(kTwoPi * u2)};
}

// a * b rounded to float, never fused with a following addition (device: __fmul_rn; host: the
// build compiles C++ with -ffp-contract=off, CMakeLists.txt).
LLCB_HD inline float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

LLCB_HD inline float sqrtf_hd(float x) {
#if defined(__CUDA_ARCH__)
  return sqrtf(x);  // IEEE correctly rounded, as std::sqrt on the host
#else
  return std::sqrt(x);
#endif
}

LLCB_HD inline double sqrt_hd(double x) {
#if defined(__CUDA_ARCH__)
  return sqrt(x);  // IEEE correctly rounded on both
#else
  return std::sqrt(x);
#endif
}

// x^y in double: correctly rounded on the host (glibc); within 2 ulp on the device.
LLCB_HD inline double pow_hd(double x, double y) {
#if defined(__CUDA_ARCH__)
  return pow(x, y);
#else
  return std::pow(x, y);
#endif
}

struct Normal4f {
  float z[4];
};

// Box-Muller in float with the branch-free functions of fastmath.hpp (same code on CPU and GPU).
LLCB_HD inline void box_muller_f(float u1, float u2, float& z0, float& z1) {
  const float r = sqrtf_hd(-2.0f * log_f(u1));
  float s, c;
  sincos_2pi_f(u2, s, c);
  z0 = r * c;
  z1 = r * s;
}

LLCB_HD inline Normal4f normal4f(PhiloxBlock b) {
  Normal4f n;
  box_muller_f(u01f(b.v[0]), u01f(b.v[1]), n.z[0], n.z[1]);
  box_muller_f(u01f(b.v[2]), u01f(b.v[3]), n.z[2], n.z[3]);
  return n;
}

}  // namespace llcb
