// Sums in fixed lanes (lib/backend/cpu/lane_sums.hpp): the order is the one the header states, so
// a scalar loop that adds in that order gives the same bits, whatever vector width this build's
// compiler used for the real loops. A reduction whose order the compiler picks (omp simd
// reduction) would differ from it in the last bits for most inputs.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "lib/backend/cpu/dln_model.hpp"
#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/backend/cpu/update_pass.hpp"
#include "lib/core/random.hpp"
#include "lib/samplers/registry.hpp"
#include "tests/support/lane_sums_checks.hpp"
#include "tests/support/sgld_coeffs.hpp"

namespace llcb::backend::cpu {
namespace {

using lane_sums_checks::values;

TEST(LaneSums, EveryIndexOnce) {
  for (std::int64_t n : {0, 1, 15, 16, 17, 100, 4096}) {
    std::vector<int> seen(static_cast<std::size_t>(n), 0);
    LaneSums<double, 2> sums;
    sums.add(n, [&](std::int64_t i, double (&t)[2]) {
      ++seen[static_cast<std::size_t>(i)];
      t[0] = static_cast<double>(i);
      t[1] = 1.0;
    });
    for (int s : seen) ASSERT_EQ(s, 1) << n;
    EXPECT_EQ(sums.total(0), static_cast<double>(n * (n - 1) / 2)) << n;  // exact: small integers
    EXPECT_EQ(sums.total(1), static_cast<double>(n)) << n;
  }
}

// Terms in float, K of them (and in double): each sum adds its terms in lane i % kSumLanes, in
// index order.
TEST(LaneSums, FloatLanesAddInTheDocumentedOrder) {
  for (std::int64_t n : {5, 16, 4096 + 13}) lane_sums_checks::expect_lanes_in_documented_order(n);
}

// The sum of squares of x[0 .. n) through chunked_lane_sum.
double chunked_sum_squares(const float* x, std::int64_t n) {
  return chunked_lane_sum(n, [x](std::int64_t i) { return static_cast<double>(x[i]) * x[i]; });
}

// The documented order, written as a plain scalar loop.
double reference_sum_squares(const std::vector<float>& x, std::int64_t first, std::int64_t last) {
  double lanes[kSumLanes] = {};
  for (std::int64_t i = first; i < last; ++i) {
    const double v = x[static_cast<std::size_t>(i)];
    lanes[(i - first) % kSumLanes] += v * v;
  }
  double s = 0;
  for (double l : lanes) s += l;
  return s;
}

TEST(LaneSums, SumOfSquaresAddsInTheDocumentedOrder) {
  const std::int64_t n = 3 * 4096 + 1234;  // three full chunks and a partial one
  const std::vector<float> x = values(n);
  double want = 0;
  for (std::int64_t c = 0; c * 4096 < n; ++c) {
    want += reference_sum_squares(x, c * 4096, std::min(n, (c + 1) * 4096));
  }
  EXPECT_EQ(chunked_sum_squares(x.data(), n), want);
}

// The loss's one pass (residual, its squares, the scaled gradient) adds exactly what
// chunked_sum_squares adds over the residual, and writes every element, at 1 and 2 threads.
TEST(LaneSums, AWritingTermAddsAsTheSumOfSquares) {
  const std::int64_t n = 2 * 4096 + 999;
  const std::vector<float> out = values(n), y = values(n + 5);  // y: other values, shifted
  std::vector<float> r(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) r[static_cast<std::size_t>(i)] = out[static_cast<std::size_t>(i)] - y[static_cast<std::size_t>(i + 5)];
  const double want = chunked_sum_squares(r.data(), n);
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    std::vector<float> g(static_cast<std::size_t>(n), 7.0f);
    const double got = chunked_lane_sum(n, [&](std::int64_t i) {
      const float v = out[static_cast<std::size_t>(i)] - y[static_cast<std::size_t>(i + 5)];
      g[static_cast<std::size_t>(i)] = v * 0.5f;
      return static_cast<double>(v) * v;
    });
    EXPECT_EQ(got, want) << threads << " threads";
    for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(g[static_cast<std::size_t>(i)], r[static_cast<std::size_t>(i)] * 0.5f) << i;
  }
}

TEST(LaneSums, UpdatePassDistanceAddsInTheDocumentedOrder) {
  const std::int64_t d = 4096 + 777;
  const auto n = static_cast<std::size_t>(d);
  std::vector<float> w = values(d), g(n, 0.0f), w0(n, 0.0f);
  const auto k = test_support::sgld_coeffs(1e-6);
  float* states[2] = {nullptr, nullptr};
  const PassTotals got =
      update_pass<samplers::SgldRule>(k, w.data(), g.data(), w0.data(), states, d, 5, 0);
  // w0 = 0, so ||w - w*||^2 after the pass is the sum of squares of the new w, in float per
  // lane (as the pass keeps it), the lanes and then the chunks added in double.
  double want = 0;
  for (std::int64_t first = 0; first < d; first += 4096) {
    const std::int64_t last = std::min(d, first + 4096);
    float lanes[kSumLanes] = {};
    for (std::int64_t i = first; i < last; ++i) {
      const float v = w[static_cast<std::size_t>(i)];
      lanes[(i - first) % kSumLanes] += v * v;
    }
    double chunk = 0;
    for (float l : lanes) chunk += static_cast<double>(l);
    want += chunk;
  }
  EXPECT_EQ(got.distance2, want);
}

// Every sum of the update pass is the rule's own terms, from a +0-started StepSums a parameter
// (rule.hpp; the pass starts them at -0), added in the documented lanes and chunks; the new
// parameters and states are the rule's too. SGLD leaves aux alone: it must come out +0.
template <class Rule>
void expect_pass_as_the_rule(samplers::SamplerKind kind) {
  const std::int64_t d = 2 * 4096 + 777, t = 9;
  const std::uint64_t seed = 5;
  const auto n = static_cast<std::size_t>(d);
  const std::vector<float> w_start = values(d), g = values(d, 1), w0 = values(d, 2);
  samplers::SamplerConfig c;
  c.kind = kind;
  c.step_size = 1e-3;
  c.nbeta = 100;
  const auto k = Rule::coeffs(c, t, samplers::initial_scalars(c));
  std::vector<float> w = w_start, state(n, 0.25f);
  float* states[2] = {state.data(), nullptr};
  const PassTotals got = update_pass<Rule>(k, w.data(), g.data(), w0.data(), states, d, seed, t);

  double want[4] = {};
  for (std::int64_t first = 0; first < d; first += 4096) {
    float lanes[4][kSumLanes] = {};
    for (std::int64_t e = first; e < std::min(d, first + 4096); ++e) {
      const auto i = static_cast<std::size_t>(e);
      const float xi = normal4f(draw_block(seed, Stream::kLangevin, t, static_cast<std::uint32_t>(e / 4))).z[e % 4];
      float s[2] = {0.25f, 0.0f};
      samplers::StepSums acc;
      float we = w_start[i];
      Rule::apply(k, we, g[i], w0[i], xi, s, acc);
      ASSERT_EQ(float_bits(w[i]), float_bits(we)) << e;
      if constexpr (Rule::kStates > 0) {
        ASSERT_EQ(float_bits(state[i]), float_bits(s[0])) << e;
      }
      const float delta = we - w0[i];
      const float terms[4] = {acc.drift2, acc.noise2, acc.aux, delta * delta};
      for (int q = 0; q < 4; ++q) lanes[q][(e - first) % kSumLanes] += terms[q];
    }
    for (int q = 0; q < 4; ++q) {
      double chunk = 0;
      for (float l : lanes[q]) chunk += static_cast<double>(l);
      want[q] += chunk;
    }
  }
  EXPECT_EQ(got.step.drift2, want[0]);
  EXPECT_EQ(got.step.noise2, want[1]);
  EXPECT_EQ(got.step.aux, want[2]);
  EXPECT_FALSE(std::signbit(got.step.aux));
  EXPECT_EQ(got.distance2, want[3]);
  EXPECT_GT(got.step.drift2, 0);
  EXPECT_GT(got.step.noise2, 0);
}

TEST(LaneSums, UpdatePassSumsAreTheRulesTermsInTheDocumentedOrder) {
  expect_pass_as_the_rule<samplers::SgldRule>(samplers::SamplerKind::kSgld);
  expect_pass_as_the_rule<samplers::SgnhtRule>(samplers::SamplerKind::kSgnht);
}

}  // namespace
}  // namespace llcb::backend::cpu
