// Many consecutive Philox4x32-10 blocks of one stream at once, on the CPU: blocks
// first_sub .. first_sub + count - 1 (the `sub` counter word) of draw_block(seed, stream, index),
// word k of block j in w[k][j] (structure of arrays, so that the loops that turn words into floats
// vectorise), and their normals (draw_normals). The same bits as draw_block and normal4f
// (tested); only faster: with AVX-512, 8 blocks a vector and four vectors in flight, since each
// block's ten rounds are a chain of dependent multiplies (draw_blocks_avx512); with AVX2, 4 blocks
// a vector and two in flight (draw_blocks_avx2). Host only (CUDA kernels draw one block a thread).
//
// Which path runs (draw_path): a build for AVX-512 (-march=native on such a CPU) takes it always,
// its own code being AVX-512 throughout. Any other x86-64 build (the container images'
// x86-64-v3 among them) asks the CPU once per process and takes AVX-512 where the CPU has it, else
// AVX2, else one block at a time, within the cap LLCB_DRAWS sets (draws_cap): the draws are most
// of what a step does beyond its GEMMs, so an image built for the oldest CPUs it serves still
// draws at the speed of the newest. Every path gives the same bits, so neither the CPU nor the
// cap changes a trace. The choice is one object per process, so every file of a binary must be
// built with the same -march (as the project's are) and none by nvcc (checked below).
#pragma once

#if defined(__CUDACC__)
#error "philox_blocks.hpp is host code: CUDA kernels draw one block a thread (lib/core/random.hpp)"
#endif

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/core/random.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define LLCB_PHILOX_X86 1
#include <immintrin.h>
// The ISA of the AVX-512 and AVX2 paths, for builds without it (empty where the build has it, so
// that an AVX-512 build compiles them exactly as its own code). 512-bit vectors are asked for
// explicitly: GCC's generic tuning prefers 256 bits even where AVX-512 is enabled, and the
// Box-Muller loop then runs at half the width of an AVX-512 build's.
#if defined(__AVX512F__)
#define LLCB_TARGET_AVX512
#elif defined(__clang__)
#define LLCB_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#else
#define LLCB_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512")))
#endif
#define LLCB_TARGET_AVX2 __attribute__((target("avx2")))
#endif

namespace llcb {

struct BlockWords {
  std::uint32_t* w[4];
};

#if defined(LLCB_PHILOX_X86)
// GCC 12 warns that its own intrinsics' undefined pass-through operand "may be used
// uninitialized" (or "is used uninitialized") once they are inlined into these loops; nothing
// here reads an undefined value.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
namespace philox_detail {

// Ten rounds on H vectors of 8 counters, one counter per 64-bit lane with its words in the low
// 32 bits (x0..x3 hold words 0..3). _mm512_mul_epu32 reads only those low halves and returns the
// whole 64-bit product, so a round is two multiplies, two shifts and two three-way xors per
// vector; the high halves carry garbage that no multiply reads and the final pack drops.
template <int H>
LLCB_TARGET_AVX512 inline void rounds8(__m512i (&x0)[H], __m512i (&x1)[H], __m512i (&x2)[H], __m512i (&x3)[H],
                                       PhiloxKey key) {
  const __m512i m0 = _mm512_set1_epi64(kM0), m1 = _mm512_set1_epi64(kM1);
  std::uint32_t k0 = key.v[0], k1 = key.v[1];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const __m512i kk0 = _mm512_set1_epi32(static_cast<int>(k0)), kk1 = _mm512_set1_epi32(static_cast<int>(k1));
    for (int h = 0; h < H; ++h) {
      const __m512i p0 = _mm512_mul_epu32(x0[h], m0);  // hi0:lo0
      const __m512i p1 = _mm512_mul_epu32(x2[h], m1);  // hi1:lo1
      x0[h] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(p1, 32), x1[h], kk0, 0x96);  // hi1 ^ x1 ^ k0
      x2[h] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(p0, 32), x3[h], kk1, 0x96);  // hi0 ^ x3 ^ k1
      x1[h] = p1;  // lo1 in the low half
      x3[h] = p0;  // lo0 in the low half
    }
  }
}

