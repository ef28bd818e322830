// The analytic gradient of the DLN loss (fp32, OpenBLAS) against central finite differences of
// the loss evaluated in double by an independent, loop-based implementation, at several depths.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "lib/backend/cpu/dln_model.hpp"
#include "lib/backend/cut_pass.hpp"
#include "lib/backend/gradient_plan.hpp"
#include "lib/core/error.hpp"
#include "lib/core/random.hpp"
#include "lib/dln/model_class.hpp"
#include "lib/dln/linalg.hpp"
#include "lib/dln/problem.hpp"

namespace llcb::backend::cpu {
namespace {

// Loss in double: mean over batch and outputs of (W_M..W_1 x - y)^2, y = P x.
double loss_double(const std::vector<std::int64_t>& h, const std::vector<double>& w,
                   const std::vector<double>& x, const std::vector<double>& y, std::int64_t b) {
  double total = 0;
  std::size_t off_x = 0;
  for (std::int64_t r = 0; r < b; ++r) {
    std::vector<double> a(x.begin() + static_cast<std::ptrdiff_t>(off_x),
                          x.begin() + static_cast<std::ptrdiff_t>(off_x + static_cast<std::size_t>(h[0])));
    off_x += static_cast<std::size_t>(h[0]);
    std::size_t off = 0;
    for (std::size_t s = 0; s + 1 < h.size(); ++s) {
      std::vector<double> next(static_cast<std::size_t>(h[s + 1]), 0.0);
      for (std::int64_t i = 0; i < h[s + 1]; ++i)
        for (std::int64_t j = 0; j < h[s]; ++j)
          next[static_cast<std::size_t>(i)] += w[off + static_cast<std::size_t>(i * h[s] + j)] * a[static_cast<std::size_t>(j)];
      off += static_cast<std::size_t>(h[s] * h[s + 1]);
      a = next;
    }
    for (std::int64_t k = 0; k < h.back(); ++k) {
      const double diff = a[static_cast<std::size_t>(k)] - y[static_cast<std::size_t>(r * h.back() + k)];
      total += diff * diff;
    }
  }
  return total / static_cast<double>(b * h.back());
}

// cut: -1 layer by layer, else the width index the step goes through (gradient_plan.hpp).
// halves: the sums over the batch in two halves (chain.batch_sums = halves), on a batch of 150
// (halves of 128 and 22 rows); else a batch of 7, which has one half only.
void check_gradient(const std::vector<std::int64_t>& h, std::uint64_t seed, std::int64_t cut = -1,
                    bool halves = false) {
  const std::int64_t b = halves ? 150 : 7;
  DlnModel model(h, b, 0, cut, halves);
  const std::int64_t d = model.d();
  std::vector<float> w(static_cast<std::size_t>(d)), grad(static_cast<std::size_t>(d));
  for (std::int64_t e = 0; e < d; ++e) {
    w[static_cast<std::size_t>(e)] = 0.5f * normal4f(draw_block(seed, Stream::kTeacher, static_cast<std::uint64_t>(e))).z[0];
  }
  // Inputs of order 1 and fixed targets (a random "teacher product" P).
  float* x = model.inputs();
  for (std::int64_t i = 0; i < b * h.front(); ++i) x[i] = normal4f(draw_block(seed, Stream::kInput, static_cast<std::uint64_t>(i))).z[1];
  TeacherData teacher;
  std::vector<float>& p = teacher.product;
  p.resize(static_cast<std::size_t>(h.back() * h.front()));
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = normal4f(draw_block(seed, Stream::kArch, i)).z[2];
  model.compute_targets(teacher);
  const double loss = model.loss_and_gradient(w.data(), grad.data());

  std::vector<double> wd(w.begin(), w.end());
  std::vector<double> xd(x, x + b * h.front());
  std::vector<double> yd(model.targets(), model.targets() + b * h.back());
  EXPECT_NEAR(loss, loss_double(h, wd, xd, yd, b), 1e-5 * std::max(1.0, loss));
  double worst = 0, scale = 0;
  for (std::int64_t e = 0; e < d; ++e) {
    const double step = 1e-6;
    std::vector<double> plus = wd, minus = wd;
    plus[static_cast<std::size_t>(e)] += step;
    minus[static_cast<std::size_t>(e)] -= step;
    const double fd = (loss_double(h, plus, xd, yd, b) - loss_double(h, minus, xd, yd, b)) / (2 * step);
    worst = std::max(worst, std::abs(fd - grad[static_cast<std::size_t>(e)]));
    scale = std::max(scale, std::abs(fd));
  }
  // fp32 gradients of order `scale`: agreement to 1e-4 relative is ~1000 float ulps of headroom
  // for the accumulated rounding of depth-5 products, and far below any real error.
  EXPECT_LT(worst, 1e-4 * scale) << "depth " << h.size() - 1 << ", cut " << cut << ", halves " << halves;
}

TEST(Gradient, MatchesFiniteDifferencesInDouble) {
  check_gradient({4, 3}, 1);
  check_gradient({3, 5, 2}, 2);
  check_gradient({4, 3, 5, 2}, 3);
  check_gradient({2, 4, 3, 4, 3, 2}, 4);
}

// Through a cut at every width index (the input, the output, inner widths next to the ends and
// deep inside, narrow or not: the pass must be right wherever the plan puts it), with the same
// tolerance as layer by layer: the loss and gradient are the same function, rounded differently.
TEST(Gradient, ThroughEveryCutMatchesFiniteDifferencesInDouble) {
  const std::vector<std::vector<std::int64_t>> nets = {{4, 3}, {3, 5, 2}, {4, 3, 5, 2}, {2, 4, 3, 4, 3, 2}, {5, 6, 2, 7, 4, 6}};
  std::uint64_t seed = 10;
  for (const auto& h : nets) {
    for (std::int64_t cut = 0; cut < static_cast<std::int64_t>(h.size()); ++cut) check_gradient(h, ++seed, cut);
  }
}

// Summed over the batch in halves, layer by layer and through every cut: the same function,
// rounded differently, so the same tolerance.
TEST(Gradient, InBatchHalvesMatchesFiniteDifferencesInDouble) {
  const std::vector<std::vector<std::int64_t>> nets = {{4, 3}, {4, 3, 5, 2}, {5, 6, 2, 7, 4, 6}};
  std::uint64_t seed = 40;
  for (const auto& h : nets) {
    for (std::int64_t cut = -1; cut < static_cast<std::int64_t>(h.size()); ++cut) check_gradient(h, ++seed, cut, true);
  }
}

// The plan's flop count is the pass's: a gemm that only counts 2 m n k, run through CutPass,
// gives gradient_flops exactly, for every cut of several networks.
TEST(GradientPlan, FlopsAreThePassesAndTheCutIsTheCheapest) {
  for (const std::vector<std::int64_t>& h :
       {std::vector<std::int64_t>{391, 392, 50, 438, 448}, {7, 3}, {3, 9, 4, 8, 2, 6}, {120, 80, 300, 90, 40}}) {
    for (std::int64_t b : {1, 17, 500}) {
      double best = gradient_flops(h, b, -1);
      std::int64_t best_cut = -1;
      for (std::int64_t k = 0; k < static_cast<std::int64_t>(h.size()); ++k) {
        double counted = 0;
        const auto count = [&](bool, bool, std::int64_t m, std::int64_t n, std::int64_t kk, const float*, std::int64_t,
                               const float*, std::int64_t, float*, std::int64_t) { counted += 2.0 * m * n * kk; };
        const CutPass pass(h, b, k);
        CutBuffers none;
        none.w.assign(h.size() - 1, nullptr);
        none.grad.assign(h.size() - 1, nullptr);
        none.products.assign(h.size(), nullptr);
        pass.forward(count, none);
        pass.backward(count, count, none, nullptr);
        EXPECT_EQ(counted, gradient_flops(h, b, k)) << "cut " << k << " batch " << b;
        if (counted < best || (best_cut >= 0 && counted == best && h[k] < h[best_cut])) {
          best = counted;
          best_cut = k;
        }
      }
      EXPECT_EQ(gradient_cut(h, b, true), best_cut) << "batch " << b;
      EXPECT_EQ(gradient_cut(h, b, false), -1);
    }
  }
  // 100K seed 1 at the default batch: through the width-50 layer, 4.8x fewer flops.
  const std::vector<std::int64_t> h = {391, 392, 50, 438, 448};
  EXPECT_EQ(gradient_cut(h, 500, true), 2);
  EXPECT_NEAR(gradient_flops(h, 500, -1) / gradient_flops(h, 500, 2), 4.83, 0.01);
  // A batch narrower than every width: layer by layer is already the cheapest.
  EXPECT_EQ(gradient_cut(h, 1, true), -1);
  // The two ends of a 2-layer network always cost the same: the narrower one is taken.
  EXPECT_EQ(gradient_flops({60, 50, 40}, 200, 0), gradient_flops({60, 50, 40}, 200, 2));
  EXPECT_EQ(gradient_cut({60, 50, 40}, 200, true), 2);
  EXPECT_EQ(gradient_cut({40, 50, 60}, 200, true), 0);
  EXPECT_THROW(parse_gradient("bottleneck", "--gradient"), UsageError);
  EXPECT_TRUE(parse_gradient("narrowest", "x"));
  EXPECT_FALSE(parse_gradient("layered", "x"));
}

// The two sides of a cut share nothing one of them writes, so that a backend may run them at once
// (the CPU on two threads): with side scratch, every element the products below the cut write
// (forward_below, backward_below) is neither read nor written by those above it (forward_above,
// backward_above), and the other way round; each GEMM's operands and output are taken as the
// memory their shapes and leading dimensions span. Without side scratch the sides share their
// sum arrays, and the check finds it.
struct Spans {
  std::vector<std::pair<const float*, const float*>> read, written;
};
auto recorder(Spans& spans) {
  return [&spans](bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                  const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
    const auto span = [](const float* p, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
      return std::make_pair(p, p + (rows - 1) * ld + cols);
    };
    spans.read.push_back(ta ? span(a, k, m, lda) : span(a, m, k, lda));
    spans.read.push_back(tb ? span(b, n, k, ldb) : span(b, k, n, ldb));
    spans.written.push_back(span(c, m, n, ldc));
  };
}
bool overlap(const std::vector<std::pair<const float*, const float*>>& x,
             const std::vector<std::pair<const float*, const float*>>& y) {
  for (const auto& [a0, a1] : x) {
    for (const auto& [b0, b1] : y) {
      if (std::less<const float*>{}(a0, b1) && std::less<const float*>{}(b0, a1)) return true;
    }
  }
  return false;
}
// Whether one side writes what the other reads or writes, for a pass over real buffers.
bool sides_touch(const std::vector<std::int64_t>& h, std::int64_t b, std::int64_t k, bool side_scratch) {
  const CutPass pass(h, b, k, side_scratch);
  std::vector<float> scratch(static_cast<std::size_t>(pass.scratch_size(16)));
  CutBuffers c = pass.scratch_buffers(scratch.data(), 16);
  std::int64_t d = 0;
  for (std::size_t s = 0; s + 1 < h.size(); ++s) d += h[s] * h[s + 1];
  std::vector<float> w(static_cast<std::size_t>(d)), grad(w.size()), x(static_cast<std::size_t>(b * h.front())),
      out(static_cast<std::size_t>(b * h.back()));
  for (std::size_t s = 0, offset = 0; s + 1 < h.size(); offset += static_cast<std::size_t>(h[s] * h[s + 1]), ++s) {
    c.w.push_back(w.data() + offset);
    c.grad.push_back(grad.data() + offset);
  }
  c.x = x.data();
  c.out = out.data();
  Spans below, above;
  pass.forward_below(recorder(below), c);
  pass.backward_below(recorder(below), c);
  pass.forward_above(recorder(above), c);
  pass.backward_above(recorder(above), c);
  std::vector<std::pair<const float*, const float*>> below_all = below.read, above_all = above.read;
  below_all.insert(below_all.end(), below.written.begin(), below.written.end());
  above_all.insert(above_all.end(), above.written.begin(), above.written.end());
  return overlap(below.written, above_all) || overlap(above.written, below_all);
}
TEST(CutPass, TheSidesOfTheCutShareNothingTheyWrite) {
  for (const std::vector<std::int64_t>& h :
       {std::vector<std::int64_t>{391, 392, 50, 438, 448}, {200, 180, 40, 160, 150}, {9, 8, 7, 3, 6, 5, 4}}) {
    for (std::int64_t k = 0; k < static_cast<std::int64_t>(h.size()); ++k) {
      EXPECT_FALSE(sides_touch(h, 20, k, true)) << "cut " << k << " of " << h.size() << " widths";
    }
  }
  // Without side scratch both sides go through sum_a and sum_b (a cut with two layers a side).
  EXPECT_TRUE(sides_touch({9, 8, 7, 3, 6, 5, 4}, 20, 3, false));
}

// Targets through the teacher's rank-r factors are the product's targets up to fp32 rounding.
// Both are fp32 roundings of one exact map (P = F_out F_in in double), each with a relative error
// of order sqrt(k) eps ~ 1e-6 over sums of k <= 448 terms; 1e-5 relative in norm leaves a factor
// of about 10 of headroom, while a wrong factor (a missing singular direction, a transpose) is off
// by order 1.
TEST(Targets, TheRankFactorsGiveTheProductsTargets) {
  const dln::Problem problem = dln::draw_problem(dln::model_class("100K"), 1);
  const TeacherData product = teacher_data(problem, false);
  const TeacherData factored = teacher_data(problem, true);
  EXPECT_EQ(product.rank, 0);
  ASSERT_EQ(factored.rank, problem.rank);  // 37 for 100K seed 1: the product's rank
  const std::int64_t b = 16, h_in = problem.widths.front(), h_out = problem.widths.back();
  ASSERT_EQ(factored.factor_in.size(), static_cast<std::size_t>(factored.rank * h_in));
  ASSERT_EQ(factored.factor_out.size(), static_cast<std::size_t>(h_out * factored.rank));
  DlnModel a(problem.widths, b), c(problem.widths, b);
  for (std::int64_t i = 0; i < b * h_in; ++i) {
    a.inputs()[i] = c.inputs()[i] = 20 * u01f(draw_block(7, Stream::kInput, static_cast<std::uint64_t>(i)).v[0]) - 10;
  }
  a.compute_targets(product);
  c.compute_targets(factored);
  double diff = 0, norm = 0;
  for (std::int64_t i = 0; i < b * h_out; ++i) {
    diff += std::pow(static_cast<double>(a.targets()[i]) - c.targets()[i], 2);
    norm += std::pow(static_cast<double>(a.targets()[i]), 2);
  }
  EXPECT_LT(std::sqrt(diff / norm), 1e-5);
  EXPECT_GT(diff, 0.0);  // two data paths: not the same bits (which is why stores record it)
  // The factors are exact (a product of the teacher's own layers, no decomposition): their
  // product is P up to double rounding, and their inner size is the product's rank, in every
  // class (seeds with cuts on rows and on columns, minimal teachers).
  for (const char* cls : {"tiny", "1K", "100K", "1M"}) {
    for (std::uint64_t seed : {1, 2, 3}) {
      for (const dln::TeacherMode mode : {dln::TeacherMode::kPaper, dln::TeacherMode::kMinimal}) {
        const dln::Problem q = dln::draw_problem(dln::model_class(cls), seed, mode);
        const TeacherFactors f = teacher_factors(q);
        EXPECT_EQ(f.rank, q.rank) << cls << " seed " << seed;
        // The rank the step uses, from the architecture alone, is the factors' where they save flops.
        EXPECT_EQ(targets_rank(q, true), teacher_data(q, true).rank) << cls << " seed " << seed;
        EXPECT_EQ(targets_rank(q, false), 0);
        const dln::MatrixD p = dln::teacher_product(q), fp = dln::multiply(f.out, f.in);
        double diff = 0, norm = 0;
        for (std::size_t i = 0; i < p.a.size(); ++i) {
          diff += (fp.a[i] - p.a[i]) * (fp.a[i] - p.a[i]);
          norm += p.a[i] * p.a[i];
        }
        EXPECT_LT(std::sqrt(diff / norm), 1e-12) << cls << " seed " << seed;  // double, a few hundred terms
      }
    }
  }
  // The rank is the product's, also on a small class (tiny seed 1: 5,3,5 of rank 1).
  const dln::Problem tiny = dln::draw_problem(dln::model_class("tiny"), 1);
  EXPECT_EQ(teacher_data(tiny, true).rank, tiny.rank);
}

}  // namespace
}  // namespace llcb::backend::cpu
