#include "lib/dln/linalg.hpp"

#include <cblas.h>
#include <omp.h>

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

void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const float* a, int lda,
               const float* b, int ldb, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const double* a,
               int lda, const double* b, int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}

// Small products run their blocks in the calling thread: a parallel region would cost more than
// it saves. Either way each block is the same call, so the result is the same.
bool worth_threads(std::int64_t m, std::int64_t n, std::int64_t k) {
  constexpr double kParallelMacs = 1 << 20;
  return static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= kParallelMacs;
}

// gemm_rows_or_columns()'s split: by columns a product of one row block whose C has several.
bool split_by_columns(std::int64_t m, std::int64_t n) { return m <= gemm_row_block(m) && n > gemm_row_block(n); }

// Block i of C = op(A) op(B) cut into gemm_row_block rows (or, by_columns, columns): one
// single-threaded BLAS call.
template <typename T>
void gemm_block(bool by_columns, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc, std::int64_t i) {
  const std::int64_t extent = by_columns ? n : m;
  const std::int64_t size = gemm_row_block(extent);
  const std::int64_t first = i * size;
  const std::int64_t count = std::min(size, extent - first);
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (by_columns) {
    // Column `first` of op(B): column `first` of B, or its row `first` when transposed.
    const T* b_block = trans_b ? b + first * ldb : b + first;
    blas_gemm(ta, tb, static_cast<int>(m), static_cast<int>(count), static_cast<int>(k), a, static_cast<int>(lda),
              b_block, static_cast<int>(ldb), c + first, static_cast<int>(ldc));
  } else {
    // Row `first` of op(A): row `first` of A, or its column `first` when transposed.
    const T* a_block = trans_a ? a + first : a + first * lda;
    blas_gemm(ta, tb, static_cast<int>(count), static_cast<int>(n), static_cast<int>(k), a_block,
              static_cast<int>(lda), b, static_cast<int>(ldb), c + first * ldc, static_cast<int>(ldc));
  }
}

// The number of blocks gemm_block() cuts C into.
std::int64_t gemm_blocks(bool by_columns, std::int64_t m, std::int64_t n) {
  const std::int64_t extent = by_columns ? n : m;
  const std::int64_t size = gemm_row_block(extent);
  return (extent + size - 1) / size;
}

// C in blocks of gemm_row_block rows (or, by_columns, of columns), spread over the threads in
// contiguous shares (share_begin).
template <typename T>
void blocked_gemm(bool by_columns, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc) {
  const std::int64_t blocks = gemm_blocks(by_columns, m, n);
  hold_blas_to_openmp();  // a team of one leaves OpenBLAS its own count (linalg.hpp)
#pragma omp parallel if (worth_threads(m, n, k))
  {
    // In a team of several threads OpenBLAS runs single-threaded on its own (omp_in_parallel);
    // in a team of one it would use this task's nthreads-var, which is set to 1 here (the
    // setting is local to the task and ends with the parallel region).
    omp_set_num_threads(1);
    const int team = omp_get_num_threads();
    const int me = omp_get_thread_num();
    for (std::int64_t i = share_begin(blocks, me, team); i < share_begin(blocks, me + 1, team); ++i) {
      gemm_block(by_columns, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, i);
    }
  }
}

// The part of C that block i of gemm_block() writes, by `thread`.
GemmPart block_part(bool by_columns, std::int64_t m, std::int64_t n, std::int64_t i, int thread) {
  const std::int64_t extent = by_columns ? n : m;
  const std::int64_t size = gemm_row_block(extent);
  const std::int64_t first = i * size;
  const std::int64_t count = std::min(size, extent - first);
  return by_columns ? GemmPart{0, m, first, count, thread} : GemmPart{first, count, 0, n, thread};
}

// The parts of blocks 0 .. blocks - 1 (of rows, or by_columns columns) spread over a team of
// `team` as blocked_gemm() spreads them, or all by thread 0 when `threaded` is false.
std::vector<GemmPart> shared_parts(bool by_columns, std::int64_t m, std::int64_t n, bool threaded, int team) {
  const std::int64_t blocks = gemm_blocks(by_columns, m, n);
  const int group = threaded ? team : 1;
  std::vector<GemmPart> parts;
  for (int t = 0; t < group; ++t) {
    for (std::int64_t i = share_begin(blocks, t, group); i < share_begin(blocks, t + 1, group); ++i) {
      parts.push_back(block_part(by_columns, m, n, i, t));
    }
  }
  return parts;
}

