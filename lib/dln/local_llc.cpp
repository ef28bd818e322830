#include "lib/dln/local_llc.hpp"

#include <algorithm>

#include "lib/core/check.hpp"

namespace llcb::dln {
namespace {

// Ranks of the products of the first t layers, t = 0..M, of a chain whose layer t maps dims[t]
// to dims[t+1] (ranks[0] = dims[0], the identity). The product P_t is kept as a factor A_t with
// P_t = E_t A_t Q_t: Q_t has orthonormal rows, and E_t places the rows of A_t at the indices
// `rows` (P_t's other rows are exactly zero). Then P_{t+1} = E (W_t[R, rows] A_t) Q_t, R the rows
// of W_t that are not exactly zero, has the singular values of C = W_t[R, rows] A_t, and columns
// of W_t that are exactly zero drop out with their rows of A_t. When the rank drops,
// A_{t+1} = U_k S_k of C (the singular values under the tolerance are dropped, as the rank count
// drops them); otherwise A_{t+1} = C.
std::vector<std::int64_t> prefix_ranks(const std::vector<std::int64_t>& dims,
                                       const std::function<MatrixD(std::size_t)>& layer) {
  const std::size_t m = dims.size() - 1;
  std::vector<std::int64_t> ranks = {dims[0]};
  std::vector<std::int64_t> rows(static_cast<std::size_t>(dims[0]));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
  MatrixD a;  // empty: the identity (t = 0)
  for (std::size_t t = 0; t < m; ++t) {
    if (ranks.back() == 0) {
      ranks.push_back(0);
      continue;
    }
    const MatrixD w = layer(t);
    LLCB_CHECK(w.rows == dims[t + 1] && w.cols == dims[t], "a layer has the wrong shape");
    std::vector<std::int64_t> live_rows, live_cols;  // of w: not exactly zero; live_cols index `rows`
    for (std::int64_t i = 0; i < w.rows; ++i) {
      bool zero = true;
      for (const std::int64_t j : rows) zero = zero && w.at(i, j) == 0.0;
      if (!zero) live_rows.push_back(i);
    }
    for (std::size_t c = 0; c < rows.size(); ++c) {
      bool zero = true;
      for (const std::int64_t i : live_rows) zero = zero && w.at(i, rows[c]) == 0.0;
      if (!zero) live_cols.push_back(static_cast<std::int64_t>(c));
    }
    if (live_rows.empty() || live_cols.empty()) {
      ranks.push_back(0);
      continue;
    }
    MatrixD ws(static_cast<std::int64_t>(live_rows.size()), static_cast<std::int64_t>(live_cols.size()));
    for (std::int64_t i = 0; i < ws.rows; ++i) {
      for (std::int64_t c = 0; c < ws.cols; ++c) {
        ws.at(i, c) = w.at(live_rows[static_cast<std::size_t>(i)],
                           rows[static_cast<std::size_t>(live_cols[static_cast<std::size_t>(c)])]);
      }
    }
    MatrixD c = ws;
    if (!a.a.empty()) {
      MatrixD as(ws.cols, a.cols);
      for (std::int64_t r = 0; r < as.rows; ++r) {
        const std::int64_t from = live_cols[static_cast<std::size_t>(r)];
        std::copy_n(&a.a[static_cast<std::size_t>(from * a.cols)], a.cols,
                    &as.a[static_cast<std::size_t>(r * a.cols)]);
      }
      c = multiply(ws, as);
    }
    // Singular vectors only where the rank drops: certainly when C is wide, else when it did.
    MatrixD u;
    std::vector<double> s = c.rows < c.cols ? singular_values(c, u) : singular_values(c);
    const std::int64_t k = rank_of(s, dims[t + 1], dims[0]);
    ranks.push_back(k);
    rows = std::move(live_rows);
    if (k == c.cols) {
      a = std::move(c);
      continue;
    }
    if (u.a.empty()) s = singular_values(c, u);
    a = MatrixD(c.rows, k);
    for (std::int64_t i = 0; i < c.rows; ++i) {
      for (std::int64_t j = 0; j < k; ++j) a.at(i, j) = u.at(i, j) * s[static_cast<std::size_t>(j)];
    }
  }
  return ranks;
}

}  // namespace

const char* to_string(TruthStatus status) {
  switch (status) {
    case TruthStatus::kExact: return "exact";
    case TruthStatus::kAbove: return "above";
    case TruthStatus::kGlobal: return "global";
  }
  return "unknown";
}

std::int64_t jacobian_rank(const std::vector<std::int64_t>& widths, const PartialRanks& r) {
  const std::size_t m = widths.size() - 1;
  LLCB_CHECK(m >= 1 && r.after.size() == m && r.before.size() == m,
             "partial ranks need one entry per layer");
  LLCB_CHECK(r.after[m - 1] == widths[m] && r.before[0] == widths[0],
             "the empty partial products are identities of the outer widths");
  std::int64_t k = r.after[0] * r.before[0];
  for (std::size_t s = 1; s < m; ++s) {
    LLCB_CHECK(r.after[s] >= r.after[s - 1] && r.before[s] <= r.before[s - 1],
               "partial-product ranks must grow towards the output and shrink towards the input");
    k += (r.after[s] - r.after[s - 1]) * r.before[s];
  }
  return k;
}

PartialRanks generic_partial_ranks(const std::vector<std::int64_t>& widths,
                                   const std::vector<std::int64_t>& layer_ranks) {
  const std::size_t m = widths.size() - 1;
  LLCB_CHECK(layer_ranks.size() == m, "one layer rank per layer");
  PartialRanks r;
  r.after.assign(m, widths[m]);
  r.before.assign(m, widths[0]);
  for (std::size_t s = 1; s < m; ++s) r.before[s] = std::min(r.before[s - 1], layer_ranks[s - 1]);
  for (std::size_t s = m - 1; s-- > 0;) r.after[s] = std::min(r.after[s + 1], layer_ranks[s + 1]);
  return r;
}

PartialRanks numerical_partial_ranks(const std::vector<std::int64_t>& widths,
                                     const std::function<MatrixD(std::size_t)>& layer) {
  const std::size_t m = widths.size() - 1;
  LLCB_CHECK(m >= 1, "a network needs at least one layer");
  PartialRanks r;
  // The last layer is never needed from the input side, nor the first from the output side.
  std::vector<std::int64_t> from_input = prefix_ranks(
      std::vector<std::int64_t>(widths.begin(), widths.end() - 1), layer);
  std::vector<std::int64_t> reversed(widths.rbegin(), widths.rend() - 1);
  std::vector<std::int64_t> from_output =
      prefix_ranks(reversed, [&](std::size_t t) { return transpose(layer(m - 1 - t)); });
  r.before.assign(from_input.begin(), from_input.end());              // before[s] = first s layers
  for (std::size_t s = 0; s < m; ++s) r.after.push_back(from_output[m - 1 - s]);  // last M-1-s
  return r;
}

LocalTruth local_truth(const std::vector<std::int64_t>& widths, std::int64_t rank,
                       const std::vector<std::int64_t>& layer_ranks, PartialRanks partial,
                       const Rational& aoyagi) {
  LocalTruth t;
  t.layer_ranks = layer_ranks;
  t.jacobian_rank = jacobian_rank(widths, partial);
  t.partial = std::move(partial);
  t.lambda_smooth = Rational::of(t.jacobian_rank, 2);
  t.lambda_lower = std::max(aoyagi, t.lambda_smooth);
  const bool minimal = std::all_of(layer_ranks.begin(), layer_ranks.end(),
                                   [rank](std::int64_t k) { return k == rank; });
  if (minimal) {
    // On the minimal stratum Aoyagi's value is the local LLC, which is at least rank(J)/2.
    LLCB_CHECK(t.lambda_smooth <= aoyagi, "rank(J)/2 exceeds Aoyagi's value on the minimal stratum");
    t.status = TruthStatus::kExact;
  } else if (t.lambda_smooth > aoyagi) {
    t.status = TruthStatus::kAbove;
  } else {
    t.status = TruthStatus::kGlobal;
  }
  return t;
}

}  // namespace llcb::dln
