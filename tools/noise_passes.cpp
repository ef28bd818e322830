// How fast a 100K step's noise can be drawn with the generator's own bits (docs/performance.md,
// "Against devinterp, JAX and PyTorch"): d = 390,996 Gaussians a step in the update pass's groups
// of 256 (lib/backend/cpu/update_pass.hpp), timed five ways, ms a step, seven rounds:
//   one-loop     draw_normals as the step runs it (Philox words, then Box-Muller in one loop)
//   short-loops  the same operations on the same words in three short loops (log and square
//                root, then sine and cosine, then the products), the bits checked equal
//   philox       the Philox words alone
//   zig-fast     what a cheaper Gaussian could cost: the fast path alone of a 128-layer ziggurat
//                (Marsaglia and Tsang) on the same words, its tables in registers (AVX-512
//                permutes). Not a generator: the 2.8% of draws it would reject are left as
//                drawn, so its mean and variance are printed only to show the scale is right.
//   zig-gather   the same with 256 layers, its tables read with AVX-512 gathers
// (the last two where the build has AVX-512).
//
//     g++ -std=c++20 -O3 -march=native -fno-math-errno -ffp-contract=off -fopenmp -I. tools/noise_passes.cpp
//         -o out/noise_passes && taskset -c 0 out/noise_passes      (one command line)
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <chrono>
#include <cmath>
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

#if defined(__AVX512F__)
// GCC 12 warns about its own intrinsics' undefined pass-through operands (as in philox_blocks.hpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The layers' right edges x_0 (the base strip's width) .. x_n = 0 for n layers of area v.
std::vector<double> ziggurat_edges(int n, double r, double v) {
  std::vector<double> x(static_cast<std::size_t>(n) + 1, 0.0);
  x[0] = v / std::exp(-0.5 * r * r);
  x[1] = r;
  for (int i = 1; i < n - 1; ++i) x[i + 1] = std::sqrt(-2 * std::log(v / x[i] + std::exp(-0.5 * x[i] * x[i])));
  return x;
}

// The fast path over `count` words of each of the four arrays of `words` (count a multiple of
// 16) into 4 count normals: draw(x, z) turns 16 words into 16 draws and returns the lanes it
// accepts. Returns how many it would reject.
template <class Draw>
int fast_path(const BlockWords& words, std::int64_t count, float* out, Draw draw) {
  int rejected = 0;
  for (int a = 0; a < 4; ++a) {
    for (std::int64_t j = 0; j < count; j += 16) {
      __m512 z;
      const __mmask16 ok = draw(_mm512_loadu_si512(words.w[a] + j), z);
      _mm512_storeu_ps(out + a * count + j, z);
      rejected += 16 - __builtin_popcount(ok);
    }
  }
  return rejected;
}

// Layer i of 128 (r = 3.442619855899, v = 9.91256303526217e-3): draw x = s x_i / 2^24 from the
// signed top 25 bits s of a word whose low 7 bits pick i; accept when |s| < 2^24 x_{i+1} / x_i.
struct Zig {
  __m512 w[8], k[8];  // x_i / 2^24 and 2^24 x_{i+1} / x_i, 16 layers a register
  Zig() {
    const std::vector<double> x = ziggurat_edges(128, 3.442619855899, 9.91256303526217e-3);
    alignas(64) float wt[128], kt[128];
    for (int i = 0; i < 128; ++i) {
      wt[i] = static_cast<float>(x[i] * 0x1p-24);
      kt[i] = static_cast<float>(std::floor(0x1p24 * x[i + 1] / x[i]));
    }
    for (int q = 0; q < 8; ++q) {
      w[q] = _mm512_load_ps(wt + 16 * q);
      k[q] = _mm512_load_ps(kt + 16 * q);
    }
  }
  static __m512 lookup(const __m512 (&t)[8], __m512i i) {
    const __mmask16 b5 = _mm512_test_epi32_mask(i, _mm512_set1_epi32(32));
    const __mmask16 b6 = _mm512_test_epi32_mask(i, _mm512_set1_epi32(64));
    return _mm512_mask_blend_ps(b6, _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t[0], i, t[1]),
                                                         _mm512_permutex2var_ps(t[2], i, t[3])),
                                _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t[4], i, t[5]),
                                                     _mm512_permutex2var_ps(t[6], i, t[7])));
  }
  int fast(const BlockWords& words, std::int64_t count, float* out) const {
    return fast_path(words, count, out, [this](__m512i x, __m512& z) {
      const __m512i i = _mm512_and_si512(x, _mm512_set1_epi32(127));
      const __m512 s = _mm512_cvtepi32_ps(_mm512_srai_epi32(x, 7));
      z = _mm512_mul_ps(s, lookup(w, i));
      return _mm512_cmp_ps_mask(_mm512_abs_ps(s), lookup(k, i), _CMP_LT_OQ);
    });
  }
};

