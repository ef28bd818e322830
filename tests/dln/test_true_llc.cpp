// The exact true LLC against the reference cases, the two-layer reduced-rank-regression formula,
// a brute-force search for the subset S, the one-layer value, invariances and bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/architecture.hpp"
#include "lib/dln/true_llc.hpp"

namespace llcb::dln {
namespace {

using Widths = std::vector<std::int64_t>;

Rational llc(const Widths& w, std::int64_t r) { return true_llc(w, r).lambda; }

// Parses "widths<TAB>rank<TAB>value" rows (header skipped) of a reference file.
struct RefCase {
  Widths widths;
  std::int64_t rank;
  std::string value;
};
std::vector<RefCase> read_cases(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<RefCase> cases;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string widths, rank, value;
    std::getline(ls, widths, '\t');
    std::getline(ls, rank, '\t');
    std::getline(ls, value, '\t');
    cases.push_back({parse_int_list(widths, "widths", 1, 1'000'000),
                     parse_int(rank, "rank", 0, 1'000'000), value});
  }
  return cases;
}

void expect_reference_cases(const std::filesystem::path& path) {
  const auto cases = read_cases(path);
  ASSERT_GE(cases.size(), 20u) << path;
  for (const auto& c : cases) {
    // The files give lambda to 6 decimals; lambda is a multiple of 1/4, so the 6-decimal
    // rendering of the exact value must match the file's text exactly.
    std::string want = c.value;
    if (want.find('.') != std::string::npos) {
      while (want.back() == '0') want.pop_back();
      if (want.back() == '.') want.pop_back();
    }
    EXPECT_EQ(llc(c.widths, c.rank).to_decimal(6), want)
        << "widths " << join_ints(c.widths) << " rank " << c.rank;
  }
}

TEST(TrueLlc, PublicReferenceCasesInRepository) {
  expect_reference_cases(std::filesystem::path(LLCB_TEST_DATA_DIR) / "llc_cases_public.tsv");
}

TEST(TrueLlc, SharedReferenceCasesWhenPresent) {
  // The project's shared reference directory sits beside the checkout in CI and development; a
  // bare clone elsewhere has only the in-repository copy checked above.
  const std::filesystem::path shared(LLCB_SHARED_REFERENCE_DIR);
  if (!std::filesystem::exists(shared)) GTEST_SKIP() << "no " << shared;
  for (const auto& entry : std::filesystem::directory_iterator(shared)) {
    if (entry.path().extension() == ".tsv" &&
        entry.path().filename().string().rfind("llc_cases", 0) == 0) {
      SCOPED_TRACE(entry.path().string());
      expect_reference_cases(entry.path());
    }
  }
}

// Aoyagi & Watanabe (2005), reduced rank regression with widths M (in), H, N (out), rank r;
// returns 8 * lambda as an integer.
std::int64_t rrr_times8(std::int64_t m, std::int64_t h, std::int64_t n, std::int64_t r) {
  if (n + r <= m + h && m + r <= n + h && h + r <= m + n) {
    std::int64_t v = 2 * (h + r) * (m + n) - (m - n) * (m - n) - (h + r) * (h + r);
    if ((m + h + n + r) % 2 == 1) v += 1;
    return v;
  }
  if (m + h < n + r) return 4 * (h * m - h * r + n * r);
  if (n + h < m + r) return 4 * (h * n - h * r + m * r);
  return 4 * m * n;
}

TEST(TrueLlc, TwoLayersAgreeWithReducedRankRegressionOverAllSmallWidths) {
  int checked = 0;
  for (std::int64_t m = 1; m <= 9; ++m)
    for (std::int64_t h = 1; h <= 9; ++h)
      for (std::int64_t n = 1; n <= 9; ++n)
        for (std::int64_t r = 0; r <= std::min({m, h, n}); ++r) {
          EXPECT_EQ(llc({m, h, n}, r), Rational::of(rrr_times8(m, h, n, r), 8))
              << m << "," << h << "," << n << " rank " << r;
          ++checked;
        }
  EXPECT_EQ(checked, 2754);  // sum over (m, h, n) of min + 1 = (1^3 + ... + 9^3) + 9^3
}

TEST(TrueLlc, OneLayerIsHalfTheParameterCountAtEveryRank) {
  for (std::int64_t a = 1; a <= 12; ++a)
    for (std::int64_t b = 1; b <= 12; ++b)
      for (std::int64_t r = 0; r <= std::min(a, b); ++r) {
        const TrueLlc t = true_llc({a, b}, r);
        EXPECT_EQ(t.lambda, Rational::of(a * b, 2)) << a << "," << b << " rank " << r;
        EXPECT_EQ(t.d, a * b);
      }
}

// Enumerates every widths list of the given length with entries in 1..hmax.
template <class F>
void for_each_widths(std::size_t len, std::int64_t hmax, F f) {
  Widths w(len, 1);
  while (true) {
    f(w);
    std::size_t i = 0;
    while (i < len && w[i] == hmax) w[i++] = 1;
    if (i == len) return;
    ++w[i];
  }
}

TEST(TrueLlc, SubsetIsTheUniqueOneABruteForceSearchFinds) {
  for (std::size_t len = 2; len <= 6; ++len) {
    for_each_widths(len, len <= 4 ? 6 : 4, [&](const Widths& w) {
      for (std::int64_t r = 0; r <= *std::min_element(w.begin(), w.end()); ++r) {
        std::vector<std::vector<std::int64_t>> found;
        for (std::uint32_t mask = 1; mask < (1u << len); ++mask) {
          std::vector<std::int64_t> in, out;
          for (std::size_t s = 0; s < len; ++s) ((mask >> s) & 1 ? in : out).push_back(w[s] - r);
          if (in.size() < 2) continue;
          const std::int64_t l = static_cast<std::int64_t>(in.size()) - 1;
          const std::int64_t mx = *std::max_element(in.begin(), in.end());
          const std::int64_t t = std::accumulate(in.begin(), in.end(), std::int64_t{0});
          const std::int64_t mn = out.empty() ? 0 : *std::min_element(out.begin(), out.end());
          if ((out.empty() || mx < mn) && t >= l * mx && (out.empty() || t < l * mn)) {
            std::vector<std::int64_t> positions;
            for (std::size_t s = 0; s < len; ++s)
              if ((mask >> s) & 1) positions.push_back(static_cast<std::int64_t>(s) + 1);
            found.push_back(positions);
          }
        }
        ASSERT_EQ(found.size(), 1u) << join_ints(w) << " rank " << r;
        EXPECT_EQ(true_llc(w, r).subset, found.front()) << join_ints(w) << " rank " << r;
      }
    });
  }
}

TEST(TrueLlc, ReversalAndInteriorPermutationsLeaveLambdaUnchanged) {
  for_each_widths(5, 5, [](const Widths& w) {
    for (std::int64_t r = 0; r <= *std::min_element(w.begin(), w.end()); ++r) {
      const Rational base = llc(w, r);
      Widths rev(w.rbegin(), w.rend());
      EXPECT_EQ(llc(rev, r), base) << join_ints(w) << " rank " << r;
      Widths p = w;
      std::sort(p.begin() + 1, p.end() - 1);
      do {
        EXPECT_EQ(llc(p, r), base) << join_ints(p) << " rank " << r;
      } while (std::next_permutation(p.begin() + 1, p.end() - 1));
    }
  });
}

TEST(TrueLlc, AtRankZeroAnyPermutationLeavesLambdaUnchanged) {
  for_each_widths(4, 6, [](const Widths& w) {
    const Rational base = llc(w, 0);
    Widths p = w;
    std::sort(p.begin(), p.end());
    do {
      EXPECT_EQ(llc(p, 0), base) << join_ints(p);
    } while (std::next_permutation(p.begin(), p.end()));
  });
}

TEST(TrueLlc, BoundsHoldWithEqualityOnTheLeftExactlyWhenAWidthEqualsTheRank) {
  for (std::size_t len = 2; len <= 5; ++len) {
    for_each_widths(len, 6, [](const Widths& w) {
      const std::int64_t d = std::inner_product(w.begin(), w.end() - 1, w.begin() + 1, std::int64_t{0});
      for (std::int64_t r = 0; r <= *std::min_element(w.begin(), w.end()); ++r) {
        const Rational lambda = llc(w, r);
        const Rational lower = Rational::of(r * (w.front() + w.back() - r), 2);
        EXPECT_LE(lower, lambda) << join_ints(w) << " rank " << r;
        EXPECT_LE(lambda, Rational::of(d, 2)) << join_ints(w) << " rank " << r;
        const bool some_width_is_r = std::find(w.begin(), w.end(), r) != w.end();
        EXPECT_EQ(lambda == lower, some_width_is_r) << join_ints(w) << " rank " << r;
      }
    });
  }
}

TEST(TrueLlc, ExactForDeepWideNetworksBeyond32BitSums) {
  // 40 layers of width 5000 at rank 0: S is everything, l = 40, T = 205000, a = 40, and
  // lambda = -(39 * 205000^2) / 160 + (1/2) * C(41, 2) * 5000^2 = 6406250 (the T^2 term alone
  // is 1.6e12). Checked independently with Python's fractions.Fraction.
  const TrueLlc deep = true_llc(Widths(41, 5000), 0);
  EXPECT_EQ(deep.lambda, Rational(6406250));
  EXPECT_EQ(deep.multiplicity, 1);
  EXPECT_EQ(deep.l, 40);
  EXPECT_EQ(deep.d, 40LL * 5000 * 5000);

  // Independent values from a brute-force subset search in exact rational arithmetic.
  EXPECT_EQ(llc({4999, 5000, 4998, 5000, 4997, 4996}, 1234), Rational::of(19313191, 2));
  EXPECT_EQ(true_llc({4999, 5000, 4998, 5000, 4997, 4996}, 1234).multiplicity, 5);
  const TrueLlc mixed = true_llc(
      {3275, 4165, 4735, 4643, 4564, 3129, 3522, 3241, 4014, 4558, 3920, 3967, 4334, 3777}, 1717);
  EXPECT_EQ(mixed.lambda, Rational::of(10771651, 2));
  EXPECT_EQ(mixed.multiplicity, 4);
  EXPECT_EQ(mixed.subset, (std::vector<std::int64_t>{1, 6, 7, 8, 14}));

  // The largest supported architecture stays exact (no overflow): the bounds still hold.
  const Widths huge(static_cast<std::size_t>(kMaxLayers) + 1, 10'000'000);
  const TrueLlc h = true_llc(huge, 3);
  EXPECT_LE(h.lambda, Rational::of(h.d, 2));
  EXPECT_GT(h.lambda, Rational(0));
}

TEST(TrueLlc, RejectsInvalidInput) {
  EXPECT_THROW(true_llc({5}, 0), UsageError);
  EXPECT_THROW(true_llc({}, 0), UsageError);
  EXPECT_THROW(true_llc({5, 0, 5}, 0), UsageError);
  EXPECT_THROW(true_llc({5, -3, 5}, 0), UsageError);
  EXPECT_THROW(true_llc({5, 3, 5}, 4), UsageError);
  EXPECT_THROW(true_llc({5, 3, 5}, -1), UsageError);
}

}  // namespace
}  // namespace llcb::dln