// The parts of gemm_batch_halves()' last pass, C += scratch (m x n), on a team of `team`: all of C
// by `adder` where it is one of the team, else gemm()'s row blocks of m spread as it spreads them.
// The pass itself runs these parts, so gemm_parts() describes what it does.
std::vector<GemmPart> halves_add_parts(std::int64_t m, std::int64_t n, int team, int adder) {
  if (adder >= 0 && adder < team) return {GemmPart{0, m, 0, n, adder}};
  return shared_parts(false, m, n, true, team);
}

}  // namespace

int openmp_team(int want) {
  const int cap = omp_get_max_active_levels() < 1 ? 1 : omp_get_thread_limit();
  return std::max(1, std::min(want, cap));
}

void set_blas_threads(int want) {
  const int n = openmp_team(want);
  openblas_set_num_threads(n);  // OpenBLAS up to 0.3.23 keeps its own count (0.3.21 also sets OpenMP's)
  omp_set_num_threads(n);       // from 0.3.24 it takes OpenMP's at each call
}

void hold_blas_to_openmp() {
  // Teams whose size OpenMP picks as it goes would leave a threaded product short of threads.
  omp_set_dynamic(0);
  const int cap = openmp_team(std::numeric_limits<int>::max());
  const int omp = std::min(omp_get_max_threads(), cap);
  if (openblas_get_num_threads() > cap) openblas_set_num_threads(cap);
  omp_set_num_threads(omp);  // OpenMP's own count, held (and as it was, where 0.3.21's call changed it)
}

