// How fast a 100K step's noise can be drawn with the generator's own bits (docs/performance.md,
// "Where a 100K step's time goes"): d = 390,996 Gaussians a step, timed eight ways, ms a step,
// seven rounds:
//   one-loop     draw_normals as the step runs it (Philox words, then Box-Muller in one loop), in
//                the update pass's groups of 256 (lib/backend/cpu/update_pass.hpp)
//   short-loops  the same operations on the same words in three short loops (log and square
//                root, then sine and cosine, then the products), the bits checked equal
//   philox       the Philox words alone
//   fma          Box-Muller with its polynomials in explicit multiply-adds (other bits: a new
//                recipe), its largest difference from one-loop printed
//   zig-fast     the fast path alone of a complete 128-layer ziggurat (tools/noise_ziggurat.hpp:
//                Marsaglia and Tsang, its tables in registers read by AVX-512 permutes, the draws
//                it refuses set aside), in groups of 1,024: not a generator, its refused draws
//                are left as drawn
//   ziggurat     that ziggurat whole, in groups of 1,024: the refused 2.73% retried together in
//                vectors until decided; its bits are checked against its one-at-a-time
//                definition, and the mean, variance and tail frequencies of its last round's
//                draws printed with the normal distribution's
//   zig-chunks   the same in groups of 4,096 (a chunk of the update pass, which draws 256 at a
//                time so that drawing overlaps the update's memory traffic), the bits checked equal
//   zig-gather   the fast path of a 256-layer ziggurat whose tables are read with gathers, in
//                groups of 256
// (the last four where the build has AVX-512).
//
//     mkdir -p out && g++ -std=c++20 -O3 -march=native -fno-math-errno -ffp-contract=off -fopenmp -I.
//         tools/noise_passes.cpp -o out/noise_passes && taskset -c 0 out/noise_passes   (one line)
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "lib/core/philox_blocks.hpp"
#if defined(__AVX512F__)
#include "tools/noise_ziggurat.hpp"
#endif

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

// Box-Muller with its polynomials in explicit multiply-adds (fmaf: one rounding each, the same
// on any IEEE machine, but not draw_normals' bits): what fusing would save.
inline float log_fma(float x) {
  const std::uint32_t i = float_bits(x);
  int e = static_cast<int>((i >> 23) & 0xffu) - 126;
  const float m = bits_float((i & 0x007fffffu) | 0x3f000000u);
  const std::uint32_t small = 0u - static_cast<std::uint32_t>(m < 0.707106781186547524f);
  e -= static_cast<int>(small & 1u);
  const float f = bits_float((float_bits(m + m) & small) | (float_bits(m) & ~small)) - 1.0f;
  const float z = f * f;
  float p = std::fma(7.0376836292e-2f, f, -1.1514610310e-1f);
  p = std::fma(p, f, 1.1676998740e-1f);
  p = std::fma(p, f, -1.2420140846e-1f);
  p = std::fma(p, f, 1.4249322787e-1f);
  p = std::fma(p, f, -1.6668057665e-1f);
  p = std::fma(p, f, 2.0000714765e-1f);
  p = std::fma(p, f, -2.4999993993e-1f);
  p = std::fma(p, f, 3.3333331174e-1f);
  const float fe = static_cast<float>(e);
  float y = std::fma(fe, -2.12194440e-4f, f * z * p);
  y = std::fma(-0.5f, z, y);
  return std::fma(fe, 0.693359375f, f + y);
}

inline void box_muller_fma(float u1, float u2, float& z0, float& z1) {
  const float r = std::sqrt(-2.0f * log_fma(u1));
  const float q = u2 * 4.0f;
  const int turns = static_cast<int>(q + 0.5f);
  const float t = (q - static_cast<float>(turns)) * 1.57079632679489662f;
  const float t2 = t * t;
  const float ps = std::fma(std::fma(-1.9515295891e-4f, t2, 8.3321608736e-3f), t2, -1.6666654611e-1f);
  const float st = std::fma(t * t2, ps, t);
  const float pc = std::fma(std::fma(2.443315711809948e-5f, t2, -1.388731625493765e-3f), t2, 4.166664568298827e-2f);
  const float ct = std::fma(t2 * t2, pc, std::fma(-0.5f, t2, 1.0f));
  const int quadrant = turns & 3;
  const float sv = (quadrant & 1) ? ct : st;
  const float cv = (quadrant & 1) ? st : ct;
  z0 = r * bits_float(float_bits(cv) ^ (static_cast<std::uint32_t>((quadrant + 1) & 2) << 30));
  z1 = r * bits_float(float_bits(sv) ^ (static_cast<std::uint32_t>(quadrant & 2) << 30));
}

