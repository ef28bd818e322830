#include "lib/backend/cpu/gemm_floor.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cmath>
#include <limits>
#include <vector>

#include "lib/backend/cpu/dln_model.hpp"
#include "lib/backend/cpu/update_pass.hpp"
#include "lib/core/check.hpp"
#include "lib/dln/dataset.hpp"
#include "lib/dln/linalg.hpp"

namespace llcb::backend::cpu {

namespace {

// Runs f once untimed, then until `seconds` have passed; returns (runs, elapsed seconds).
template <class F>
std::pair<int, double> repeat_for(double seconds, F&& f) {
  f();
  int reps = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    f();
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return {reps, elapsed};
}

}  // namespace

double measure_copy_gbs(int mib, int threads, double seconds) {
  const std::size_t n = static_cast<std::size_t>(mib) << 18;  // floats
  std::vector<float> a(n, 1.0f), b(n, 0.0f);
  const auto [reps, elapsed] = repeat_for(seconds, [&] {
#pragma omp parallel for schedule(static) num_threads(threads > 0 ? threads : omp_get_num_procs())
    for (std::size_t i = 0; i < n; ++i) b[i] = a[i];
  });
  return 2.0 * static_cast<double>(n) * sizeof(float) * reps / elapsed / 1e9;
}

namespace {

// Handoff::across_gbs (across) or Handoff::own_gbs (!across) over an n-float array: each thread
// of the team writes its share, then after a barrier reads the next thread's share or its own.
// NaN when OpenMP gives any run a team of fewer than two threads.
double write_then_read_gbs(std::size_t n, int threads, bool across, double seconds) {
  std::vector<float> a(n, 0.0f);
  std::vector<double> seen(static_cast<std::size_t>(threads), 0.0);  // keeps the reads
  std::size_t team = SIZE_MAX;  // the smallest team of any run
  float value = 0.0f;
  const auto [reps, elapsed] = repeat_for(seconds, [&] {
    value += 1.0f;
#pragma omp parallel num_threads(threads)
    {
      const auto nt = static_cast<std::size_t>(omp_get_num_threads());
      const auto t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t share = n / nt;
      float* mine = a.data() + t * share;
#pragma omp simd
      for (std::size_t i = 0; i < share; ++i) mine[i] = value;
#pragma omp barrier
      const float* read = a.data() + (across ? (t + 1) % nt : t) * share;
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (std::size_t i = 0; i < share; ++i) sum += read[i];
      seen[t] += sum;
      if (t == 0) team = std::min(team, nt);
    }
  });
  if (team < 2) return std::numeric_limits<double>::quiet_NaN();
  LLCB_CHECK(seen[0] > 0, "the handoff measurement read nothing");
  return static_cast<double>(n / team * team) * sizeof(float) * reps / elapsed / 1e9;
}

}  // namespace

Handoff measure_handoff(int mib, int threads, double seconds) {
  const std::size_t n = static_cast<std::size_t>(mib) << 18;  // floats
  const double across = write_then_read_gbs(n, threads, true, seconds / 2);
  const double own = write_then_read_gbs(n, threads, false, seconds / 2);
  if (std::isnan(across) || std::isnan(own)) return {};  // measured together or not at all
  return {across, own};
}

double measure_sgemm_gflops(int n, int threads, double seconds) {
  dln::set_blas_threads(threads);
  const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  std::vector<float> a(size, 1.0f), b(size, 0.5f), c(size, 0.0f);
  const auto product = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  const auto [reps, elapsed] = repeat_for(seconds, product);
  return 2.0 * n * static_cast<double>(n) * n * reps / elapsed / 1e9;
}

double measure_step_gemms_ms(const std::vector<std::int64_t>& widths, const TeacherData& teacher,
                             std::int64_t batch, std::int64_t cut, bool batch_halves, int threads,
                             double seconds) {
  dln::set_blas_threads(threads);  // OpenMP's threads too
  DlnModel model(widths, batch, 0, cut, batch_halves);
  std::vector<float> grad(static_cast<std::size_t>(model.d()));
  std::fill(model.inputs(), model.inputs() + batch * widths.front(), 0.5f);
  const auto [reps, elapsed] = repeat_for(seconds, [&] { model.step_gemms(teacher, teacher.center.data(), grad.data()); });
  return 1e3 * elapsed / reps;
}

double measure_update_traffic_ms(std::int64_t d, int states, int threads, double seconds) {
  const auto n = static_cast<std::size_t>(d);
  std::vector<float> w(n, 1.0f), g(n, 0.5f), w0(n, 1.0f), s0(states > 0 ? n : 0, 0.0f), s1(states > 1 ? n : 0, 0.0f);
  float* __restrict pw = w.data();
  const float* __restrict pg = g.data();
  const float* __restrict p0 = w0.data();
  float* __restrict q0 = s0.data();
  float* __restrict q1 = s1.data();
  const int nt = threads > 0 ? threads : omp_get_num_procs();
  const auto [reps, elapsed] = repeat_for(seconds, [&] {
#pragma omp parallel for simd schedule(static) num_threads(nt)
    for (std::int64_t i = 0; i < d; ++i) {
      float v = pw[i] + 1e-9f * (pg[i] - p0[i]);
      if (states > 0) {
        q0[i] = 0.5f * q0[i] + v;
        v += 1e-9f * q0[i];
      }
      if (states > 1) {
        q1[i] = 0.5f * q1[i] + v;
        v += 1e-9f * q1[i];
      }
      pw[i] = v;
    }
  });
  return 1e3 * elapsed / reps;
}

double measure_draws_ms(std::int64_t d, std::int64_t batch, std::int64_t h_in, int threads, double seconds) {
  dln::set_blas_threads(threads > 0 ? threads : omp_get_num_procs());  // OpenMP's threads too
  const std::int64_t chunks = lane_chunks(d);
  std::vector<float> x(static_cast<std::size_t>(batch * h_in));
  std::vector<std::uint64_t> idx(static_cast<std::size_t>(batch));
  std::int64_t t = 0;
  const auto [reps, elapsed] = repeat_for(seconds, [&] {
    ++t;
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
      const std::int64_t begin = c * kLaneChunk, len = std::min(d, begin + kLaneChunk) - begin;
      for_each_noise_group(1, t, begin, len, [](std::int64_t, std::int64_t, const float* xi) {
        // The compiler must assume that all of xi is read here, so it cannot leave any draw out.
        asm volatile("" : : "r"(xi) : "memory");
      });
    }
    for (std::int64_t r = 0; r < batch; ++r) idx[static_cast<std::size_t>(r)] = static_cast<std::uint64_t>(t * batch + r);
    dln::sample_inputs_host(1, idx.data(), batch, h_in, x.data());
  });
  return 1e3 * elapsed / reps;
}

}  // namespace llcb::backend::cpu