void gemm_rows_or_columns(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                          std::int64_t ldc) {
  blocked_gemm(split_by_columns(m, n), trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
}

std::int64_t batch_half(std::int64_t k) { return (gemm_blocks(false, k, 1) + 1) / 2 * gemm_row_block(k); }

void gemm_batch_halves(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                       const float* b, std::int64_t ldb, float* c, std::int64_t ldc, float* scratch, int adder) {
  const std::int64_t half = batch_half(k);
  if (half >= k) {
    gemm_rows_or_columns(true, false, m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  const bool by_columns = split_by_columns(m, n);
  const std::int64_t blocks = gemm_blocks(by_columns, m, n);
  // Block i of half p: gemm_rows_or_columns()'s block i of the sum over the half's rows, into C
  // (the first half) or scratch (the second).
  const auto block = [&](int p, std::int64_t i) {
    if (p == 0) {
      gemm_block(by_columns, true, false, m, n, half, a, lda, b, ldb, c, ldc, i);
    } else {
      gemm_block(by_columns, true, false, m, n, k - half, a + half * lda, lda, b + half * ldb, ldb, scratch, n, i);
    }
  };
  hold_blas_to_openmp();  // as blocked_gemm
#pragma omp parallel if (worth_threads(m, n, k))
  {
    omp_set_num_threads(1);  // OpenBLAS single-threaded in a team of one too (blocked_gemm)
    const int team = omp_get_num_threads();
    const int me = omp_get_thread_num();
    const int first_group = (team + 1) / 2;  // threads of the first half; the rest take the second
    for (int p = 0; p < 2; ++p) {
      const int group = team == 1 ? 1 : p == 0 ? first_group : team - first_group;
      const int rank = team == 1 ? 0 : p == 0 ? me : me - first_group;
      if (rank < 0 || rank >= group) continue;
      // This thread's contiguous share of the half's blocks.
      for (std::int64_t i = share_begin(blocks, rank, group); i < share_begin(blocks, rank + 1, group); ++i) block(p, i);
    }
#pragma omp barrier
    // C += scratch, this thread's parts of it.
    for (const GemmPart& part : halves_add_parts(m, n, team, adder)) {
      if (part.thread != me) continue;
      for (std::int64_t i = part.row; i < part.row + part.rows; ++i) {
        float* ci = c + i * ldc;
        const float* si = scratch + i * n;
        for (std::int64_t j = part.col; j < part.col + part.cols; ++j) ci[j] += si[j];
      }
    }
  }
}

std::vector<GemmPart> gemm_parts(GemmCut cut, std::int64_t m, std::int64_t n, std::int64_t k, int team, int adder) {
  const bool threaded = worth_threads(m, n, k);
  if (cut == GemmCut::kRows) return shared_parts(false, m, n, threaded, team);
  if (cut == GemmCut::kBatchHalves && batch_half(k) < k) return halves_add_parts(m, n, threaded ? team : 1, adder);
  return shared_parts(split_by_columns(m, n), m, n, threaded, team);
}

std::int64_t gemm_row_block(std::int64_t m) {
  const std::int64_t eighth = (m + 7) / 8;
  return std::max<std::int64_t>(64, (eighth + 15) / 16 * 16);
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
          std::int64_t ldc) {
  blocked_gemm(false, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double* c,
          std::int64_t ldc) {
  blocked_gemm(false, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
}

MatrixD multiply(const MatrixD& a, const MatrixD& b) {
  LLCB_CHECK(a.cols == b.rows, "matrix shapes do not match for multiplication");
  MatrixD c(a.rows, b.cols);
  gemm(false, false, a.rows, b.cols, a.cols, a.a.data(), a.cols, b.a.data(), b.cols, c.a.data(),
       c.cols);
  return c;
}

namespace {

// dgesdd on a row-major matrix, read as the column-major matrix of its transpose (same singular
// values). jobz 'N': values only; 'S': also the thin factors, where the transpose's V^T
// (min x rows, column-major) is, element for element, the row-major U of the matrix itself.
std::vector<double> gesdd(const MatrixD& m, char jobz, MatrixD* u) {
  hold_blas_to_openmp();  // LAPACK threads its products through OpenBLAS
  const int mm = static_cast<int>(m.cols);
  const int nn = static_cast<int>(m.rows);
  const int p = std::min(mm, nn);
  std::vector<double> a = m.a;  // dgesdd destroys its input
  std::vector<double> s(static_cast<std::size_t>(p));
  std::vector<int> iwork(8 * s.size());
  const bool vectors = jobz != 'N';
  std::vector<double> uu(vectors ? static_cast<std::size_t>(mm) * p : 0);
  if (vectors) *u = MatrixD(m.rows, p);
  const int lda = std::max(1, mm);
  const int ldu = vectors ? lda : 1;
  const int ldvt = vectors ? std::max(1, p) : 1;
  double* u_ptr = vectors ? uu.data() : nullptr;
  double* vt_ptr = vectors ? u->a.data() : nullptr;
  const char job[2] = {jobz, 0};
  int lwork = -1;
  int info = 0;
  double query = 0.0;
  dgesdd_(job, &mm, &nn, a.data(), &lda, s.data(), u_ptr, &ldu, vt_ptr, &ldvt, &query, &lwork,
          iwork.data(), &info, 1);
  LLCB_CHECK_STATUS(info, 0, describe_lapack_info, RuntimeError);
  lwork = static_cast<int>(query) + 1;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dgesdd_(job, &mm, &nn, a.data(), &lda, s.data(), u_ptr, &ldu, vt_ptr, &ldvt, work.data(),
          &lwork, iwork.data(), &info, 1);
  LLCB_CHECK_STATUS(info, 0, describe_lapack_info, RuntimeError);
  return s;
}

}  // namespace

std::vector<double> singular_values(const MatrixD& m) { return gesdd(m, 'N', nullptr); }

std::vector<double> singular_values(const MatrixD& m, MatrixD& u) { return gesdd(m, 'S', &u); }

std::int64_t rank_of(const std::vector<double>& s, std::int64_t rows, std::int64_t cols) {
  if (s.empty()) return 0;
  const double tol = s.front() * static_cast<double>(std::max(rows, cols)) * DBL_EPSILON;
  return std::count_if(s.begin(), s.end(), [tol](double v) { return v > tol; });
}

std::int64_t numerical_rank(const MatrixD& m) {
  if (m.rows == 0 || m.cols == 0) return 0;
  return rank_of(singular_values(m), m.rows, m.cols);
}

MatrixD transpose(const MatrixD& m) {
  MatrixD t(m.cols, m.rows);
  for (std::int64_t i = 0; i < m.rows; ++i) {
    for (std::int64_t j = 0; j < m.cols; ++j) t.at(j, i) = m.at(i, j);
  }
  return t;
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
