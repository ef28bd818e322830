// Many consecutive Philox4x32-10 blocks of one stream at once, on the CPU: blocks
// first_sub .. first_sub + count - 1 (the `sub` counter word) of draw_block(seed, stream, index),
// word k of block j in w[k][j] (structure of arrays, so that the loops that turn words into floats
// vectorise). The same bits as draw_block (tested); only faster: where the build has AVX-512, 16
// blocks a vector and four vectors in flight, since each block's ten rounds are a chain of
// dependent multiplies. Host only (CUDA kernels draw one block a thread).
#pragma once

#include <cstdint>

#include "lib/core/random.hpp"

#if defined(__AVX512F__) && !defined(__CUDACC__)
#include <immintrin.h>
#endif

namespace llcb {

struct BlockWords {
  std::uint32_t* w[4];
};

#if defined(__AVX512F__) && !defined(__CUDACC__)
// GCC 12 warns that its own intrinsics' undefined pass-through operand "may be used
// uninitialized" once they are inlined into these loops; nothing here reads an undefined value.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace philox_detail {

// Ten rounds on G vectors of 16 counters (x0..x3 hold words 0..3 of each lane's counter).
template <int G>
inline void rounds16(__m512i (&x0)[G], __m512i (&x1)[G], __m512i (&x2)[G], __m512i (&x3)[G], PhiloxKey key) {
  const __m512i m0 = _mm512_set1_epi64(kM0), m1 = _mm512_set1_epi64(kM1);
  constexpr __mmask16 kOdd = 0xAAAA;
  std::uint32_t k0 = key.v[0], k1 = key.v[1];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const __m512i kk0 = _mm512_set1_epi32(static_cast<int>(k0)), kk1 = _mm512_set1_epi32(static_cast<int>(k1));
    for (int g = 0; g < G; ++g) {
      // 32 x 32 -> 64-bit products of the even and the odd lanes, split into hi and lo words.
      const __m512i e0 = _mm512_mul_epu32(x0[g], m0), o0 = _mm512_mul_epu32(_mm512_srli_epi64(x0[g], 32), m0);
      const __m512i e1 = _mm512_mul_epu32(x2[g], m1), o1 = _mm512_mul_epu32(_mm512_srli_epi64(x2[g], 32), m1);
      const __m512i hi0 = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(e0, 32), o0);
      const __m512i lo0 = _mm512_mask_blend_epi32(kOdd, e0, _mm512_slli_epi64(o0, 32));
      const __m512i hi1 = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(e1, 32), o1);
      const __m512i lo1 = _mm512_mask_blend_epi32(kOdd, e1, _mm512_slli_epi64(o1, 32));
      x0[g] = _mm512_ternarylogic_epi32(hi1, x1[g], kk0, 0x96);  // hi1 ^ x1 ^ k0
      x2[g] = _mm512_ternarylogic_epi32(hi0, x3[g], kk1, 0x96);  // hi0 ^ x3 ^ k1
      x1[g] = lo1;
      x3[g] = lo0;
    }
  }
}

// G vectors of 16 blocks from block `sub` on; stores the first `valid` lanes of the last vector.
template <int G>
inline void blocks16(PhiloxCounter c, PhiloxKey key, std::uint32_t sub, const BlockWords& out,
                     std::int64_t at, int valid) {
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i x0[G], x1[G], x2[G], x3[G];
  for (int g = 0; g < G; ++g) {
    x0[g] = _mm512_set1_epi32(static_cast<int>(c.v[0]));
    x1[g] = _mm512_set1_epi32(static_cast<int>(c.v[1]));
    x2[g] = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(sub + 16u * static_cast<std::uint32_t>(g))), lanes);
    x3[g] = _mm512_set1_epi32(static_cast<int>(c.v[3]));
  }
  rounds16<G>(x0, x1, x2, x3, key);
  for (int g = 0; g < G; ++g) {
    const std::int64_t j = at + 16 * g;
    const __mmask16 m = g + 1 < G || valid >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1u);
    _mm512_mask_storeu_epi32(out.w[0] + j, m, x0[g]);
    _mm512_mask_storeu_epi32(out.w[1] + j, m, x1[g]);
    _mm512_mask_storeu_epi32(out.w[2] + j, m, x2[g]);
    _mm512_mask_storeu_epi32(out.w[3] + j, m, x3[g]);
  }
}

}  // namespace philox_detail
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// Requires count >= 0 and each out.w[k] with room for count words. The block word wraps modulo
// 2^32 past first_sub, as draw_block(seed, stream, index, first_sub + j) does in uint32 arithmetic.
inline void draw_blocks(std::uint64_t seed, Stream stream, std::uint64_t index, std::uint32_t first_sub,
                        std::int64_t count, const BlockWords& out) {
  std::int64_t j = 0;
#if defined(__AVX512F__) && !defined(__CUDACC__)
  const PhiloxCounter c = stream_counter(stream, index, 0);
  const PhiloxKey key = key_from_seed(seed);
  const auto sub = [&](std::int64_t at) { return first_sub + static_cast<std::uint32_t>(at); };
  for (; j + 64 <= count; j += 64) philox_detail::blocks16<4>(c, key, sub(j), out, j, 16);
  for (; j < count; j += 16) {
    philox_detail::blocks16<1>(c, key, sub(j), out, j, static_cast<int>(count - j < 16 ? count - j : 16));
  }
#endif
  for (; j < count; ++j) {
    const PhiloxBlock b = draw_block(seed, stream, index, first_sub + static_cast<std::uint32_t>(j));
    for (int k = 0; k < 4; ++k) out.w[k][j] = b.v[k];
  }
}

}  // namespace llcb
