// Sums over an index range in an order the source fixes, whatever vector width the compiler
// picks: element i goes to lane i % kSumLanes, each lane adds its elements in index order, and
// the lanes are added 0, 1, ..., kSumLanes - 1 at the end. `#pragma omp simd reduction` would let
// the compiler choose the order, so a build for AVX-512 (16 float lanes) and one for AVX2 (8)
// gave different bits; with the order in the source, every build gives the same (tested in
// tests/backend/cpu/test_lane_sums.cpp against a scalar loop).
//
//   for_each_lane<N>(n, f)   calls f(i, lane) for i in [0, n) with lane = i % kSumLanes, the
//                            full groups of kSumLanes as a vectorisable loop, then the tail.
//   add_lanes(lanes)         lanes[0] + lanes[1] + ... in that order, in double.
#pragma once

#include <cstdint>

namespace llcb::backend::cpu {

constexpr int kSumLanes = 16;

template <class F>
inline void for_each_lane(std::int64_t n, F&& f) {
  const std::int64_t full = n / kSumLanes * kSumLanes;
  for (std::int64_t i0 = 0; i0 < full; i0 += kSumLanes) {
#pragma omp simd
    for (int l = 0; l < kSumLanes; ++l) f(i0 + l, l);
  }
  for (std::int64_t i = full; i < n; ++i) f(i, static_cast<int>(i - full));
}

template <class T>
inline double add_lanes(const T (&lanes)[kSumLanes]) {
  double s = 0;
  for (int l = 0; l < kSumLanes; ++l) s += static_cast<double>(lanes[l]);
  return s;
}

}  // namespace llcb::backend::cpu
