/*
 * simd_avx2.h - small AVX2 helpers shared by the *_avx2.c kernel files. Include only from
 * files compiled with -mavx2 -mfma -mf16c (CMake gives *_avx2.c those flags).
 */
#ifndef EW_SIMD_AVX2_H
#define EW_SIMD_AVX2_H

#include "quant/blocks.h"
#include <immintrin.h>
#include <string.h>

/* Exact value of an IEEE binary16 (F16C; equals ew_fp16_to_fp32 for every non-NaN). */
static inline float avx2_h2f(ew_half h) {
    return _cvtsh_ss(h);
}

/* Nearest binary16 to f, ties to even (F16C; equals ew_fp32_to_fp16 for every input,
 * NaNs included: both keep the sign and top payload bits and set the quiet bit). */
static inline ew_half avx2_f2h(float f) {
    return (ew_half)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

/* Sum of the 8 float lanes (fixed order: halves, then pairs). */
static inline float avx2_hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Sum of 4 int32 lanes (wrapping, like the scalar int32 sums it replaces). */
static inline int32_t avx2_hsum_epi32_128(__m128i v) {
    v = _mm_add_epi32(v, _mm_unpackhi_epi64(v, v));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}

/* Sum of 8 int32 lanes. */
static inline int32_t avx2_hsum_epi32(__m256i v) {
    return avx2_hsum_epi32_128(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}

/*
 * Pairwise products of 32 signed bytes w with 32 signed bytes a, summed in fours into 8
 * int32 lanes (lane k = sum of elements 4k..4k+3). Exact for any w when every a is in
 * -127..127: maddubs needs an unsigned operand, so it multiplies |w| (0..128) by a with w's
 * sign moved onto it (-127..127), and a pair sums to at most 2 * 128 * 127 < 32767.
 */
static inline __m256i avx2_dot_i8_pairs(__m256i w, __m256i a) {
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

/* As avx2_dot_i8_pairs for unsigned w (0..127 keeps every pair sum exact). */
static inline __m256i avx2_dot_u8_pairs(__m256i w, __m256i a) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1));
}

/* The 32 4-bit values of a Q4 nibble array (16 bytes) as bytes 0..15 in element order:
 * element j < 16 is the low nibble of qs[j], element j + 16 the high nibble. */
static inline __m256i avx2_nibbles_32(const uint8_t *qs) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(raw, m4);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), m4);
    return _mm256_set_m128i(hi, lo);
}

/* 32 bits (little-endian qh[0..3]) spread to 32 bytes: byte j = 0xFF if bit j is set, else
 * 0. */
static inline __m256i avx2_bits_to_bytes_32(const uint8_t *qh) {
    uint32_t bits;
    memcpy(&bits, qh, sizeof bits);
    /* byte j of the result looks at source byte j / 8 (shuffles stay within 128-bit lanes,
     * and every lane holds all four source bytes after the broadcast) */
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

#endif
