// A complete 128-layer ziggurat (Marsaglia and Tsang, J. Stat. Softw. 5(8), 2000) on the step's
// Philox words, for tools/noise_passes.cpp: what a cheaper Gaussian than Box-Muller would cost as
// a noise recipe (docs/performance.md, "Where a 100K step's time goes"). An experiment, not used by
// llcbench; noise_passes checks its bits against the scalar definition and its distribution.
//
// The recipe it would be: parameter e of a step takes one word of the kLangevin block of its step,
// in word order (in each run of 64 parameters, 16 consecutive ones take word k of 16 consecutive
// blocks, so a vector of 16 words gives 16 consecutive parameters): block 16 (e / 64) + e % 16,
// word (e / 16) % 4. Layer i = w & 127, s = the signed top 25 bits, x = s x_i / 2^24, accepted at
// once where |s| < 2^24 x_{i+1} / x_i (97.2% of words). Otherwise retries a = 0, 1, ..., each with
// its own Philox block (a second stream, addressed by step, parameter and attempt, so every draw
// is a pure function of them): in the base strip, |x| < r accepts, else a tail sample r + xt,
// xt = -ln(u0) / r, accepted where -2 ln(u1) > xt^2, else again with the next block; in the layers
// above, the wedge test f(x_i) + u0 (f(x_{i+1}) - f(x_i)) < f(x), else the block's word 2 as a new
// word (its own fast test first).
//
// Many at once (draw): the fast path 16 blocks a vector, the tables in registers read by AVX-512
// permutes; the refused draws (2.73%) set aside with their parameters, then retried together, one
// retry block each a round, branch-free in vectors of 16, until every draw is decided.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "lib/core/philox_blocks.hpp"

// GCC 12 warns about its own intrinsics' undefined pass-through operands (as in philox_blocks.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace zig {

using llcb::PhiloxBlock;
using llcb::bits_float;
using llcb::float_bits;

constexpr float kR = 3.442619855899f;
constexpr float kInvR = 1.0f / 3.442619855899f;
constexpr auto kRetryStream = static_cast<llcb::Stream>(0x4c525459u);  // "LRTY"

// x_i / 2^24, floor(2^24 x_{i+1} / x_i) and f(x_i) = exp(-x_i^2 / 2) for the layers' right edges
// x_0 = v / f(r) > x_1 = r > ... > x_128 = 0, computed in double and rounded once.
struct Tables {
  float w[128];
  std::int32_t k[128];
  float f[129];
  Tables() {
    const double r = 3.442619855899, v = 9.91256303526217e-3;
    const auto f_of = [](double x) { return std::exp(-0.5 * x * x); };
    double x[129];
    x[0] = v / f_of(r);
    x[1] = r;
    for (int i = 1; i < 127; ++i) x[i + 1] = std::sqrt(-2 * std::log(v / x[i] + f_of(x[i])));
    x[128] = 0;
    for (int i = 0; i < 128; ++i) {
      w[i] = static_cast<float>(x[i] * 0x1p-24);
      k[i] = static_cast<std::int32_t>(std::floor(0x1p24 * x[i + 1] / x[i]));
    }
    for (int i = 0; i <= 128; ++i) f[i] = static_cast<float>(f_of(x[i]));
  }
};

// e^x for x in [-87, 0], branch-free (the Cephes polynomial; 2^k put into the exponent bits).
inline float exp_f(float x) {
  const int k = static_cast<int>(x * 1.44269504088896341f - 0.5f);
  const float fk = static_cast<float>(k);
  float f = x - fk * 0.693359375f;
  f = f - fk * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * f + 1.3981999507e-3f;
  p = p * f + 8.3334519073e-3f;
  p = p * f + 4.1665795894e-2f;
  p = p * f + 1.6666665459e-1f;
  p = p * f + 5.0000001201e-1f;
  const float y = (p * (f * f) + f) + 1.0f;
  return y * bits_float(static_cast<std::uint32_t>(k + 127) << 23);
}

