// Sums over an index range in an order the source fixes, whatever vector width the compiler
// picks: element i goes to lane i % kSumLanes, each lane adds its elements in index order, and
// the lanes are added 0, 1, ..., kSumLanes - 1 at the end. `#pragma omp simd reduction` would let
// the compiler choose the order, so a build for AVX-512 (16 float lanes) and one for AVX2 (8)
// gave different bits; with the order in the source, every build gives the same (tested in
// tests/backend/cpu/test_lane_sums.cpp against a scalar loop).
//
//   LaneSums<T, K>           K sums of T (float or double) in those lanes, kept in vector registers
//                            (GCC's and Clang's vector types; arrays indexed by lane went through
//                            memory at every group, which cost the update pass 5%). add(n, term)
//                            calls term(i, t) for i in [0, n), in groups of kSumLanes as a
//                            vectorisable loop; term writes element i's K terms to t[0..K) (and may
//                            write element i of output arrays). Each lane adds its terms in index
//                            order; total(k) adds the lanes of sum k in order, in double.
//   chunked_lane_sums<T, K>(n, chunk)  K sums over [0, n) in fixed kLaneChunk-element chunks:
//                            chunk(begin, len, sums) adds the terms of elements begin .. begin +
//                            len - 1, in index order, to a fresh LaneSums<T, K>; the chunks run on
//                            the OpenMP threads and their totals are added in chunk order. The
//                            same bits for any thread count and vector width (the update pass's
//                            sums). The threads take contiguous shares of the chunks
//                            (share_begin), or, given owners (one a chunk: chunk_owners.hpp),
//                            thread owners[c] % team runs chunk c; either way the same bits.
//   run_lane_chunk, sum_in_chunk_order  one chunk of chunked_lane_sums, and its totals' addition,
//                            for a pass that schedules its chunks itself (side_update.hpp)
//   chunked_lane_sum(n, term, owners)  the one sum of term(i) (a double) over [0, n) that way.
//                            term may also write element i of an output array (the loss's
//                            residual pass does).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <omp.h>

#include "lib/core/check.hpp"
#include "lib/core/shares.hpp"

namespace llcb::backend::cpu {

constexpr int kSumLanes = 16;

template <class T, int K>
class LaneSums {
 public:
  template <class Term>
  void add(std::int64_t n, Term&& term) {
    const std::int64_t full = n / kSumLanes * kSumLanes;
    for (std::int64_t i0 = 0; i0 < full; i0 += kSumLanes) group<true>(i0, kSumLanes, term);
    if (full < n) group<false>(full, n - full, term);
  }
  double total(int k) const {
    T lanes[kSumLanes];
    std::memcpy(lanes, sums_[k], sizeof lanes);
    double s = 0;
    for (int l = 0; l < kSumLanes; ++l) s += static_cast<double>(lanes[l]);
    return s;
  }

 private:
  // The lanes of one sum as vectors of the build's own width (64 bytes with AVX-512: one for
  // float, two for double; 32 with AVX2; 16 otherwise). Wider vector types compile to slow code:
  // on an AVX2 build, 64-byte ones went through the stack a 64-bit word at a time and made the
  // update pass 4 times as slow. Each lane adds the same terms in the same order at any width.
#if defined(__AVX512F__)
  static constexpr int kVecBytes = 64;
#elif defined(__AVX__)
  static constexpr int kVecBytes = 32;
#else
  static constexpr int kVecBytes = 16;
#endif
  // (So the class's layout follows the build's flags: every file of one binary must be built
  // with the same -march, as the project's are.)
  typedef T Vec __attribute__((vector_size(kVecBytes)));
  static constexpr int kParts = static_cast<int>(sizeof(T)) * kSumLanes / kVecBytes;
  static_assert(kParts * kVecBytes == static_cast<int>(sizeof(T)) * kSumLanes, "whole vectors of lanes");
  static constexpr int kPerPart = kSumLanes / kParts;