// G groups of 16 blocks from block `sub` on (two 8-lane vectors each); stores the first `valid`
// blocks of the last group.
template <int G>
LLCB_TARGET_AVX512 inline void blocks16(PhiloxCounter c, PhiloxKey key, std::uint32_t sub, const BlockWords& out,
                                        std::int64_t at, int valid) {
  constexpr int H = 2 * G;
  const __m512i lanes = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  __m512i x0[H], x1[H], x2[H], x3[H];
  for (int h = 0; h < H; ++h) {
    x0[h] = _mm512_set1_epi64(c.v[0]);
    x1[h] = _mm512_set1_epi64(c.v[1]);
    x2[h] = _mm512_add_epi64(_mm512_set1_epi64(sub + 8u * static_cast<std::uint32_t>(h)), lanes);
    x3[h] = _mm512_set1_epi64(c.v[3]);
  }
  rounds8<H>(x0, x1, x2, x3, key);
  // The low halves of two 8-lane vectors, in order, as one vector of 16 words.
  const __m512i pack = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int g = 0; g < G; ++g) {
    const std::int64_t j = at + 16 * g;
    const __mmask16 m = g + 1 < G || valid >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1u);
    _mm512_mask_storeu_epi32(out.w[0] + j, m, _mm512_permutex2var_epi32(x0[2 * g], pack, x0[2 * g + 1]));
    _mm512_mask_storeu_epi32(out.w[1] + j, m, _mm512_permutex2var_epi32(x1[2 * g], pack, x1[2 * g + 1]));
    _mm512_mask_storeu_epi32(out.w[2] + j, m, _mm512_permutex2var_epi32(x2[2 * g], pack, x2[2 * g + 1]));
    _mm512_mask_storeu_epi32(out.w[3] + j, m, _mm512_permutex2var_epi32(x3[2 * g], pack, x3[2 * g + 1]));
  }
}

}  // namespace philox_detail
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

namespace philox_detail {

// Blocks j .. count - 1 one at a time: the rest that the vector paths leave.
inline void scalar_blocks(std::uint64_t seed, Stream stream, std::uint64_t index, std::uint32_t first_sub,
                          std::int64_t j, std::int64_t count, const BlockWords& out) {
  for (; j < count; ++j) {
    const PhiloxBlock b = draw_block(seed, stream, index, first_sub + static_cast<std::uint32_t>(j));
    for (int k = 0; k < 4; ++k) out.w[k][j] = b.v[k];
  }
}

}  // namespace philox_detail

#if defined(LLCB_PHILOX_X86)
namespace philox_detail {

// Ten rounds on H vectors of 4 counters, one a 64-bit lane with its words in the low 32 bits
// (rounds8 on AVX2, with two xors for each three-way one).
template <int H>
LLCB_TARGET_AVX2 inline void rounds4(__m256i (&x0)[H], __m256i (&x1)[H], __m256i (&x2)[H], __m256i (&x3)[H],
                                     PhiloxKey key) {
  const __m256i m0 = _mm256_set1_epi64x(kM0), m1 = _mm256_set1_epi64x(kM1);
  std::uint32_t k0 = key.v[0], k1 = key.v[1];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const __m256i kk0 = _mm256_set1_epi32(static_cast<int>(k0)), kk1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int h = 0; h < H; ++h) {
      const __m256i p0 = _mm256_mul_epu32(x0[h], m0);  // hi0:lo0
      const __m256i p1 = _mm256_mul_epu32(x2[h], m1);  // hi1:lo1
      x0[h] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), x1[h]), kk0);  // hi1 ^ x1 ^ k0
      x2[h] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), x3[h]), kk1);  // hi0 ^ x3 ^ k1
      x1[h] = p1;
      x3[h] = p0;
    }
  }
}

// The low words of two 4-lane vectors, in order, as one vector of 8.
LLCB_TARGET_AVX2 inline __m256i low_words(__m256i a, __m256i b) {
  const __m256 lows = _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_permute4x64_epi64(_mm256_castps_si256(lows), _MM_SHUFFLE(3, 1, 2, 0));
}

}  // namespace philox_detail

