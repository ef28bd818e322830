// What is certified about the local LLC at a teacher w* (docs/truth.md).
//
// Aoyagi's lambda(widths, r) (true_llc.hpp) is the learning coefficient of the whole true set
// F = {w : W_M ... W_1 = W*}: the least local LLC over F. A chain started at w* measures the local
// LLC there, which is bounded below by two numbers:
//   - lambda_smooth = rank(J) / 2, J the Jacobian of mu(w) = W_M ... W_1 at w* (the Hessian of the
//     population loss at w* is J^T (Sigma_x (x) I) J, and the splitting lemma gives k = rank(J)
//     squares plus a remainder);
//   - Aoyagi's value (the minimum over F).
// rank(J) follows from the ranks of the partial products alone. With 0-based layers s = 0..M-1
// (layer s maps widths[s] -> widths[s+1]),
//   after[s]  = rank(W_{M-1} ... W_{s+1})   (after[M-1] = widths[M], the empty product)
//   before[s] = rank(W_{s-1} ... W_0)       (before[0] = widths[0])
//   rank(J)   = after[0] before[0] + sum_{s=1..M-1} (after[s] - after[s-1]) before[s]
// (the image of d mu is the sum over s of col(after-product) (x) row(before-product); the column
// spaces grow and the row spaces shrink with s, so the sum splits into graded pieces).
//
// Truth status of a teacher:
//   exact   every layer has rank r (the minimal stratum, in the closure of every stratum of F):
//           the local LLC is Aoyagi's value;
//   above   lambda_smooth > Aoyagi: the local LLC is at least lambda_smooth (Aoyagi's value is
//           not what a correct chain converges to);
//   global  otherwise: Aoyagi's value is a lower bound, lambda_lower = Aoyagi.
// lambda_lower = max(Aoyagi, lambda_smooth) in every case.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/core/rational.hpp"
#include "lib/dln/linalg.hpp"

namespace llcb::dln {

enum class TruthStatus { kExact, kAbove, kGlobal };
const char* to_string(TruthStatus status);

struct PartialRanks {
  std::vector<std::int64_t> after;   // after[s]  = rank(W_{M-1} ... W_{s+1}), s = 0..M-1
  std::vector<std::int64_t> before;  // before[s] = rank(W_{s-1} ... W_0),     s = 0..M-1
};

struct LocalTruth {
  std::vector<std::int64_t> layer_ranks;  // rank(W_s)
  PartialRanks partial;
  std::int64_t jacobian_rank = 0;
  Rational lambda_smooth;  // rank(J) / 2
  Rational lambda_lower;   // max(Aoyagi, lambda_smooth)
  TruthStatus status = TruthStatus::kGlobal;
  bool numerical_ranks = false;  // partial ranks computed numerically (else: general position)
};

// rank(J) by the formula above (integer arithmetic; InternalError on inconsistent input).
std::int64_t jacobian_rank(const std::vector<std::int64_t>& widths, const PartialRanks& ranks);

// The partial-product ranks of a teacher whose layers are in general position given their ranks:
// a product's rank is the least rank of its factors (and of the outer widths). This holds with
// probability one for llcbench's teachers (Gaussian layers with leading rows or columns zeroed);
// `truth` uses it, and the tests check it against the numerical ranks.
PartialRanks generic_partial_ranks(const std::vector<std::int64_t>& widths,
                                   const std::vector<std::int64_t>& layer_ranks);

// The numerical partial-product ranks of the layers produced by layer(s) (shape widths[s+1] x
// widths[s], double), each with the tolerance of numerical_rank() for the product's own shape.
// Each pass (from the input side for `before`, from the output side for `after`) keeps the
// product so far as a thin factor A with the same singular values (P = A Q, Q with orthonormal
// rows), so every step costs one GEMM and one SVD of a widths[s+1] x rank matrix; a layer is
// produced once per pass.
PartialRanks numerical_partial_ranks(const std::vector<std::int64_t>& widths,
                                     const std::function<MatrixD(std::size_t)>& layer);

// rank(J), lambda_smooth, lambda_lower and the status of a teacher with these layer and partial
// ranks whose product has rank `rank` and Aoyagi value `aoyagi`.
LocalTruth local_truth(const std::vector<std::int64_t>& widths, std::int64_t rank,
                       const std::vector<std::int64_t>& layer_ranks, PartialRanks partial,
                       const Rational& aoyagi);

}  // namespace llcb::dln