  // Elements i0 .. i0 + m - 1 into lanes 0 .. m - 1. The lanes past m get +0, which leaves
  // them as they are: a lane that starts at +0 and adds terms is never -0.
  template <bool Full, class Term>
  void group(std::int64_t i0, std::int64_t m, Term& term) {
    alignas(64) T t[K][kSumLanes] = {};
#pragma omp simd
    for (int l = 0; l < kSumLanes; ++l) {
      if (Full || l < m) {
        T terms[K];
        term(i0 + l, terms);
        for (int k = 0; k < K; ++k) t[k][l] = terms[k];
      }
    }
    for (int k = 0; k < K; ++k) {
      for (int p = 0; p < kParts; ++p) {
        Vec v;
        std::memcpy(&v, t[k] + p * kPerPart, sizeof v);
        sums_[k][p] += v;
      }
    }
  }

  Vec sums_[K][kParts] = {};
};

constexpr std::int64_t kLaneChunk = 4096;

inline std::int64_t lane_chunks(std::int64_t n) { return (n + kLaneChunk - 1) / kLaneChunk; }

// Chunk c of [0, n) through chunk(begin, len, sums) into partial[K c .. K c + K) (one chunk of
// chunked_lane_sums, for a pass that schedules its chunks itself: side_update.hpp).
template <class T, int K, class Chunk>
inline void run_lane_chunk(std::int64_t n, std::int64_t c, Chunk& chunk, double* partial) {
  const std::int64_t begin = c * kLaneChunk;
  LaneSums<T, K> sums;
  chunk(begin, std::min(n, begin + kLaneChunk) - begin, sums);
  for (int k = 0; k < K; ++k) partial[K * c + k] = sums.total(k);
}

// The chunks' totals (partial as run_lane_chunk leaves it) added in chunk order.
template <int K>
inline std::array<double, K> sum_in_chunk_order(std::span<const double> partial) {
  std::array<double, K> total{};
  for (std::size_t c = 0; c + K <= partial.size(); c += K) {
    for (int k = 0; k < K; ++k) total[static_cast<std::size_t>(k)] += partial[c + static_cast<std::size_t>(k)];
  }
  return total;
}

template <class T, int K, class Chunk>
inline std::array<double, K> chunked_lane_sums(std::int64_t n, Chunk&& chunk, std::span<const int> owners = {}) {
  const std::int64_t chunks = lane_chunks(n);
  std::vector<double> partial(static_cast<std::size_t>(K * chunks));
  LLCB_CHECK(owners.empty() || static_cast<std::int64_t>(owners.size()) == chunks, "one owner a chunk");
  LLCB_CHECK(std::all_of(owners.begin(), owners.end(), [](int t) { return t >= 0; }), "owners are threads");
  const auto run = [&](std::int64_t c) { run_lane_chunk<T, K>(n, c, chunk, partial.data()); };
#pragma omp parallel
  {
    const int team = omp_get_num_threads();
    const int me = omp_get_thread_num();
    if (!owners.empty()) {
      for (std::int64_t c = 0; c < chunks; ++c) {
        if (owners[static_cast<std::size_t>(c)] % team == me) run(c);
      }
    } else {
      for (std::int64_t c = share_begin(chunks, me, team); c < share_begin(chunks, me + 1, team); ++c) run(c);
    }
  }
  return sum_in_chunk_order<K>(partial);
}

template <class Term>
inline double chunked_lane_sum(std::int64_t n, Term&& term, std::span<const int> owners = {}) {
  return chunked_lane_sums<double, 1>(
      n,
      [&](std::int64_t begin, std::int64_t len, LaneSums<double, 1>& sums) {
        sums.add(len, [&](std::int64_t i, double (&t)[1]) { t[0] = term(begin + i); });
      },
      owners)[0];
}

}  // namespace llcb::backend::cpu
