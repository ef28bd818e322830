// The local truth at a teacher: rank(J) by the partial-product formula against the numerical rank
// of the explicit Jacobian of mu(w) = W_M ... W_1, teacher modes, and the statuses of the cases
// measured in docs/truth.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/local_llc.hpp"
#include "lib/dln/problem.hpp"

namespace llcb::dln {
namespace {

using Layers = std::vector<MatrixD>;

// The product of layers [first, last) (widths[last] x widths[first]); the identity when empty.
MatrixD product(const Layers& w, const std::vector<std::int64_t>& widths, std::size_t first,
                std::size_t last) {
  MatrixD p(widths[first], widths[first]);
  for (std::int64_t i = 0; i < p.rows; ++i) p.at(i, i) = 1.0;
  for (std::size_t s = first; s < last; ++s) p = multiply(w[s], p);
  return p;
}

// The Jacobian of mu at the given layers: row (i, j) of mu (row-major), column (s, a, b) of the
// parameters; d mu_ij / d W_s[a][b] = After_s[i][a] * Before_s[b][j].
std::int64_t brute_force_jacobian_rank(const Layers& w, const std::vector<std::int64_t>& widths) {
  const std::size_t m = w.size();
  const std::int64_t out = widths[m], in = widths[0];
  std::int64_t d = 0;
  for (std::size_t s = 0; s < m; ++s) d += widths[s] * widths[s + 1];
  MatrixD j(out * in, d);
  std::int64_t col = 0;
  for (std::size_t s = 0; s < m; ++s) {
    const MatrixD after = product(w, widths, s + 1, m);
    const MatrixD before = product(w, widths, 0, s);
    for (std::int64_t a = 0; a < widths[s + 1]; ++a) {
      for (std::int64_t b = 0; b < widths[s]; ++b, ++col) {
        for (std::int64_t r = 0; r < out; ++r) {
          for (std::int64_t c = 0; c < in; ++c) j.at(r * in + c, col) = after.at(r, a) * before.at(b, c);
        }
      }
    }
  }
  return numerical_rank(j);
}

Layers layers_of(const Problem& p) {
  Layers w;
  for (std::size_t s = 0; s < p.cuts.size(); ++s) w.push_back(teacher_layer(p, s));
  return w;
}

// The numerical ranks of the explicit partial products, for comparison with the thin-factor passes.
PartialRanks explicit_partial_ranks(const Layers& w, const std::vector<std::int64_t>& widths) {
  PartialRanks r;
  const std::size_t m = w.size();
  for (std::size_t s = 0; s < m; ++s) {
    r.after.push_back(numerical_rank(product(w, widths, s + 1, m)));
    r.before.push_back(numerical_rank(product(w, widths, 0, s)));
  }
  return r;
}

// Checks one teacher: the formula on its numerical partial ranks equals the Jacobian's rank, and
// (for llcbench's own teachers) the numerical partial ranks are the generic ones.
void check_problem(const Problem& p, const std::string& what) {
  const Layers w = layers_of(p);
  ASSERT_TRUE(p.local.numerical_ranks) << what;
  ASSERT_EQ(p.local.jacobian_rank, brute_force_jacobian_rank(w, p.widths)) << what;
  const PartialRanks e = explicit_partial_ranks(w, p.widths);
  EXPECT_EQ(p.local.partial.after, e.after) << what;
  EXPECT_EQ(p.local.partial.before, e.before) << what;
  const PartialRanks g = generic_partial_ranks(p.widths, p.local.layer_ranks);
  EXPECT_EQ(p.local.partial.after, g.after) << what;
  EXPECT_EQ(p.local.partial.before, g.before) << what;
  EXPECT_EQ(p.local.lambda_smooth, Rational::of(p.local.jacobian_rank, 2)) << what;
  EXPECT_EQ(p.local.lambda_lower, std::max(p.truth.lambda, p.local.lambda_smooth)) << what;
}

TEST(LocalTruth, FormulaMatchesTheJacobianOnPaperTeachers) {
  int above = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const Problem p = draw_problem(model_class("tiny"), seed);
    check_problem(p, "tiny paper seed " + std::to_string(seed));
    above += p.local.status == TruthStatus::kAbove;
  }
  EXPECT_GT(above, 20);  // the published draw often leaves the minimal stratum
}

TEST(LocalTruth, FormulaMatchesTheJacobianOnMinimalTeachers) {
  for (std::uint64_t seed = 0; seed < 150; ++seed) {
    const Problem p = draw_problem(model_class("tiny"), seed, TeacherMode::kMinimal);
    check_problem(p, "tiny minimal seed " + std::to_string(seed));
    EXPECT_EQ(p.local.status, TruthStatus::kExact);
    EXPECT_LE(p.local.lambda_smooth, p.truth.lambda);  // the local LLC is Aoyagi's value there
    EXPECT_EQ(p.local.lambda_lower, p.truth.lambda);
  }
}

TEST(LocalTruth, FormulaMatchesTheJacobianOnArchitectureTeachers) {
  std::mt19937_64 g(20261202);
  for (int i = 0; i < 150; ++i) {
    const auto layers = std::uniform_int_distribution<std::int64_t>(1, 4)(g);
    std::vector<std::int64_t> widths;
    for (std::int64_t j = 0; j <= layers; ++j) widths.push_back(std::uniform_int_distribution<std::int64_t>(1, 9)(g));
    const std::int64_t hmin = *std::min_element(widths.begin(), widths.end());
    const std::int64_t rank = std::uniform_int_distribution<std::int64_t>(0, hmin)(g);
    for (const TeacherMode mode : {TeacherMode::kFirstLayer, TeacherMode::kMinimal}) {
      const Problem p = problem_from_architecture(widths, rank, static_cast<std::uint64_t>(i), 1000, mode);
      check_problem(p, "widths " + std::to_string(i) + " " + to_string(mode));
    }
  }
}

// Teachers that are not in general position: random low-rank layers, some with aligned null
// spaces, so partial products lose rank beyond their factors' ranks. The formula holds for any
// teacher when it is given the numerical partial ranks. Every third teacher lines up exactly zero
// rows and columns (which the passes drop before any SVD); every third other one is dense: a layer
// annihilates part of the previous layer's column space, W_s = Z (I - P) with P the projector
// onto a random part of col(W_{s-1}), so the thin factors' singular vectors decide the ranks.
TEST(LocalTruth, FormulaMatchesTheJacobianOnArbitraryLowRankTeachers) {
  std::mt19937_64 g(7);
  std::normal_distribution<double> normal;
  int degenerate = 0, dense = 0;
  for (int i = 0; i < 150; ++i) {
    const auto m = static_cast<std::size_t>(std::uniform_int_distribution<int>(1, 4)(g));
    std::vector<std::int64_t> widths;
    for (std::size_t j = 0; j <= m; ++j) widths.push_back(std::uniform_int_distribution<std::int64_t>(1, 7)(g));
    Layers w;
    bool annihilated = false;
    for (std::size_t s = 0; s < m; ++s) {
      const std::int64_t rows = widths[s + 1], cols = widths[s];
      const std::int64_t k = std::uniform_int_distribution<std::int64_t>(0, std::min(rows, cols))(g);
      MatrixD x(rows, k), y(k, cols);
      for (auto& v : x.a) v = normal(g);
      for (auto& v : y.a) v = normal(g);
      MatrixD layer = k > 0 ? multiply(x, y) : MatrixD(rows, cols);
      // Every third teacher: this layer reads only the last input coordinate, which the previous
      // layer never writes (its last output row is zero): the product drops rank.
      if (i % 3 == 0 && s > 0 && cols > 1) {
        for (std::int64_t r = 0; r < rows; ++r) {
          for (std::int64_t c = 0; c + 1 < cols; ++c) layer.at(r, c) = 0.0;
        }
        for (std::int64_t c = 0; c < w[s - 1].cols; ++c) w[s - 1].at(cols - 1, c) = 0.0;
      } else if (i % 3 == 1 && s > 0 && !annihilated) {
        // q: a random vector in the column space of the product so far; W_s = Z (I - q q^T / |q|^2)
        // loses exactly that direction of it. Only where that product has rank >= 2, so that no
        // product becomes zero in exact arithmetic (it would be roundoff in floating point, whose
        // rank relative to itself means nothing).
        const MatrixD before = product(w, widths, 0, s);
        if (numerical_rank(before) >= 2) {
          std::vector<double> q(static_cast<std::size_t>(cols), 0.0);
          for (std::int64_t c = 0; c < before.cols; ++c) {
            const double coef = normal(g);
            for (std::int64_t r = 0; r < cols; ++r) q[static_cast<std::size_t>(r)] += coef * before.at(r, c);
          }
          double norm = 0;
          for (const double v : q) norm += v * v;
          MatrixD proj(cols, cols);
          for (std::int64_t a = 0; a < cols; ++a) {
            for (std::int64_t b = 0; b < cols; ++b) {
              proj.at(a, b) = (a == b ? 1.0 : 0.0) - q[static_cast<std::size_t>(a)] * q[static_cast<std::size_t>(b)] / norm;
            }
          }
          layer = multiply(layer, proj);
          annihilated = true;
          ++dense;
        }
      }
      w.push_back(layer);
    }
    const PartialRanks numeric = numerical_partial_ranks(widths, [&](std::size_t s) { return w[s]; });
    const PartialRanks explicit_ranks = explicit_partial_ranks(w, widths);
    ASSERT_EQ(numeric.after, explicit_ranks.after) << "teacher " << i;
    ASSERT_EQ(numeric.before, explicit_ranks.before) << "teacher " << i;
    std::vector<std::int64_t> layer_ranks;
    for (const auto& l : w) layer_ranks.push_back(numerical_rank(l));
    const PartialRanks generic = generic_partial_ranks(widths, layer_ranks);
    degenerate += numeric.before != generic.before || numeric.after != generic.after;
    ASSERT_EQ(jacobian_rank(widths, numeric), brute_force_jacobian_rank(w, widths)) << "teacher " << i;
  }
  EXPECT_GT(degenerate, 10);  // the aligned null spaces did leave general position
  EXPECT_GT(dense, 20);       // and many of them without a single exact zero
}

TEST(LocalTruth, MinimalTeachersHaveEveryLayerAtTheProductRank) {
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    const Problem paper = draw_problem(model_class("1K"), seed);
    const Problem p = draw_problem(model_class("1K"), seed, TeacherMode::kMinimal);
    EXPECT_EQ(p.widths, paper.widths);
    EXPECT_EQ(p.rank, paper.rank);
    EXPECT_EQ(p.truth.lambda, paper.truth.lambda);
    for (std::size_t s = 0; s < p.cuts.size(); ++s) {
      ASSERT_EQ(numerical_rank(teacher_layer(p, s)), p.rank) << "seed " << seed << " layer " << s;
      // A layer already at rank r keeps its entries; the others keep their leading block (the
      // first r rows or columns, by the same orientation rule as the paper cuts).
      const MatrixD mine = teacher_layer(p, s), theirs = teacher_layer(paper, s);
      if (paper.layer_rank(s) == p.rank) EXPECT_EQ(mine.a, theirs.a);
      const bool rows = p.widths[s + 1] <= p.widths[s];
      for (std::int64_t i = 0; i < mine.rows; ++i) {
        for (std::int64_t j = 0; j < mine.cols; ++j) {
          if ((rows ? i : j) < p.rank) ASSERT_EQ(mine.at(i, j), theirs.at(i, j)) << "seed " << seed;
        }
      }
    }
  }
}

