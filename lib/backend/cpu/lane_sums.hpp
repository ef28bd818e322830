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
//   chunked_lane_sum(n, term)  the sum of term(i) (a double) over [0, n) in fixed 4096-element
//                            chunks, each summed by for_each_lane, the chunks' sums added in
//                            chunk order; the chunks run on the OpenMP threads. The same bits for
//                            any thread count and vector width. term may also write element i of
//                            an output array (the loss's residual pass does).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

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

constexpr std::int64_t kLaneChunk = 4096;

template <class Term>
inline double chunked_lane_sum(std::int64_t n, Term&& term) {
  const std::int64_t chunks = (n + kLaneChunk - 1) / kLaneChunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks));
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t at = c * kLaneChunk;
    double lanes[kSumLanes] = {};
    for_each_lane(std::min(n, at + kLaneChunk) - at, [&](std::int64_t i, int l) { lanes[l] += term(at + i); });
    partial[static_cast<std::size_t>(c)] = add_lanes(lanes);
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace llcb::backend::cpu
