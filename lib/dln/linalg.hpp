// Dense linear algebra on the host (BLAS + LAPACK): products of teacher layers and the numerical
// rank of their product for problem generation, and the thread-count-independent GEMM that they
// and the CPU backend use.
//
// Numerical rank (benchmark.md section 1, step 4): the number of singular values above
//   tol = sigma_max * max(rows, cols) * DBL_EPSILON
// (the convention of numpy.linalg.matrix_rank and torch.linalg.matrix_rank), computed from the
// singular values of LAPACK's dgesdd in double. The zero matrix has rank 0.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "lib/core/shares.hpp"

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

// OpenBLAS's threads. Its OpenMP build runs a threaded product on as many OpenMP threads as it
// counts and waits for all of them; where OpenMP gives fewer (OMP_THREAD_LIMIT,
// OMP_MAX_ACTIVE_LEVELS=0, teams sized by OMP_DYNAMIC) it waits forever. Which count it uses
// depends on its version: its own (openblas_set_num_threads) up to 0.3.23, OpenMP's
// (omp_get_max_threads) from 0.3.24. set_blas_threads(want) sets both to want, held to what
// OpenMP allows; hold_blas_to_openmp() holds both as they are to it and turns dynamic teams off,
// without raising either (llcbench's main calls it first, and the double-precision products and
// SVDs, which OpenBLAS threads itself, call it before they run).
// openmp_team(want): want threads, held to the most an OpenMP team of this process can have (its
// thread limit; one where OMP_MAX_ACTIVE_LEVELS=0 makes every team a single thread).
int openmp_team(int want);
void set_blas_threads(int want);
void hold_blas_to_openmp();

// C = op(A) op(B) for row-major operands (op = transpose when the flag is set; C is m x n, the
// inner dimension k), through OpenBLAS, with a result that depends on the shapes and operands
// only, never on the thread count. OpenBLAS's own threaded GEMM does not promise that (with the
// Haswell kernels, 1 and 2 threads round differently), so C is cut into row blocks whose size is
// a function of m alone (about eight blocks of at least 64 rows, a multiple of 16), each block is
// one single-threaded BLAS call, and the blocks are spread over the caller's OpenMP threads (run
// in the calling thread when m n k < 2^20, where a parallel region costs more than it saves).
// Requires the OpenMP build of OpenBLAS (it takes its thread count from the calling OpenMP task).
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
          std::int64_t ldc);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double* c,
          std::int64_t ldc);

// Rows of C in each block of gemm() above.
std::int64_t gemm_row_block(std::int64_t m);

// gemm() above, except that a product of one row block (m <= 64) whose C has several column
// blocks is cut into blocks of gemm_row_block(n) columns instead, so that the r-row products of a
// step through a narrow width (lib/backend/cut_pass.hpp) spread over the threads too. The result
// still depends on the shapes and operands only; it is another split than gemm()'s, so possibly
// other bits: only data paths made with it use it (the narrowest-width gradient on the CPU).
void gemm_rows_or_columns(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                          std::int64_t ldc);

// C = A^T B summed over the k rows of A (k x m) and B (k x n), row-major, in two halves: rows
// [0, h) and [h, k) with h = batch_half(k). Each half is a product of its own, cut as
// gemm_rows_or_columns() cuts it (each block one single-threaded BLAS call); the first half goes
// into C, the second into `scratch` (m x n, contiguous), and then C += scratch, element by
// element. The threads split into two groups, one a half (the first takes the extra thread of
// an odd count; one thread does both halves in turn), so that with the rows of the batch split
// the same way in the products before, each thread sums rows it computed itself. The addition
// runs in gemm()'s row blocks of C spread over the team, or, given a thread of the team as
// `adder`, all in that thread (the one that reads C next). Neither changes a bit. The result
// depends on the shapes and operands only. When k has one row block (h >= k) it is the single
// product gemm_rows_or_columns(true, false, ...) and scratch is not touched.
void gemm_batch_halves(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                       const float* b, std::int64_t ldb, float* c, std::int64_t ldc, float* scratch,
                       int adder = -1);

// The first row of the second half of a sum over k rows: the boundary of gemm()'s row blocks of
// k (gemm_row_block(k)) at the middle block, rounded up: 256 for k = 500. k or more when k has a
// single row block.
std::int64_t batch_half(std::int64_t k);

// The functions above spread their blocks over the threads in contiguous shares
// (lib/core/shares.hpp). gemm_parts() says where gemm() (kRows), gemm_rows_or_columns()
// (kRowsOrColumns) and gemm_batch_halves() (kBatchHalves: k the rows summed, adder as given to
// it) write C = op(A) op(B) (m x n, inner dimension k) on a team of `team` threads: each part a
// rectangle of C, rows [row, row + rows) and columns [col, col + cols), and the team member that
// writes it last (0 where the product runs in the calling thread). Like the split itself, it
// follows from the shapes alone, so a caller can plan to read each part in the thread that wrote
// it: the CPU backend's update pass follows its gradient's parts
// (lib/backend/cpu/chunk_owners.hpp).
enum class GemmCut { kRows, kRowsOrColumns, kBatchHalves };
struct GemmPart {
  std::int64_t row, rows, col, cols;
  int thread;
};
std::vector<GemmPart> gemm_parts(GemmCut cut, std::int64_t m, std::int64_t n, std::int64_t k, int team,
                                 int adder = -1);

// a * b (requires a.cols == b.rows), through gemm().
MatrixD multiply(const MatrixD& a, const MatrixD& b);

// Singular values, descending. Throws RuntimeError if LAPACK fails to converge.
std::vector<double> singular_values(const MatrixD& m);

std::int64_t numerical_rank(const MatrixD& m);

// Thin SVD m = U diag(s) V^T: returns s (descending) and sets u to U (rows x min(rows, cols)).
// Throws RuntimeError if LAPACK fails to converge.
std::vector<double> singular_values(const MatrixD& m, MatrixD& u);

// The number of singular values above sigma_max * max(rows, cols) * DBL_EPSILON, for singular
// values s (descending) of a rows x cols matrix: numerical_rank() from given singular values.
std::int64_t rank_of(const std::vector<double>& s, std::int64_t rows, std::int64_t cols);

MatrixD transpose(const MatrixD& m);

// The product W_{M-1} ... W_0 of the layers produced by layer(s) (shape widths[s+1] x widths[s]),
// multiplied in the cheapest order (matrix-chain dynamic programme over the widths); layers are
// produced when needed and released after use, so at most a few are held at once.
MatrixD chain_product(const std::vector<std::int64_t>& widths,
                      const std::function<MatrixD(std::size_t)>& layer);

}  // namespace llcb::dln