// draw_blocks through AVX2 (callable on any CPU that has it, whatever the build's own ISA).
LLCB_TARGET_AVX2 inline void draw_blocks_avx2(std::uint64_t seed, Stream stream, std::uint64_t index,
                                              std::uint32_t first_sub, std::int64_t count, const BlockWords& out) {
  const PhiloxCounter c = stream_counter(stream, index, 0);
  const PhiloxKey key = key_from_seed(seed);
  const __m256i lanes = _mm256_setr_epi64x(0, 1, 2, 3);
  std::int64_t j = 0;
  for (; j + 8 <= count; j += 8) {
    __m256i x0[2], x1[2], x2[2], x3[2];
    for (int h = 0; h < 2; ++h) {
      x0[h] = _mm256_set1_epi64x(c.v[0]);
      x1[h] = _mm256_set1_epi64x(c.v[1]);
      const std::uint32_t sub = first_sub + static_cast<std::uint32_t>(j) + 4u * static_cast<std::uint32_t>(h);
      x2[h] = _mm256_add_epi64(_mm256_set1_epi64x(sub), lanes);
      x3[h] = _mm256_set1_epi64x(c.v[3]);
    }
    philox_detail::rounds4<2>(x0, x1, x2, x3, key);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w[0] + j), philox_detail::low_words(x0[0], x0[1]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w[1] + j), philox_detail::low_words(x1[0], x1[1]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w[2] + j), philox_detail::low_words(x2[0], x2[1]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.w[3] + j), philox_detail::low_words(x3[0], x3[1]));
  }
  philox_detail::scalar_blocks(seed, stream, index, first_sub, j, count, out);
}

// draw_blocks through AVX-512 (callable on any CPU that has it, whatever the build's own ISA).
LLCB_TARGET_AVX512 inline void draw_blocks_avx512(std::uint64_t seed, Stream stream, std::uint64_t index,
                                                  std::uint32_t first_sub, std::int64_t count, const BlockWords& out) {
  const PhiloxCounter c = stream_counter(stream, index, 0);
  const PhiloxKey key = key_from_seed(seed);
  const auto sub = [&](std::int64_t at) { return first_sub + static_cast<std::uint32_t>(at); };
  std::int64_t j = 0;
  for (; j + 32 <= count; j += 32) philox_detail::blocks16<2>(c, key, sub(j), out, j, 16);
  for (; j < count; j += 16) {
    philox_detail::blocks16<1>(c, key, sub(j), out, j, static_cast<int>(count - j < 16 ? count - j : 16));
  }
}
#endif

enum class DrawPath { kScalar, kAvx2, kAvx512 };  // in order of width

// The path's name, as LLCB_DRAWS spells it.
inline const char* draw_path_name(DrawPath p) {
  return p == DrawPath::kAvx512 ? "avx512" : p == DrawPath::kAvx2 ? "avx2" : "scalar";
}

// The value of the LLCB_DRAWS environment variable, which caps the path in builds that choose it
// at run time: `avx512`, `avx2` or `scalar` (the widest the draws may take: to compare paths, or,
// in a build without AVX-512, to stand in for an older CPU); unset or empty, no cap. A build for
// AVX-512 ignores it: its code is AVX-512 throughout, so no cap could make it an older CPU's.
// False for any other value (llcbench refuses it at startup; other programs ignore it).
inline bool draws_cap(const char* text, DrawPath& cap) {
  const std::string_view v = text ? text : "";
  if (v.empty() || v == "avx512") {
    cap = DrawPath::kAvx512;
  } else if (v == "avx2") {
    cap = DrawPath::kAvx2;
  } else if (v == "scalar") {
    cap = DrawPath::kScalar;
  } else {
    return false;
  }
  return true;
}

// The widest path this CPU runs (the features LLCB_TARGET_AVX512 and LLCB_TARGET_AVX2 enable; the
// checks include the operating system's support of the registers).
inline DrawPath cpu_draw_path() {
#if defined(LLCB_PHILOX_X86)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")) {
    return DrawPath::kAvx512;
  }
  return avx2 ? DrawPath::kAvx2 : DrawPath::kScalar;
#else
  return DrawPath::kScalar;
#endif
}

// The path a build without AVX-512 takes where LLCB_DRAWS is cap_text: the widest the CPU runs
// within the cap (an invalid value caps nothing).
inline DrawPath capped_draw_path(const char* cap_text) {
  DrawPath cap = DrawPath::kAvx512;
  draws_cap(cap_text, cap);  // leaves cap as it is for an invalid value
  return std::min(cpu_draw_path(), cap);
}