inline bool fast(const Tables& tb, std::uint32_t w, float& z) {
  const int i = static_cast<int>(w & 127u);
  const std::int32_t s = static_cast<std::int32_t>(w) >> 7;
  z = static_cast<float>(s) * tb.w[i];
  return (s < 0 ? -s : s) < tb.k[i];
}

inline PhiloxBlock retry_block(std::uint64_t seed, std::uint64_t t, std::uint64_t e, std::uint32_t a) {
  const std::uint64_t q = 4u * static_cast<std::uint64_t>(a) + (e & 3u);
  return llcb::draw_block(seed, kRetryStream, t | (q << 38), static_cast<std::uint32_t>(e >> 2));
}

// The table entries a retry reads (its word's layer, the fresh word's), looked up before a
// vectorised loop of retries, whose compiler would otherwise read them a lane at a time.
struct Entries {
  float w, f, f_next, fresh_w;
  std::int32_t fresh_k;
};

inline Entries entries(const Tables& tb, std::uint32_t w, std::uint32_t fresh) {
  const int i = static_cast<int>(w & 127u), j = static_cast<int>(fresh & 127u);
  return Entries{tb.w[i], tb.f[i], tb.f[i + 1], tb.w[j], tb.k[j]};
}

// One retry of word w with block b: true with z where it decides; w becomes the word to go on
// with. Branch-free, selected by bit masks (GCC vectorises a loop of these, not of float ?:).
inline bool retry(std::uint32_t& w, PhiloxBlock b, Entries tb, float& z) {
  const std::int32_t s = static_cast<std::int32_t>(w) >> 7;
  const float x = static_cast<float>(s) * tb.w;
  const std::uint32_t sign = float_bits(x) & 0x80000000u;
  const float u0 = llcb::u01f(b.v[0]);
  const bool base = (w & 127u) == 0;
  const bool core = bits_float(float_bits(x) ^ sign) < kR;
  const float xt = -llcb::log_f(u0) * kInvR;
  const float yt = -llcb::log_f(llcb::u01f(b.v[1]));
  const bool tail_ok = yt + yt > xt * xt;
  const float tail = bits_float(float_bits(kR + xt) | sign);
  const float y = tb.f + u0 * (tb.f_next - tb.f);
  const bool wedge_ok = y < exp_f(-0.5f * (x * x));
  const std::int32_t s_fresh = static_cast<std::int32_t>(b.v[2]) >> 7;
  const float fresh = static_cast<float>(s_fresh) * tb.fresh_w;
  const bool fresh_ok = (s_fresh < 0 ? -s_fresh : s_fresh) < tb.fresh_k;
  const std::uint32_t take_base = 0u - static_cast<std::uint32_t>(base);
  const std::uint32_t take_x = 0u - static_cast<std::uint32_t>(base ? core : wedge_ok);
  const std::uint32_t other = (float_bits(tail) & take_base) | (float_bits(fresh) & ~take_base);
  z = bits_float((float_bits(x) & take_x) | (other & ~take_x));
  const std::uint32_t keep = take_base | (0u - static_cast<std::uint32_t>(wedge_ok));
  w = (w & keep) | (b.v[2] & ~keep);
  return (base & (core | tail_ok)) | ((!base) & (wedge_ok | fresh_ok));
}

// Parameter e's word at step t: block 16 (e / 64) + e % 16, word (e / 16) % 4.
inline std::uint32_t word_of(std::uint64_t seed, std::uint64_t t, std::uint64_t e) {
  const std::uint64_t block = 16 * (e / 64) + e % 16;
  return llcb::draw_block(seed, llcb::Stream::kLangevin, t, static_cast<std::uint32_t>(block)).v[(e / 16) % 4];
}

