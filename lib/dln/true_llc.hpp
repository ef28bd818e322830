// The true local learning coefficient of a deep linear network (Aoyagi 2024; benchmark.md
// section 2), computed exactly in rational arithmetic.
//
// Given widths H_1..H_{M+1} and product rank r (0 <= r <= min H), with D_s = H_s - r, the unique
// subset S of {1..M+1}, |S| = l + 1, l >= 1, satisfies
//   max D(S) < min D(not S),  sum D(S) >= l * max D(S),  sum D(S) < l * min D(not S)
// and is a prefix of the D values sorted ascending that does not split ties. With T = sum D(S),
// a = T - (ceil(T / l) - 1) * l:
//   lambda = (r (H_1 + H_{M+1}) - r^2) / 2 + a (l - a) / (4l) - (l - 1) T^2 / (4l)
//            + (1/2) sum_{i<j in S} D_i D_j
//   multiplicity = a (l - a) + 1
#pragma once

#include <cstdint>
#include <vector>

#include "lib/core/rational.hpp"

namespace llcb::dln {

struct TrueLlc {
  Rational lambda;
  std::int64_t multiplicity = 0;
  std::vector<std::int64_t> subset;  // S as 1-based positions into the width list, ascending
  std::int64_t l = 0;                // |S| - 1
  std::int64_t d = 0;                // parameter count
};

// Throws UsageError for invalid widths (architecture.hpp) or a rank outside 0..min(widths).
// Throws InternalError if the subset is not unique (it always is; this guards the implementation).
TrueLlc true_llc(const std::vector<std::int64_t>& widths, std::int64_t rank);

}  // namespace llcb::dln