// The path draw_blocks and draw_normals take in this process: AVX-512 in a build for it, else
// capped_draw_path of the environment's LLCB_DRAWS (decided once).
inline DrawPath draw_path() {
#if defined(LLCB_PHILOX_X86) && defined(__AVX512F__)
  return DrawPath::kAvx512;
#else
  static const DrawPath path = capped_draw_path(std::getenv("LLCB_DRAWS"));
  return path;
#endif
}

// Requires count >= 0 and each out.w[k] with room for count words. The block word wraps modulo
// 2^32 past first_sub, as draw_block(seed, stream, index, first_sub + j) does in uint32 arithmetic.
inline void draw_blocks(std::uint64_t seed, Stream stream, std::uint64_t index, std::uint32_t first_sub,
                        std::int64_t count, const BlockWords& out) {
#if defined(LLCB_PHILOX_X86)
  switch (draw_path()) {
    case DrawPath::kAvx512: draw_blocks_avx512(seed, stream, index, first_sub, count, out); return;
    case DrawPath::kAvx2: draw_blocks_avx2(seed, stream, index, first_sub, count, out); return;
    case DrawPath::kScalar: break;
  }
#endif
  philox_detail::scalar_blocks(seed, stream, index, first_sub, 0, count, out);
}

namespace philox_detail {

// normal4f's Box-Muller over words' count blocks into out (vectorised for the caller's ISA).
__attribute__((always_inline)) inline void box_muller_words(std::int64_t count, float* __restrict out,
                                                            const BlockWords& words) {
  const std::uint32_t* __restrict w0 = words.w[0];
  const std::uint32_t* __restrict w1 = words.w[1];
  const std::uint32_t* __restrict w2 = words.w[2];
  const std::uint32_t* __restrict w3 = words.w[3];
#if defined(_OPENMP)
#pragma omp simd
#endif
  for (std::int64_t j = 0; j < count; ++j) {
    box_muller_f(u01f(w0[j]), u01f(w1[j]), out[4 * j], out[4 * j + 1]);
    box_muller_f(u01f(w2[j]), u01f(w3[j]), out[4 * j + 2], out[4 * j + 3]);
  }
}

}  // namespace philox_detail

// draw_normals one block at a time (its Box-Muller still vectorised at the build's width), through
// AVX-512, and through AVX2 (each on a CPU with its ISA). In a build for AVX-512 the AVX2 path's
// Box-Muller, and its Philox's encoding, are the build's: only a build without AVX-512 runs AVX2
// code alone (tests/core/test_avx2_build.cpp).
inline void draw_normals_scalar(std::uint64_t seed, Stream stream, std::uint64_t index, std::uint32_t first_sub,
                                std::int64_t count, float* out, const BlockWords& words) {
  philox_detail::scalar_blocks(seed, stream, index, first_sub, 0, count, words);
  philox_detail::box_muller_words(count, out, words);
}

#if defined(LLCB_PHILOX_X86)
LLCB_TARGET_AVX512 inline void draw_normals_avx512(std::uint64_t seed, Stream stream, std::uint64_t index,
                                                   std::uint32_t first_sub, std::int64_t count, float* out,
                                                   const BlockWords& words) {
  draw_blocks_avx512(seed, stream, index, first_sub, count, words);
  philox_detail::box_muller_words(count, out, words);
}

LLCB_TARGET_AVX2 inline void draw_normals_avx2(std::uint64_t seed, Stream stream, std::uint64_t index,
                                               std::uint32_t first_sub, std::int64_t count, float* out,
                                               const BlockWords& words) {
  draw_blocks_avx2(seed, stream, index, first_sub, count, words);
  philox_detail::box_muller_words(count, out, words);
}
#endif

// The normals of `count` consecutive blocks, normal4f's bits: block j's four into
// out[4 j .. 4 j + 3]. words is scratch with room for count words in each of its four arrays.
inline void draw_normals(std::uint64_t seed, Stream stream, std::uint64_t index, std::uint32_t first_sub,
                         std::int64_t count, float* out, const BlockWords& words) {
#if defined(LLCB_PHILOX_X86)
  switch (draw_path()) {
    case DrawPath::kAvx512: draw_normals_avx512(seed, stream, index, first_sub, count, out, words); return;
    case DrawPath::kAvx2: draw_normals_avx2(seed, stream, index, first_sub, count, out, words); return;
    case DrawPath::kScalar: break;
  }
#endif
  draw_normals_scalar(seed, stream, index, first_sub, count, out, words);
}

}  // namespace llcb
