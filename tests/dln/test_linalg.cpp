// Numerical rank and chain products on matrices whose rank is known by construction.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "lib/core/random.hpp"
#include "lib/dln/linalg.hpp"

namespace llcb::dln {
namespace {

MatrixD gaussian(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  MatrixD m(rows, cols);
  for (std::size_t e = 0; e < m.a.size(); ++e) {
    m.a[e] = normal2d(draw_block(seed, Stream::kTeacher, e)).z0;
  }
  return m;
}

TEST(Linalg, MultiplyMatchesHandComputation) {
  MatrixD a(2, 3), b(3, 2);
  a.a = {1, 2, 3, 4, 5, 6};
  b.a = {7, 8, 9, 10, 11, 12};
  const MatrixD c = multiply(a, b);
  EXPECT_EQ(c.a, (std::vector<double>{58, 64, 139, 154}));
}

// C = op(A) op(B) with every transpose combination, against a plain double loop (to fp32 rounding
// of a sum of at most 300 terms: well under 1e-5 of the sum of magnitudes), and bit for bit across 1, 2 and 3 OpenMP threads
// (the OpenMP build of OpenBLAS with the Haswell kernels rounds differently for 1 and 2 threads
// when called directly; these shapes are where that was seen).
using GemmF = void (*)(bool, bool, std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t,
                       const float*, std::int64_t, float*, std::int64_t);
void check_gemm(std::int64_t m, std::int64_t n, std::int64_t k, GemmF f = gemm) {
  std::vector<float> a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(k * n));
  for (std::size_t e = 0; e < a.size(); ++e) a[e] = static_cast<float>(normal2d(draw_block(1, Stream::kTeacher, e)).z0);
  for (std::size_t e = 0; e < b.size(); ++e) b[e] = static_cast<float>(normal2d(draw_block(2, Stream::kTeacher, e)).z0);
  const int saved = omp_get_max_threads();
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const std::int64_t lda = ta ? m : k, ldb = tb ? k : n;
      const auto at = [&](std::int64_t i, std::int64_t p) { return ta ? a[p * lda + i] : a[i * lda + p]; };
      const auto bt = [&](std::int64_t p, std::int64_t j) { return tb ? b[j * ldb + p] : b[p * ldb + j]; };
      std::vector<std::vector<float>> c;
      for (int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        c.emplace_back(static_cast<std::size_t>(m * n));
        f(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.back().data(), n);
      }
      EXPECT_EQ(c[0], c[1]) << "trans " << ta << tb << " shape " << m << "x" << n << "x" << k;
      EXPECT_EQ(c[0], c[2]) << "trans " << ta << tb << " shape " << m << "x" << n << "x" << k;
      double worst = 0;
      for (std::int64_t i = 0; i < m; i += 7) {
        for (std::int64_t j = 0; j < n; j += 3) {
          double ref = 0, mag = 0;
          for (std::int64_t p = 0; p < k; ++p) {
            ref += static_cast<double>(at(i, p)) * bt(p, j);
            mag += std::abs(static_cast<double>(at(i, p)) * bt(p, j));
          }
          worst = std::max(worst, std::abs(c[0][static_cast<std::size_t>(i * n + j)] - ref) / mag);
        }
      }
      EXPECT_LT(worst, 1e-5) << "trans " << ta << tb << " shape " << m << "x" << n << "x" << k;
    }
  }
  omp_set_num_threads(saved);
}

// Above 2^20 multiply-adds the row blocks run on several threads, below in the calling thread.
TEST(Linalg, GemmIsCorrectAndIndependentOfTheThreadCount) {
  check_gemm(500, 200, 300);
  check_gemm(200, 40, 60);
}

// The narrowest-width path's GEMMs: a product of few rows in column blocks (50 x 391 x 500, the
// sums T of a 100K step, over several threads; 50 x 140 x 60 below the threshold, in the calling
// thread), and products of many rows in row blocks as gemm().
TEST(Linalg, GemmByRowsOrColumnsIsCorrectAndIndependentOfTheThreadCount) {
  check_gemm(50, 391, 500, gemm_rows_or_columns);
  check_gemm(50, 140, 60, gemm_rows_or_columns);
  check_gemm(37, 64, 300, gemm_rows_or_columns);
  check_gemm(500, 50, 391, gemm_rows_or_columns);
}

