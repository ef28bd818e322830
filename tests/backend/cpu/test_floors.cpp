// The CPU backend's floor measurements (lib/backend/cpu/gemm_floor.hpp): what they report where
// they can measure, and that they say "not measured" (NaN) where they cannot.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "lib/backend/cpu/cpu_backend.hpp"
#include "lib/backend/cpu/gemm_floor.hpp"

namespace llcb::backend::cpu {
namespace {

TEST(Handoff, IsMeasuredAcrossAndOwnOnATeamOfTwo) {
  const Handoff h = measure_handoff(1, 2, 0.05);
  EXPECT_GT(h.across_gbs, 0);
  EXPECT_GT(h.own_gbs, 0);
  EXPECT_TRUE(std::isfinite(h.across_gbs) && std::isfinite(h.own_gbs));
}

// Inside an active parallel region with nesting off, OpenMP gives the measurement's regions a
// team of one: nothing is handed over, so neither figure is a number (never one without the other).
TEST(Handoff, IsNotMeasuredOnATeamOfOne) {
  const int levels = omp_get_max_active_levels();
  omp_set_max_active_levels(1);
  Handoff h{0, 0};
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    h = measure_handoff(1, 2, 0.02);
  }
  omp_set_max_active_levels(levels);
  EXPECT_TRUE(std::isnan(h.across_gbs));
  EXPECT_TRUE(std::isnan(h.own_gbs));
}

TEST(Handoff, ABackendOfOneThreadHasNothingToHandOver) {
  const CpuBackend one(1);
  const Handoff h = one.measure_handoff(1, 0.02);
  EXPECT_TRUE(std::isnan(h.across_gbs));
  EXPECT_TRUE(std::isnan(h.own_gbs));
}

}  // namespace
}  // namespace llcb::backend::cpu
