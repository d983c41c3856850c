/*
 * vmath_x86.h - vector exp and F16 row loads shared by the layer and attention kernels.
 * Include only from *_avx2.c / *_avx512.c files (they get the ISA flags); the AVX-512 half
 * is compiled only where __AVX512F__ is defined.
 *
 * exp: Cody-Waite reduction x = n ln2 + r (|r| <= ln2/2) and the Cephes expf polynomial,
 * within 2 ulp of expf over the range where the result is a normal float.
 */
#ifndef EW_VMATH_X86_H
#define EW_VMATH_X86_H

#include <immintrin.h>
#include <stdint.h>

#define EW_EXP_LOG2E 1.44269504088896341f
#define EW_EXP_LN2_HI 0.693359375f
#define EW_EXP_LN2_LO -2.12194440e-4f

/* e^r for |r| <= ln2/2 (Cephes expf polynomial): 1 + r + r^2 (p0 + p1 r + ... + p5 r^5). */
static inline __m256 ew_exp_poly_avx2(__m256 r) {
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 r2 = _mm256_mul_ps(r, r);
    return _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
}

/* e^x per lane. x is clamped to [-87.3, 88.3] first (the results stay normal floats: e^x
 * below e^-87.3 comes out as ~1.2e-38, not 0; above 88.3 as ~2e38, not inf); NaN stays
 * NaN. Callers that need exact zeros (masked softmax lanes) zero those lanes themselves. */
static inline __m256 ew_exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(88.3f), x); /* min/max return the second operand on NaN */
    x = _mm256_max_ps(_mm256_set1_ps(-87.3f), x);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(EW_EXP_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EW_EXP_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EW_EXP_LN2_LO), r);
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(ew_exp_poly_avx2(r), _mm256_castsi256_ps(e));
}

/* 8 floats of an F16 row. */
static inline __m256 ew_load8_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

#if defined(__AVX512F__)
/* e^r for |r| <= ln2/2, 16 lanes (as ew_exp_poly_avx2). */
static inline __m512 ew_exp_poly_avx512(__m512 r) {
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    const __m512 r2 = _mm512_mul_ps(r, r);
    return _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
}

/* e^x per lane over the whole float range: -inf and large negative x give 0 (subnormals
 * near the bottom), large x gives inf, NaN stays NaN (scalef does the 2^n). */
static inline __m512 ew_exp_avx512(__m512 x) {
    x = _mm512_min_ps(_mm512_set1_ps(100.0f), x);
    x = _mm512_max_ps(_mm512_set1_ps(-110.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(EW_EXP_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EW_EXP_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EW_EXP_LN2_LO), r);
    return _mm512_scalef_ps(ew_exp_poly_avx512(r), n);
}

/* 16 floats of an F16 row. */
static inline __m512 ew_load16_f16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
#endif

#endif