// 256 layers (r = 3.6541528853610088, v = 4.92867323399e-3): the low 8 bits pick the layer, the
// signed top 24 bits s give x = s x_i / 2^23; the tables are read with gathers.
struct ZigGather {
  alignas(64) float w[256];
  alignas(64) std::int32_t k[256];
  ZigGather() {
    const std::vector<double> x = ziggurat_edges(256, 3.6541528853610088, 4.92867323399e-3);
    for (int i = 0; i < 256; ++i) {
      w[i] = static_cast<float>(x[i] * 0x1p-23);
      k[i] = static_cast<std::int32_t>(std::floor(0x1p23 * x[i + 1] / x[i]));
    }
  }
  int fast(const BlockWords& words, std::int64_t count, float* out) const {
    return fast_path(words, count, out, [this](__m512i x, __m512& z) {
      const __m512i i = _mm512_and_si512(x, _mm512_set1_epi32(255));
      const __m512i s = _mm512_srai_epi32(x, 8);
      z = _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_i32gather_ps(i, w, 4));
      return _mm512_cmplt_epi32_mask(_mm512_abs_epi32(s), _mm512_i32gather_epi32(i, k, 4));
    });
  }
};
#endif

}  // namespace

int main() {
  constexpr std::int64_t d = 390996, group = 256, steps = 200;
  std::vector<float> a(d + group), b(d + group);
  alignas(64) std::uint32_t words[4][group / 4];
  const BlockWords bw{{words[0], words[1], words[2], words[3]}};
#if defined(__AVX512F__)
  const Zig zig;
  const ZigGather zig_gather;
  std::vector<float> z(d + group), z2(d + group);
  constexpr int ways = 5;
#else
  constexpr int ways = 3;
#endif
  const char* names[5] = {"one-loop", "short-loops", "philox", "zig-fast", "zig-gather"};
  for (int round = 0; round < 7; ++round) {
    long rejected = 0, rejected_gather = 0;
    for (int way = 0; way < ways; ++way) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::uint64_t t = 0; t < steps; ++t) {
        for (std::int64_t i0 = 0; i0 < d; i0 += group) {
          const auto sub = static_cast<std::uint32_t>(i0 >> 2);
          if (way == 0) draw_normals(7, Stream::kLangevin, t, sub, group / 4, a.data() + i0, bw);
          if (way == 1) short_loops(7, t, sub, group / 4, b.data() + i0, bw);
          if (way == 2) draw_blocks(7, Stream::kLangevin, t, sub, group / 4, bw);
#if defined(__AVX512F__)
          if (way == 3) {
            draw_blocks(7, Stream::kLangevin, t, sub, group / 4, bw);
            rejected += zig.fast(bw, group / 4, z.data() + i0);
          }
          if (way == 4) {
            draw_blocks(7, Stream::kLangevin, t, sub, group / 4, bw);
            rejected_gather += zig_gather.fast(bw, group / 4, z2.data() + i0);
          }
#endif
        }
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s %.4f ms  ", names[way], ms / steps);
    }
    std::printf("same bits: %s", std::memcmp(a.data(), b.data(), d * sizeof(float)) == 0 ? "yes" : "NO");
#if defined(__AVX512F__)
    double s1 = 0, s2 = 0;
    for (std::int64_t i = 0; i < d; ++i) {
      s1 += z[static_cast<std::size_t>(i)];
      s2 += static_cast<double>(z[static_cast<std::size_t>(i)]) * z[static_cast<std::size_t>(i)];
    }
    std::printf("  zig-fast: %.2f%% to reject, mean %.4f, variance %.4f; zig-gather: %.2f%% to reject",
                100.0 * rejected / (steps * d), s1 / d, s2 / d, 100.0 * rejected_gather / (steps * d));
#endif
    std::printf("\n");
  }
}