// Sums over the batch in halves (chain.batch_sums = halves): C = A^T B over k rows is the first
// half's product plus the second's, each cut as gemm_rows_or_columns cuts it, bit for bit
// (the contract), whatever the thread count (1 to 4: one thread doing both halves, one a half,
// an odd team) and whichever threads add the halves; and the correct product to fp32 rounding. Shapes: the two sums of a 100K step
// (448 x 50 and 50 x 391 over 500 rows: row and column blocks, on several threads), one below
// the parallel threshold (in the calling thread), and k = 65 (halves of 64 rows and 1, on
// several threads).
TEST(Linalg, GemmInBatchHalvesIsTheSumOfTheHalvesWhateverTheThreadCount) {
  const int saved = omp_get_max_threads();
  for (const auto& [m, n, k] : std::vector<std::array<std::int64_t, 3>>{{448, 50, 500}, {50, 391, 500}, {30, 20, 150}, {300, 70, 65}}) {
    const std::int64_t h = batch_half(k);
    ASSERT_LT(h, k);
    std::vector<float> a(static_cast<std::size_t>(k * m)), b(static_cast<std::size_t>(k * n));
    for (std::size_t e = 0; e < a.size(); ++e) a[e] = static_cast<float>(normal2d(draw_block(3, Stream::kTeacher, e)).z0);
    for (std::size_t e = 0; e < b.size(); ++e) b[e] = static_cast<float>(normal2d(draw_block(4, Stream::kTeacher, e)).z0);
    const auto size = static_cast<std::size_t>(m * n);
    std::vector<float> first(size), second(size), want(size);
    omp_set_num_threads(1);
    gemm_rows_or_columns(true, false, m, n, h, a.data(), m, b.data(), n, first.data(), n);
    gemm_rows_or_columns(true, false, m, n, k - h, a.data() + h * m, m, b.data() + h * n, n, second.data(), n);
    for (std::size_t e = 0; e < size; ++e) want[e] = first[e] + second[e];
    for (int threads : {1, 2, 3, 4}) {
      omp_set_num_threads(threads);
      for (int adder : {-1, 0, threads - 1}) {  // the halves added by all threads, or by one
        std::vector<float> c(size), scratch(size);
        gemm_batch_halves(m, n, k, a.data(), m, b.data(), n, c.data(), n, scratch.data(), adder);
        EXPECT_EQ(c, want) << threads << " threads, adder " << adder << ", shape " << m << "x" << n << "x" << k;
      }
    }
    // Against a double loop: a sum of k terms in fp32, well under 1e-5 of the sum of magnitudes.
    double worst = 0;
    for (std::int64_t i = 0; i < m; i += 5) {
      for (std::int64_t j = 0; j < n; j += 3) {
        double ref = 0, mag = 0;
        for (std::int64_t p = 0; p < k; ++p) {
          const double t = static_cast<double>(a[static_cast<std::size_t>(p * m + i)]) * b[static_cast<std::size_t>(p * n + j)];
          ref += t;
          mag += std::abs(t);
        }
        worst = std::max(worst, std::abs(want[static_cast<std::size_t>(i * n + j)] - ref) / mag);
      }
    }
    EXPECT_LT(worst, 1e-5) << "shape " << m << "x" << n << "x" << k;
  }
  // A batch of one row block is one product: the halves are the whole sum, scratch untouched.
  omp_set_num_threads(2);
  std::vector<float> a(64 * 3, 0.5f), b(64 * 2, 0.25f), c(6), whole(6), scratch(6, -1.0f);
  gemm_batch_halves(3, 2, 64, a.data(), 3, b.data(), 2, c.data(), 2, scratch.data());
  gemm_rows_or_columns(true, false, 3, 2, 64, a.data(), 3, b.data(), 2, whole.data(), 2);
  EXPECT_EQ(c, whole);
  EXPECT_EQ(scratch, std::vector<float>(6, -1.0f));
  omp_set_num_threads(saved);
}

TEST(Linalg, BatchHalvesSplitAtTheMiddleRowBlock) {
  EXPECT_EQ(batch_half(500), 256);   // 8 blocks of 64
  EXPECT_EQ(batch_half(1000), 512);  // 8 of 128
  EXPECT_EQ(batch_half(150), 128);   // 3 of 64: the middle one goes to the first half
  EXPECT_EQ(batch_half(65), 64);
  EXPECT_GE(batch_half(64), 64);     // one block: no second half
  EXPECT_GE(batch_half(7), 7);
}

