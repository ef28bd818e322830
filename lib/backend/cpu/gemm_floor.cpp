#include "lib/backend/cpu/gemm_floor.hpp"

#include <cblas.h>
#include <omp.h>

#include <chrono>
#include <vector>

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

double measure_sgemm_gflops(int n, int threads, double seconds) {
  openblas_set_num_threads(threads);
  const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  std::vector<float> a(size, 1.0f), b(size, 0.5f), c(size, 0.0f);
  const auto product = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  const auto [reps, elapsed] = repeat_for(seconds, product);
  return 2.0 * n * static_cast<double>(n) * n * reps / elapsed / 1e9;
}

}  // namespace llcb::backend::cpu
