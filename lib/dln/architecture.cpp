#include "lib/dln/architecture.hpp"

#include <algorithm>
#include <string>

#include "lib/core/error.hpp"

namespace llcb::dln {

void validate_widths(const std::vector<std::int64_t>& widths) {
  if (widths.size() < 2) {
    throw UsageError("an architecture needs at least two widths (input and output), got " +
                     std::to_string(widths.size()));
  }
  if (static_cast<std::int64_t>(widths.size()) > kMaxLayers + 1) {
    throw UsageError("at most " + std::to_string(kMaxLayers) + " layers are supported, got " +
                     std::to_string(widths.size() - 1));
  }
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (widths[i] < 1 || widths[i] > kMaxWidth) {
      throw UsageError("width " + std::to_string(i + 1) + " is " + std::to_string(widths[i]) +
                       ", expected 1.." + std::to_string(kMaxWidth));
    }
  }
}

std::int64_t parameter_count(const std::vector<std::int64_t>& widths) {
  std::int64_t d = 0;
  for (std::size_t s = 0; s + 1 < widths.size(); ++s) d += widths[s] * widths[s + 1];
  return d;
}

std::int64_t min_width(const std::vector<std::int64_t>& widths) {
  return *std::min_element(widths.begin(), widths.end());
}

}  // namespace llcb::dln
