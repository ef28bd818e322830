// The hardware floor the CPU backend is measured against: achieved sgemm GFLOP/s of OpenBLAS on a
// square n x n x n product (2 n^3 flops each) with the given thread count, and the copy
// bandwidth of `mib` MiB arrays (bytes read + written per second) over the same threads. One
// warm-up run is excluded; runs repeat until `seconds` have passed.
//
// The floor at a step's own shapes (bench, docs/performance.md): the step's GEMMs alone, the same
// calls as a step (DlnModel::step_gemms: shapes, transposes, the row blocks that split them over
// the threads), and the update's memory traffic alone: one pass over d parameters that reads w,
// g and w* and the sampler's `states` state arrays and writes w and the states, as the fused
// update does, with a single multiply-add instead of its noise and arithmetic. Each is the mean
// milliseconds of one run over the repetitions.
//
// Beside that floor, the step's random draws alone (measure_draws_ms): the normals of d
// parameters, drawn as the update pass draws them (for_each_noise_group over its chunks), and the
// inputs of `batch` rows of h_in coordinates (dln::sample_input_host), split over the threads as
// the step splits them (dln::sample_inputs_host). They are work every step must do, not memory
// traffic, so the shape floor leaves them out and bench shows them apart. The minibatch's indices
// (a few hundred evaluations of a permutation) are left out of both.
//
// The core-to-core handoff (measure_handoff, threads >= 2): each thread writes its share of a
// `mib` MiB array, then, after a barrier, reads the next thread's share (across_gbs) or, as a
// control with the same barriers and traffic, its own (own_gbs); each is the array's bytes over
// the time to write them and read them once, in GB/s, timed for half of `seconds`; both NaN (not
// measured) where OpenMP runs any repetition of either with a team of fewer than two threads. A
// step on several threads hands data across like this (each thread computes its rows of every
// product, then reads all rows of the inputs, the weights and the output gradient), which the
// shape floor, repeating its GEMMs on unchanged data, does not pay; where across_gbs is far
// below own_gbs, that handoff is what is slow.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "lib/backend/backend.hpp"

namespace llcb::backend::cpu {

double measure_sgemm_gflops(int n, int threads, double seconds);
double measure_copy_gbs(int mib, int threads, double seconds);
double measure_step_gemms_ms(const std::vector<std::int64_t>& widths, const TeacherData& teacher,
                             std::int64_t batch, std::int64_t cut, bool batch_halves, int threads,
                             double seconds);
double measure_update_traffic_ms(std::int64_t d, int states, int threads, double seconds);
double measure_draws_ms(std::int64_t d, std::int64_t batch, std::int64_t h_in, int threads, double seconds);
struct Handoff {  // NaN: not measured
  double across_gbs = std::numeric_limits<double>::quiet_NaN();
  double own_gbs = std::numeric_limits<double>::quiet_NaN();
};
Handoff measure_handoff(int mib, int threads, double seconds);

}  // namespace llcb::backend::cpu
