// Dense double-precision linear algebra for problem generation (host only, BLAS + LAPACK):
// products of teacher layers and the numerical rank of their product.
//
// Numerical rank (benchmark.md section 1, step 4): the number of singular values above
//   tol = sigma_max * max(rows, cols) * DBL_EPSILON
// (the convention of numpy.linalg.matrix_rank and torch.linalg.matrix_rank), computed from the
// singular values of LAPACK's dgesdd in double. The zero matrix has rank 0.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace llcb::dln {

// Row-major rows x cols matrix.
struct MatrixD {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> a;

  MatrixD() = default;
  MatrixD(std::int64_t r, std::int64_t c) : rows(r), cols(c), a(static_cast<std::size_t>(r * c), 0.0) {}
  double& at(std::int64_t i, std::int64_t j) { return a[static_cast<std::size_t>(i * cols + j)]; }
  double at(std::int64_t i, std::int64_t j) const { return a[static_cast<std::size_t>(i * cols + j)]; }
};

// a * b (requires a.cols == b.rows).
MatrixD multiply(const MatrixD& a, const MatrixD& b);

// Singular values, descending. Throws RuntimeError if LAPACK fails to converge.
std::vector<double> singular_values(const MatrixD& m);

std::int64_t numerical_rank(const MatrixD& m);

// The product W_{M-1} ... W_0 of the layers produced by layer(s) (shape widths[s+1] x widths[s]),
// multiplied in the cheapest order (matrix-chain dynamic programme over the widths); layers are
// produced when needed and released after use, so at most a few are held at once.
MatrixD chain_product(const std::vector<std::int64_t>& widths,
                      const std::function<MatrixD(std::size_t)>& layer);

}  // namespace llcb::dln
