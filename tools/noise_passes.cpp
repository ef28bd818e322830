// How fast a 100K step's noise can be drawn with the generator's own bits (docs/performance.md,
// "Against devinterp, JAX and PyTorch"): d = 390,996 Gaussians a step in the update pass's groups
// of 256 (lib/backend/cpu/update_pass.hpp), timed three ways, ms a step, seven rounds:
//   one-loop     draw_normals as the step runs it (Philox words, then Box-Muller in one loop)
//   short-loops  the same operations on the same words in three short loops (log and square
//                root, then sine and cosine, then the products), the bits checked equal
//   philox       the Philox words alone
//
//     g++ -std=c++20 -O3 -march=native -fno-math-errno -ffp-contract=off -fopenmp -I. \
//         tools/noise_passes.cpp -o out/noise_passes && taskset -c 0 out/noise_passes
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "lib/core/philox_blocks.hpp"

namespace {

using namespace llcb;

void short_loops(std::uint64_t seed, std::uint64_t t, std::uint32_t first_sub, std::int64_t count,
                 float* __restrict out, const BlockWords& words) {
  draw_blocks(seed, Stream::kLangevin, t, first_sub, count, words);
  alignas(64) float r[2][64], s[2][64], c[2][64];
  const std::uint32_t* __restrict w0 = words.w[0];
  const std::uint32_t* __restrict w1 = words.w[1];
  const std::uint32_t* __restrict w2 = words.w[2];
  const std::uint32_t* __restrict w3 = words.w[3];
#pragma omp simd
  for (std::int64_t j = 0; j < count; ++j) {
    r[0][j] = sqrtf_hd(-2.0f * log_f(u01f(w0[j])));
    r[1][j] = sqrtf_hd(-2.0f * log_f(u01f(w2[j])));
  }
#pragma omp simd
  for (std::int64_t j = 0; j < count; ++j) {
    sincos_2pi_f(u01f(w1[j]), s[0][j], c[0][j]);
    sincos_2pi_f(u01f(w3[j]), s[1][j], c[1][j]);
  }
#pragma omp simd
  for (std::int64_t j = 0; j < count; ++j) {
    out[4 * j] = r[0][j] * c[0][j];
    out[4 * j + 1] = r[0][j] * s[0][j];
    out[4 * j + 2] = r[1][j] * c[1][j];
    out[4 * j + 3] = r[1][j] * s[1][j];
  }
}

}  // namespace

int main() {
  constexpr std::int64_t d = 390996, group = 256, steps = 200;
  std::vector<float> a(d + group), b(d + group);
  alignas(64) std::uint32_t words[4][group / 4];
  const BlockWords bw{{words[0], words[1], words[2], words[3]}};
  const char* names[3] = {"one-loop", "short-loops", "philox"};
  for (int round = 0; round < 7; ++round) {
    for (int way = 0; way < 3; ++way) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::uint64_t t = 0; t < steps; ++t) {
        for (std::int64_t i0 = 0; i0 < d; i0 += group) {
          const auto sub = static_cast<std::uint32_t>(i0 >> 2);
          if (way == 0) draw_normals(7, Stream::kLangevin, t, sub, group / 4, a.data() + i0, bw);
          if (way == 1) short_loops(7, t, sub, group / 4, b.data() + i0, bw);
          if (way == 2) draw_blocks(7, Stream::kLangevin, t, sub, group / 4, bw);
        }
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s %.4f ms  ", names[way], ms / steps);
    }
    std::printf("same bits: %s\n", std::memcmp(a.data(), b.data(), d * sizeof(float)) == 0 ? "yes" : "NO");
  }
}