// The definition, one draw at a time: parameter e at step t of `seed`.
inline float normal(const Tables& tb, std::uint64_t seed, std::uint64_t t, std::uint64_t e) {
  std::uint32_t w = word_of(seed, t, e);
  float z;
  if (fast(tb, w, z)) return z;
  for (std::uint32_t a = 0;; ++a) {
    const PhiloxBlock b = retry_block(seed, t, e, a);
    if (retry(w, b, entries(tb, w, b.v[2]), z)) return z;
  }
}

constexpr std::int64_t kMaxBlocks = 1024;  // 4,096 draws, a chunk of the update pass

struct Scratch {  // about 150 KiB
  static constexpr std::int64_t kRoom = 4 * kMaxBlocks + 16;
  alignas(64) std::uint32_t words[4][kMaxBlocks + 16];  // rows 4 KiB + 64 B apart, not in one L1 set
  alignas(64) std::uint32_t at[kRoom], word[kRoom];
  alignas(64) std::uint32_t block[3][kRoom];
  alignas(64) float z[kRoom], ew[kRoom], ef[kRoom], ef_next[kRoom], efresh_w[kRoom];
  alignas(64) std::int32_t efresh_k[kRoom];
  alignas(64) std::uint8_t done[kRoom];
};

struct Registers {
  __m512 w[8], k[8];
  explicit Registers(const Tables& tb) {
    for (int q = 0; q < 8; ++q) {
      w[q] = _mm512_loadu_ps(tb.w + 16 * q);
      k[q] = _mm512_cvtepi32_ps(_mm512_loadu_si512(tb.k + 16 * q));
    }
  }
};

inline __m512 lookup(const __m512 (&t)[8], __m512i i) {
  const __mmask16 b5 = _mm512_test_epi32_mask(i, _mm512_set1_epi32(32));
  const __mmask16 b6 = _mm512_test_epi32_mask(i, _mm512_set1_epi32(64));
  return _mm512_mask_blend_ps(b6,
                              _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t[0], i, t[1]),
                                                   _mm512_permutex2var_ps(t[2], i, t[3])),
                              _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(t[4], i, t[5]),
                                                   _mm512_permutex2var_ps(t[6], i, t[7])));
}

// Retry blocks of attempt a for pending draws p .. p + 15, 16 at once.
inline void retry_blocks16(std::uint64_t seed, std::uint64_t t, std::uint64_t first_e, std::uint32_t a,
                           Scratch& s, std::int64_t p, std::int64_t pending) {
  const int valid = static_cast<int>(pending - p < 16 ? pending - p : 16);
  const __m512i at = _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << valid) - 1u), s.at + p);
  __m512i x0[2], x1[2], x2[2], x3[2];
  for (int h = 0; h < 2; ++h) {
    const __m512i e = _mm512_add_epi64(_mm512_cvtepu32_epi64(h == 0 ? _mm512_castsi512_si256(at) : _mm512_extracti64x4_epi64(at, 1)),
                                       _mm512_set1_epi64(static_cast<std::int64_t>(first_e)));
    const __m512i q = _mm512_add_epi64(_mm512_and_si512(e, _mm512_set1_epi64(3)), _mm512_set1_epi64(4 * static_cast<std::int64_t>(a)));
    x0[h] = _mm512_set1_epi64(static_cast<std::uint32_t>(t));
    x1[h] = _mm512_or_si512(_mm512_set1_epi64(static_cast<std::int64_t>(t >> 32)), _mm512_slli_epi64(q, 6));
    x2[h] = _mm512_srli_epi64(e, 2);
    x3[h] = _mm512_set1_epi64(static_cast<std::int64_t>(kRetryStream));
  }
  llcb::philox_detail::rounds8<2>(x0, x1, x2, x3, llcb::key_from_seed(seed));
  const __m512i pack = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  _mm512_storeu_si512(s.block[0] + p, _mm512_permutex2var_epi32(x0[0], pack, x0[1]));
  _mm512_storeu_si512(s.block[1] + p, _mm512_permutex2var_epi32(x1[0], pack, x1[1]));
  _mm512_storeu_si512(s.block[2] + p, _mm512_permutex2var_epi32(x2[0], pack, x2[1]));
}