// gemm_parts: where each product writes C on a team. The parts tile C (every element in exactly
// one); each thread's parts are one contiguous run of blocks, the threads' runs in thread order
// and within one block of each other in size (the shares the products run in); a product below
// the parallel threshold is all thread 0's. Shapes: rows (500 x 448), columns (50 x 391), the
// sums over the batch in halves (448 x 50 and 50 x 391 over 500 rows: the C += scratch pass, in
// row blocks, or all by one thread given as the adder), a single-block batch (k = 64: one
// product) and one below the threshold.
TEST(Linalg, GemmPartsTileTheProductInTheThreadsShares) {
  struct Case {
    GemmCut cut;
    std::int64_t m, n, k;
    bool threaded;
  };
  for (const Case& c : std::vector<Case>{{GemmCut::kRows, 500, 448, 50, true},
                                         {GemmCut::kRowsOrColumns, 50, 391, 500, true},
                                         {GemmCut::kRowsOrColumns, 500, 448, 50, true},
                                         {GemmCut::kBatchHalves, 448, 50, 500, true},
                                         {GemmCut::kBatchHalves, 50, 391, 500, true},
                                         {GemmCut::kBatchHalves, 448, 50, 64, true},
                                         {GemmCut::kRows, 200, 40, 60, false}}) {
    for (int team : {1, 2, 3, 4}) {
      const auto shape = ::testing::Message() << "cut " << static_cast<int>(c.cut) << " " << c.m << "x" << c.n
                                              << "x" << c.k << " on " << team;
      const std::vector<GemmPart> parts = gemm_parts(c.cut, c.m, c.n, c.k, team);
      std::vector<int> cover(static_cast<std::size_t>(c.m * c.n), 0);
      std::vector<std::int64_t> blocks(static_cast<std::size_t>(team), 0);
      int last = 0;
      for (const GemmPart& p : parts) {
        ASSERT_GE(p.thread, last) << shape;  // in thread order: one run of blocks a thread
        last = p.thread;
        ASSERT_LT(p.thread, c.threaded ? team : 1) << shape;
        ++blocks[static_cast<std::size_t>(p.thread)];
        for (std::int64_t i = p.row; i < p.row + p.rows; ++i) {
          for (std::int64_t j = p.col; j < p.col + p.cols; ++j) ++cover[static_cast<std::size_t>(i * c.n + j)];
        }
      }
      EXPECT_TRUE(std::all_of(cover.begin(), cover.end(), [](int v) { return v == 1; })) << shape;
      if (c.threaded) {
        const auto [fewest, most] = std::minmax_element(blocks.begin(), blocks.end());
        EXPECT_LE(*most - *fewest, 1) << shape;
      }
    }
  }
  // Sums in halves added by one thread: that thread writes all of C last.
  for (int adder : {0, 1}) {
    const std::vector<GemmPart> parts = gemm_parts(GemmCut::kBatchHalves, 448, 50, 500, 2, adder);
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].thread, adder);
    EXPECT_EQ(parts[0].rows * parts[0].cols, 448 * 50);
  }
  // The shares themselves: contiguous, in order, covering every item.
  EXPECT_EQ(share_begin(7, 0, 2), 0);
  EXPECT_EQ(share_begin(7, 1, 2), 3);
  EXPECT_EQ(share_begin(7, 2, 2), 7);
  EXPECT_EQ(share_begin(8, 1, 3), 2);
  EXPECT_EQ(share_begin(8, 2, 3), 5);
}

TEST(Linalg, GemmRowBlocksDependOnTheRowCountOnly) {
  EXPECT_EQ(gemm_row_block(1), 64);
  EXPECT_EQ(gemm_row_block(500), 64);
  EXPECT_EQ(gemm_row_block(1000), 128);
  EXPECT_EQ(gemm_row_block(3000), 384);
  EXPECT_EQ(gemm_row_block(3000) % 16, 0);
}

TEST(Linalg, SingularValuesOfADiagonalMatrix) {
  MatrixD m(3, 4);
  m.at(0, 0) = 2;
  m.at(1, 1) = -5;
  m.at(2, 2) = 0.5;
  const auto s = singular_values(m);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], 5, 1e-14);
  EXPECT_NEAR(s[1], 2, 1e-14);
  EXPECT_NEAR(s[2], 0.5, 1e-14);
}

