#include "lib/dln/linalg.hpp"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <limits>
#include <string>

#include "lib/core/check.hpp"

extern "C" void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda,
                        double* s, double* u, const int* ldu, double* vt, const int* ldvt,
                        double* work, const int* lwork, int* iwork, int* info,
                        std::size_t jobz_len);

namespace llcb::dln {
namespace {

std::string describe_lapack_info(int info) {
  if (info < 0) return "argument " + std::to_string(-info) + " had an illegal value";
  return "the SVD did not converge (" + std::to_string(info) + " superdiagonals)";
}

}  // namespace

MatrixD multiply(const MatrixD& a, const MatrixD& b) {
  LLCB_CHECK(a.cols == b.rows, "matrix shapes do not match for multiplication");
  MatrixD c(a.rows, b.cols);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(a.rows),
              static_cast<int>(b.cols), static_cast<int>(a.cols), 1.0, a.a.data(),
              static_cast<int>(a.cols), b.a.data(), static_cast<int>(b.cols), 0.0, c.a.data(),
              static_cast<int>(c.cols));
  return c;
}

std::vector<double> singular_values(const MatrixD& m) {
  // A row-major rows x cols matrix is the column-major cols x rows matrix of its transpose,
  // which has the same singular values.
  const int mm = static_cast<int>(m.cols);
  const int nn = static_cast<int>(m.rows);
  std::vector<double> a = m.a;  // dgesdd destroys its input
  std::vector<double> s(static_cast<std::size_t>(std::min(mm, nn)));
  std::vector<int> iwork(8 * s.size());
  const int lda = std::max(1, mm);
  const int one = 1;
  int lwork = -1;
  int info = 0;
  double query = 0.0;
  dgesdd_("N", &mm, &nn, a.data(), &lda, s.data(), nullptr, &one, nullptr, &one, &query, &lwork,
          iwork.data(), &info, 1);
  LLCB_CHECK_STATUS(info, 0, describe_lapack_info, RuntimeError);
  lwork = static_cast<int>(query) + 1;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dgesdd_("N", &mm, &nn, a.data(), &lda, s.data(), nullptr, &one, nullptr, &one, work.data(),
          &lwork, iwork.data(), &info, 1);
  LLCB_CHECK_STATUS(info, 0, describe_lapack_info, RuntimeError);
  return s;
}

std::int64_t numerical_rank(const MatrixD& m) {
  if (m.rows == 0 || m.cols == 0) return 0;
  const auto s = singular_values(m);
  const double tol = s.front() * static_cast<double>(std::max(m.rows, m.cols)) * DBL_EPSILON;
  return std::count_if(s.begin(), s.end(), [tol](double v) { return v > tol; });
}

MatrixD chain_product(const std::vector<std::int64_t>& widths,
                      const std::function<MatrixD(std::size_t)>& layer) {
  const std::size_t m = widths.size() - 1;  // layers
  LLCB_CHECK(m >= 1, "a chain product needs at least one layer");
  // cost[i][j]: flops/2 of the cheapest evaluation of W_j ... W_i (0-based, i <= j), whose result
  // is widths[j+1] x widths[i]; split[i][j] = k means (W_j..W_{k+1}) (W_k..W_i).
  std::vector<std::vector<double>> cost(m, std::vector<double>(m, 0.0));
  std::vector<std::vector<std::size_t>> split(m, std::vector<std::size_t>(m, 0));
  for (std::size_t len = 2; len <= m; ++len) {
    for (std::size_t i = 0; i + len <= m; ++i) {
      const std::size_t j = i + len - 1;
      cost[i][j] = std::numeric_limits<double>::infinity();
      for (std::size_t k = i; k < j; ++k) {
        const double c = cost[i][k] + cost[k + 1][j] +
                         static_cast<double>(widths[j + 1]) * static_cast<double>(widths[k + 1]) *
                             static_cast<double>(widths[i]);
        if (c < cost[i][j]) {
          cost[i][j] = c;
          split[i][j] = k;
        }
      }
    }
  }
  const std::function<MatrixD(std::size_t, std::size_t)> eval = [&](std::size_t i, std::size_t j) {
    if (i == j) return layer(i);
    const std::size_t k = split[i][j];
    const MatrixD right = eval(i, k);
    return multiply(eval(k + 1, j), right);
  };
  return eval(0, m - 1);
}

}  // namespace llcb::dln