void fma_loop(std::uint64_t seed, std::uint64_t t, std::uint32_t first_sub, std::int64_t count, float* __restrict out,
              const BlockWords& words) {
  draw_blocks(seed, Stream::kLangevin, t, first_sub, count, words);
  const std::uint32_t* __restrict w0 = words.w[0];
  const std::uint32_t* __restrict w1 = words.w[1];
  const std::uint32_t* __restrict w2 = words.w[2];
  const std::uint32_t* __restrict w3 = words.w[3];
#pragma omp simd
  for (std::int64_t j = 0; j < count; ++j) {
    box_muller_fma(u01f(w0[j]), u01f(w1[j]), out[4 * j], out[4 * j + 1]);
    box_muller_fma(u01f(w2[j]), u01f(w3[j]), out[4 * j + 2], out[4 * j + 3]);
  }
}

#if defined(__AVX512F__)
// GCC 12 warns about its own intrinsics' undefined pass-through operands (as in philox_blocks.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// The layers' right edges x_0 (the base strip's width) .. x_n = 0 for n layers of area v.
std::vector<double> ziggurat_edges(int n, double r, double v) {
  std::vector<double> x(static_cast<std::size_t>(n) + 1, 0.0);
  x[0] = v / std::exp(-0.5 * r * r);
  x[1] = r;
  for (int i = 1; i < n - 1; ++i) x[i + 1] = std::sqrt(-2 * std::log(v / x[i] + std::exp(-0.5 * x[i] * x[i])));
  return x;
}

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
  // The fast path over `count` words of each of the four arrays of `words` (count a multiple of
  // 16), word-array by word-array into out; returns how many draws it would refuse.
  int fast(const BlockWords& words, std::int64_t count, float* out) const {
    int refused = 0;
    for (int a = 0; a < 4; ++a) {
      for (std::int64_t j = 0; j < count; j += 16) {
        const __m512i x = _mm512_loadu_si512(words.w[a] + j);
        const __m512i i = _mm512_and_si512(x, _mm512_set1_epi32(255));
        const __m512i s = _mm512_srai_epi32(x, 8);
        _mm512_storeu_ps(out + a * count + j, _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_i32gather_ps(i, w, 4)));
        refused += 16 - __builtin_popcount(_mm512_cmplt_epi32_mask(_mm512_abs_epi32(s), _mm512_i32gather_epi32(i, k, 4)));
      }
    }
    return refused;
  }
};
#endif

}  // namespace