// The draws of parameters 4 first_block .. 4 (first_block + count) - 1 at step t (normal's bits):
// first_block and count multiples of 16, count <= kMaxBlocks. With retries false, the fast path
// alone (its refused draws left as drawn, not a generator: for timing it apart).
inline void draw(const Tables& tb, std::uint64_t seed, std::uint64_t t, std::uint32_t first_block, std::int64_t count,
                 float* __restrict out, Scratch& s, bool retries = true) {
  llcb::draw_blocks(seed, llcb::Stream::kLangevin, t, first_block, count,
                    llcb::BlockWords{{s.words[0], s.words[1], s.words[2], s.words[3]}});
  const Registers reg(tb);
  std::int64_t pending = 0;
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (std::int64_t j = 0; j < count; j += 16) {
    for (int k = 0; k < 4; ++k) {
      const __m512i x = _mm512_load_si512(s.words[k] + j);
      const __m512i i = _mm512_and_si512(x, _mm512_set1_epi32(127));
      const __m512 sf = _mm512_cvtepi32_ps(_mm512_srai_epi32(x, 7));
      _mm512_storeu_ps(out + 4 * j + 16 * k, _mm512_mul_ps(sf, lookup(reg.w, i)));
      const auto refused = static_cast<__mmask16>(~_mm512_cmp_ps_mask(_mm512_abs_ps(sf), lookup(reg.k, i), _CMP_LT_OQ));
      // Set aside unconditionally: a third of the vectors refuse a draw, a branch no predictor
      // learns (branching on it, or finding the lanes from stored masks, cost twice as much).
      const __m512i at = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int>(4 * j + 16 * k)));
      _mm512_storeu_si512(s.at + pending, _mm512_maskz_compress_epi32(refused, at));
      _mm512_storeu_si512(s.word + pending, _mm512_maskz_compress_epi32(refused, x));
      pending += __builtin_popcount(refused);
    }
  }
  if (!retries) return;
  const std::uint64_t first_e = 4 * static_cast<std::uint64_t>(first_block);
  for (std::uint32_t a = 0; pending > 0; ++a) {
    // Whole vectors of 16 (the padding lanes decide garbage nobody reads): the loop never runs
    // a scalar remainder.
    const std::int64_t padded = (pending + 15) & ~std::int64_t{15};
    for (std::int64_t q = pending; q < padded; ++q) s.word[q] = 0;
    for (std::int64_t p = 0; p < pending; p += 16) retry_blocks16(seed, t, first_e, a, s, p, pending);
    for (std::int64_t q = 0; q < padded; ++q) {
      const Entries e = entries(tb, s.word[q], s.block[2][q]);
      s.ew[q] = e.w;
      s.ef[q] = e.f;
      s.ef_next[q] = e.f_next;
      s.efresh_w[q] = e.fresh_w;
      s.efresh_k[q] = e.fresh_k;
    }
    for (std::int64_t q0 = 0; q0 < padded; q0 += 16) {
#pragma omp simd
      for (std::int64_t q = q0; q < q0 + 16; ++q) {
        std::uint32_t w = s.word[q];
        float z;
        s.done[q] = retry(w, PhiloxBlock{{s.block[0][q], s.block[1][q], s.block[2][q], 0u}},
                          Entries{s.ew[q], s.ef[q], s.ef_next[q], s.efresh_w[q], s.efresh_k[q]}, z);
        s.word[q] = w;
        s.z[q] = z;
      }
    }
    std::int64_t kept = 0;
    for (std::int64_t q = 0; q < pending; ++q) {
      if (s.done[q]) {
        out[s.at[q]] = s.z[q];
      } else {
        s.at[kept] = s.at[q];
        s.word[kept++] = s.word[q];
      }
    }
    pending = kept;
  }
}

}  // namespace zig

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
