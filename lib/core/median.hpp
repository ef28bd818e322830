// The median of a sample (the mean of the two middle values of an even count); NaN when empty or
// when any value is NaN (which has no place in the order).
#pragma once

#include <algorithm>
#include <limits>
#include <vector>

namespace llcb {

inline double median(std::vector<double> v) {
  if (v.empty() || std::any_of(v.begin(), v.end(), [](double x) { return x != x; })) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace llcb
