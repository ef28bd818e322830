// Numerical rank and chain products on matrices whose rank is known by construction.
#include <gtest/gtest.h>

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
