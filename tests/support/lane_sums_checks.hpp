// Checks of LaneSums (lib/backend/cpu/lane_sums.hpp) shared by test_lane_sums.cpp (the machine's
// own build) and test_avx2_build.cpp (a build for AVX2, whose lanes sit in vectors of another
// width): header-only, so that each compiles them with its own flags.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/core/random.hpp"

namespace llcb::lane_sums_checks {

// Values of mixed magnitude (so that the order of additions shows in the bits); `run` picks
// another run of them (values(n) and values(n, 1) differ at every index).
inline std::vector<float> values(std::int64_t n, std::uint64_t run = 0) {
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const Normal4f z = normal4f(draw_block(3 + run, Stream::kInput, static_cast<std::uint64_t>(i)));
    x[static_cast<std::size_t>(i)] = z.z[0] * std::exp2(static_cast<float>(i % 23) - 11.0f);
  }
  return x;
}

// Over n values: two sums in float lanes (the values, their squares) and one in double lanes (the
// values), each adding its terms in lane i % kSumLanes in index order and then the lanes in order,
// as a plain scalar loop in that order gives them.
inline void expect_lanes_in_documented_order(std::int64_t n) {
  using backend::cpu::kSumLanes;
  const std::vector<float> x = values(n);
  backend::cpu::LaneSums<float, 2> sums;
  backend::cpu::LaneSums<double, 1> wide;
  sums.add(n, [&](std::int64_t i, float (&t)[2]) {
    t[0] = x[static_cast<std::size_t>(i)];
    t[1] = x[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(i)];
  });
  wide.add(n, [&](std::int64_t i, double (&t)[1]) { t[0] = x[static_cast<std::size_t>(i)]; });
  float lanes[2][kSumLanes] = {};
  double wide_lanes[kSumLanes] = {};
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = x[static_cast<std::size_t>(i)];
    lanes[0][i % kSumLanes] += v;
    lanes[1][i % kSumLanes] += v * v;
    wide_lanes[i % kSumLanes] += v;
  }
  double want[3] = {0, 0, 0};
  for (int l = 0; l < kSumLanes; ++l) {
    want[0] += static_cast<double>(lanes[0][l]);
    want[1] += static_cast<double>(lanes[1][l]);
    want[2] += wide_lanes[l];
  }
  EXPECT_EQ(sums.total(0), want[0]) << n << " values, float sum 0";
  EXPECT_EQ(sums.total(1), want[1]) << n << " values, float sum 1";
  EXPECT_EQ(wide.total(0), want[2]) << n << " values, double sum";
}

}  // namespace llcb::lane_sums_checks