TEST(LocalTruth, PaperModeDrawsAreUnchangedAndTheirLocalTruthIsPinned) {
  // The same pins as Problem.SeedRecipeIsPinned, through the explicit teacher argument, and the
  // local truth docs/problems.md prints for this problem.
  const Problem q = draw_problem(model_class("100K"), 11, TeacherMode::kPaper);
  EXPECT_EQ(q.local.layer_ranks, (std::vector<std::int64_t>{2, 69, 18, 6, 290}));
  EXPECT_EQ(q.rank, 2);
  EXPECT_EQ(q.local.jacobian_rank, 2446);
  EXPECT_EQ(q.local.status, TruthStatus::kGlobal);
  EXPECT_EQ(q.local.lambda_lower, 4885);
}

struct Case {
  std::vector<std::int64_t> widths;
  std::int64_t rank;
  TeacherMode mode;
  std::vector<std::int64_t> layer_ranks;
  Rational aoyagi, smooth;
  TruthStatus status;
};

TEST(LocalTruth, MeasuredCasesHaveTheirStatus) {
  // The cases of docs/truth.md: rank(J)/2 computed by hand from the layer ranks.
  const Case cases[] = {
      {{10, 8, 10}, 1, TeacherMode::kFirstLayer, {1, 8}, 35, 41, TruthStatus::kAbove},
      {{10, 8, 10}, 1, TeacherMode::kMinimal, {1, 1}, 35, Rational::of(19, 2), TruthStatus::kExact},
      {{9, 6, 4, 6, 9}, 1, TeacherMode::kFirstLayer, {1, 4, 4, 6}, 15, Rational::of(41, 2), TruthStatus::kAbove},
      {{5, 4}, 4, TeacherMode::kFirstLayer, {4}, 10, 10, TruthStatus::kExact},        // one layer: d/2
      {{5, 3, 5}, 3, TeacherMode::kFirstLayer, {3, 3}, Rational::of(21, 2), Rational::of(21, 2), TruthStatus::kExact},
      // Aoyagi 9/2 in both directions; W_1 = 0 leaves rank(J) = 3 * 3, W_2 = 0 leaves 3 * 10.
      {{3, 3, 10}, 0, TeacherMode::kFirstLayer, {0, 3}, Rational::of(9, 2), Rational::of(9, 2), TruthStatus::kGlobal},
      {{10, 3, 3}, 0, TeacherMode::kFirstLayer, {0, 3}, Rational::of(9, 2), 15, TruthStatus::kAbove},
  };
  for (const Case& c : cases) {
    const Problem p = problem_from_architecture(c.widths, c.rank, 1, 100'000, c.mode);
    const std::string what = join_ints(c.widths) + " r" + std::to_string(c.rank) + " " + to_string(c.mode);
    EXPECT_EQ(p.local.layer_ranks, c.layer_ranks) << what;
    EXPECT_EQ(p.truth.lambda, c.aoyagi) << what;
    EXPECT_EQ(p.local.lambda_smooth, c.smooth) << what;
    EXPECT_EQ(p.local.status, c.status) << what;
    EXPECT_EQ(p.local.lambda_lower, std::max(c.aoyagi, c.smooth)) << what;
  }
}

TEST(LocalTruth, GlobalStatusWhenTheSmoothBoundIsBelowAoyagi) {
  // tiny seed 6: widths 4,12,11,3, product rank 1, not minimal; rank(J) = 10, Aoyagi's value 6.
  const Problem p = draw_problem(model_class("tiny"), 6);
  EXPECT_EQ(p.widths, (std::vector<std::int64_t>{4, 12, 11, 3}));
  EXPECT_EQ(p.local.lambda_smooth, 5);
  EXPECT_EQ(p.truth.lambda, 6);
  EXPECT_EQ(p.local.status, TruthStatus::kGlobal);
  EXPECT_EQ(p.local.lambda_lower, p.truth.lambda);
}

TEST(LocalTruth, NetworksWiderThanTheLimitTakeTheirPartialRanksFromGeneralPosition) {
  const Problem wide = problem_from_architecture({kNumericalRankWidth + 1, 3, 2}, 1, 1, 1000);
  EXPECT_FALSE(wide.local.numerical_ranks);
  const PartialRanks numeric =
      numerical_partial_ranks(wide.widths, [&](std::size_t s) { return teacher_layer(wide, s); });
  EXPECT_EQ(wide.local.partial.after, numeric.after);  // the same ranks, found without SVDs
  EXPECT_EQ(wide.local.partial.before, numeric.before);
  EXPECT_TRUE(problem_from_architecture({kNumericalRankWidth, 3, 2}, 1, 1, 1000).local.numerical_ranks);
}

TEST(LocalTruth, TeacherModesOutsideTheirProblemKindAreUsageErrors) {
  EXPECT_THROW(draw_problem(model_class("tiny"), 1, TeacherMode::kFirstLayer), UsageError);
  EXPECT_THROW(problem_from_architecture({4, 3, 4}, 1, 1, 1000, TeacherMode::kPaper), UsageError);
  EXPECT_THROW(parse_teacher_mode("smallest", "--teacher"), UsageError);
  EXPECT_EQ(parse_teacher_mode("minimal", "--teacher"), TeacherMode::kMinimal);
  EXPECT_EQ(parse_teacher_mode("first-layer", "--teacher"), TeacherMode::kFirstLayer);
}

}  // namespace
}  // namespace llcb::dln
