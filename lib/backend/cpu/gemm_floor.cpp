#include "lib/backend/cpu/gemm_floor.hpp"

#include <cblas.h>

#include <chrono>
#include <vector>

namespace llcb::backend::cpu {

double measure_sgemm_gflops(int n, int threads, double seconds) {
  openblas_set_num_threads(threads);
  const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  std::vector<float> a(size, 1.0f), b(size, 0.5f), c(size, 0.0f);
  const auto product = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
  };
  product();  // warm-up
  int reps = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    product();
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return 2.0 * n * static_cast<double>(n) * n * reps / elapsed / 1e9;
}

}  // namespace llcb::backend::cpu