TEST(Linalg, ThinSvdGivesOrthonormalLeftVectorsOfTallAndWideMatrices) {
  for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{9, 4}, {4, 9}, {6, 6}}) {
    const MatrixD m = gaussian(rows, cols, 11);
    MatrixD u;
    const std::vector<double> s = singular_values(m, u);
    const std::vector<double> values_only = singular_values(m);
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_NEAR(s[i], values_only[i], 1e-12 * s[0]);
    const std::int64_t p = std::min(rows, cols);
    ASSERT_EQ(u.rows, rows);
    ASSERT_EQ(u.cols, p);
    const MatrixD utu = multiply(transpose(u), u);
    const MatrixD mtu = multiply(transpose(m), u);  // column j is m^T u_j = s_j v_j
    for (std::int64_t i = 0; i < p; ++i) {
      double norm2 = 0;
      for (std::int64_t j = 0; j < p; ++j) EXPECT_NEAR(utu.at(i, j), i == j ? 1.0 : 0.0, 1e-12);
      for (std::int64_t r = 0; r < cols; ++r) norm2 += mtu.at(r, i) * mtu.at(r, i);
      EXPECT_NEAR(std::sqrt(norm2), s[static_cast<std::size_t>(i)], 1e-12) << rows << "x" << cols;
    }
  }
}

TEST(Linalg, RankOfCountsAboveTheShapesToleranceAndTransposeSwapsIndices) {
  // tol = sigma_max * max(rows, cols) * DBL_EPSILON = 2 * 10 * 2.2e-16 = 4.4e-15.
  EXPECT_EQ(rank_of({2.0, 1e-14, 4e-15}, 10, 3), 2);
  EXPECT_EQ(rank_of({2.0, 1e-14, 4e-15}, 100, 3), 1);  // the tolerance grows with the shape
  EXPECT_EQ(rank_of({}, 0, 0), 0);
  MatrixD m(2, 3);
  m.a = {1, 2, 3, 4, 5, 6};
  const MatrixD t = transpose(m);
  EXPECT_EQ(t.rows, 3);
  EXPECT_EQ(t.a, (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST(Linalg, RankOfProductsOfKnownInnerDimension) {
  // B (n x k) * C (k x m) with Gaussian entries has rank min(k, n, m) almost surely.
  for (std::int64_t k : {0, 1, 3, 7, 12}) {
    for (auto [n, m] : {std::pair<std::int64_t, std::int64_t>{12, 12}, {20, 9}, {8, 30}}) {
      MatrixD p = k == 0 ? MatrixD(n, m)
                         : multiply(gaussian(n, k, 10 + static_cast<std::uint64_t>(k)),
                                    gaussian(k, m, 20 + static_cast<std::uint64_t>(k)));
      EXPECT_EQ(numerical_rank(p), std::min({k, n, m})) << n << "x" << m << " inner " << k;
    }
  }
}

TEST(Linalg, RankCountsSmallButSignificantDirectionsAndIgnoresRoundoff) {
  MatrixD m(4, 4);
  m.at(0, 0) = 1;
  m.at(1, 1) = 1e-6;    // far above tol = 1 * 4 * 2.2e-16
  m.at(2, 2) = 1e-17;   // below tol: numerically zero
  EXPECT_EQ(numerical_rank(m), 2);
  EXPECT_EQ(numerical_rank(MatrixD(5, 3)), 0);
  MatrixD identity(6, 6);
  for (int i = 0; i < 6; ++i) identity.at(i, i) = 1;
  EXPECT_EQ(numerical_rank(identity), 6);
}

TEST(Linalg, ChainProductEqualsLeftToRightProductInAnyOrder) {
  const std::vector<std::int64_t> widths{7, 3, 9, 2, 8, 5};
  std::vector<MatrixD> layers;
  for (std::size_t s = 0; s + 1 < widths.size(); ++s) {
    layers.push_back(gaussian(widths[s + 1], widths[s], 100 + s));
  }
  int produced = 0;
  const MatrixD p = chain_product(widths, [&](std::size_t s) {
    ++produced;
    return layers[s];
  });
  MatrixD q = layers[0];
  for (std::size_t s = 1; s < layers.size(); ++s) q = multiply(layers[s], q);
  EXPECT_EQ(produced, 5);  // each layer generated once
  ASSERT_EQ(p.rows, 5);
  ASSERT_EQ(p.cols, 7);
  for (std::size_t e = 0; e < p.a.size(); ++e) EXPECT_NEAR(p.a[e], q.a[e], 1e-10);
  EXPECT_EQ(numerical_rank(p), 2);  // the width-2 bottleneck
}

}  // namespace
}  // namespace llcb::dln