int main() {
  constexpr std::int64_t d = 390996, group = 256, chunk = 4096, steps = 200;
  [[maybe_unused]] constexpr std::int64_t zig_group = 1024;
  std::vector<float> a(d + chunk), b(d + chunk), c(d + chunk);
  alignas(64) std::uint32_t words[4][group / 4];
  const BlockWords bw{{words[0], words[1], words[2], words[3]}};
#if defined(__AVX512F__)
  const zig::Tables tables;
  static zig::Scratch scratch;
  const ZigGather zig_gather;
  std::vector<float> fast(d + chunk), whole(d + chunk), in_chunks(d + chunk), gathered(d + chunk);
  constexpr int ways = 8;
#else
  constexpr int ways = 4;
#endif
  const char* names[8] = {"one-loop", "short-loops", "philox", "fma", "zig-fast", "ziggurat", "zig-chunks", "zig-gather"};
  for (int round = 0; round < 7; ++round) {
    [[maybe_unused]] long refused_gather = 0;
    for (int way = 0; way < ways; ++way) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::uint64_t t = 0; t < steps; ++t) {
        if (way >= 4 && way <= 6) {
#if defined(__AVX512F__)
          const std::int64_t at_once = way == 6 ? chunk : zig_group;
          std::vector<float>& out = way == 4 ? fast : way == 5 ? whole : in_chunks;
          for (std::int64_t i0 = 0; i0 < d; i0 += at_once) {
            const std::int64_t count = (std::min(at_once, d - i0) + 63) / 64 * 16;  // whole vectors
            zig::draw(tables, 7, t, static_cast<std::uint32_t>(i0 >> 2), count, out.data() + i0, scratch, way != 4);
          }
#endif
          continue;
        }
        for (std::int64_t i0 = 0; i0 < d; i0 += group) {
          const auto sub = static_cast<std::uint32_t>(i0 >> 2);
          if (way == 0) draw_normals(7, Stream::kLangevin, t, sub, group / 4, a.data() + i0, bw);
          if (way == 1) short_loops(7, t, sub, group / 4, b.data() + i0, bw);
          if (way == 2) draw_blocks(7, Stream::kLangevin, t, sub, group / 4, bw);
          if (way == 3) fma_loop(7, t, sub, group / 4, c.data() + i0, bw);
#if defined(__AVX512F__)
          if (way == 7) {
            draw_blocks(7, Stream::kLangevin, t, sub, group / 4, bw);
            refused_gather += zig_gather.fast(bw, group / 4, gathered.data() + i0);
          }
#endif
        }
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s %.4f ms  ", names[way], ms / steps);
    }
    float fma_diff = 0;
    for (std::int64_t e = 0; e < d; ++e) fma_diff = std::max(fma_diff, std::abs(a[static_cast<std::size_t>(e)] - c[static_cast<std::size_t>(e)]));
    std::printf("same bits: %s  fma differs by %.1e at most", std::memcmp(a.data(), b.data(), d * sizeof(float)) == 0 ? "yes" : "NO",
                static_cast<double>(fma_diff));
#if defined(__AVX512F__)
    std::printf("  zig-chunks as ziggurat: %s  zig-gather: %.2f%% to retry",
                std::memcmp(whole.data(), in_chunks.data(), d * sizeof(float)) == 0 ? "yes" : "NO",
                100.0 * refused_gather / (steps * d));
#endif
    std::printf("\n");
  }
#if defined(__AVX512F__)
  // The last round's ziggurat draws (step steps - 1) against the definition, and their moments
  // and tails against N(0, 1)'s (a count of probability p out of d: sd sqrt(d p (1 - p))).
  long differ = 0, refused = 0;
  double m1 = 0, m2 = 0;
  long above[3] = {0, 0, 0};
  const double cut[3] = {2, 3, 3.442619855899};
  for (std::int64_t e = 0; e < d; ++e) {
    const float x = whole[static_cast<std::size_t>(e)];
    const auto t = static_cast<std::uint64_t>(steps - 1);
    differ += float_bits(x) != float_bits(zig::normal(tables, 7, t, static_cast<std::uint64_t>(e)));
    float unused;
    refused += !zig::fast(tables, zig::word_of(7, t, static_cast<std::uint64_t>(e)), unused);
    m1 += x;
    m2 += static_cast<double>(x) * x;
    for (int c = 0; c < 3; ++c) above[c] += std::abs(x) > cut[c];
  }
  std::printf("ziggurat, step %ld: %ld of %ld draws differ from the definition; %.2f%% retried; mean %.4f (sd %.4f), "
              "variance %.4f (sd %.4f)", steps - 1, differ, d, 100.0 * refused / d, m1 / d, 1 / std::sqrt(double(d)), m2 / d,
              std::sqrt(2.0 / d));
  for (int c = 0; c < 3; ++c) {
    const double p = std::erfc(cut[c] / std::sqrt(2.0));
    std::printf("; |z| > %.2f: %ld (%.0f +- %.0f)", cut[c], above[c], d * p, std::sqrt(d * p * (1 - p)));
  }
  std::printf("\n");
#endif
}
