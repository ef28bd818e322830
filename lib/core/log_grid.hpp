// Log-spaced grids of step sizes: start * 10^(k / per_decade) for k = 0, 1, ... up to stop (the
// sweep configs' step_start/step_stop/per_decade and `llcbench calibrate --grid`).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace llcb {

// Requires 0 < start <= stop and per_decade >= 1 (callers validate); stop is included when it
// lies on the grid (up to 1e-9 of a grid step).
inline std::vector<double> log_grid(double start, double stop, std::int64_t per_decade) {
  const double decades = std::log10(stop / start);
  const auto count = static_cast<std::int64_t>(std::floor(decades * static_cast<double>(per_decade) + 1e-9));
  std::vector<double> steps;
  for (std::int64_t k = 0; k <= count; ++k) {
    steps.push_back(start * std::pow(10.0, static_cast<double>(k) / static_cast<double>(per_decade)));
  }
  return steps;
}

}  // namespace llcb
