#include "lib/dln/true_llc.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "lib/core/check.hpp"
#include "lib/dln/architecture.hpp"

namespace llcb::dln {

TrueLlc true_llc(const std::vector<std::int64_t>& widths, std::int64_t rank) {
  validate_widths(widths);
  const std::int64_t hmin = min_width(widths);
  if (rank < 0 || rank > hmin) {
    throw UsageError("rank " + std::to_string(rank) + " is outside 0.." + std::to_string(hmin) +
                     " (the rank of the product cannot exceed the smallest width)");
  }
  const std::size_t n = widths.size();  // M + 1

  // Positions sorted by D ascending (stable, so ties keep their order; S never splits ties).
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return widths[a] < widths[b]; });
  std::vector<int128> dsorted(n);
  for (std::size_t i = 0; i < n; ++i) dsorted[i] = widths[order[i]] - rank;

  std::size_t chosen = 0;  // prefix length |S|
  int found = 0;
  int128 prefix = dsorted[0];
  for (std::size_t k = 2; k <= n; ++k) {
    prefix += dsorted[k - 1];
    const int128 l = static_cast<int128>(k) - 1;
    const int128 max_in = dsorted[k - 1];
    const bool everything = k == n;
    const int128 min_out = everything ? 0 : dsorted[k];
    const bool c1 = everything || max_in < min_out;
    const bool c2 = prefix >= l * max_in;
    const bool c3 = everything || prefix < l * min_out;
    if (c1 && c2 && c3) {
      ++found;
      if (found == 1) chosen = k;
    }
  }
  LLCB_CHECK(found == 1, "the LLC subset must exist and be unique, found " + std::to_string(found));

  const int128 l = static_cast<int128>(chosen) - 1;
  int128 t = 0;
  int128 pair_sum = 0;  // sum_{i<j in S} D_i D_j, accumulated as D_j * (sum of earlier D)
  for (std::size_t i = 0; i < chosen; ++i) {
    pair_sum += dsorted[i] * t;
    t += dsorted[i];
  }
  const int128 ceil_t_over_l = (t + l - 1) / l;  // t >= 0, l >= 1
  const int128 a = t - (ceil_t_over_l - 1) * l;
  const int128 r = rank;
  const int128 h_in = widths.front();
  const int128 h_out = widths.back();

  // 4l * lambda = 2l (r (H_1 + H_{M+1}) - r^2) + a (l - a) - (l - 1) T^2 + 2l * pair_sum
  const int128 numerator = 2 * l * (r * (h_in + h_out) - r * r) + a * (l - a) - (l - 1) * t * t +
                           2 * l * pair_sum;

  TrueLlc out;
  out.lambda = Rational::of(numerator, 4 * l);
  out.multiplicity = static_cast<std::int64_t>(a * (l - a) + 1);
  out.l = static_cast<std::int64_t>(l);
  out.d = parameter_count(widths);
  for (std::size_t i = 0; i < chosen; ++i) out.subset.push_back(static_cast<std::int64_t>(order[i]) + 1);
  std::sort(out.subset.begin(), out.subset.end());
  return out;
}

}  // namespace llcb::dln
