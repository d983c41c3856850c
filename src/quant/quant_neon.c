/*
 * quant_neon.c - AArch64 NEON (base ARMv8-A Advanced SIMD, always present on aarch64)
 * twins of the scalar references: the activation quantizers (Q8_0, Q8_1, Q8_K, F16, BF16),
 * the float dots (F32, F16, BF16) and the integer dots (Q8_0, Q4_0, Q5_0 x Q8_0; Q4_1,
 * Q5_1 x Q8_1; Q4_K, Q5_K, Q6_K x Q8_K) with the base-ISA int8 dot step. The integer dots'
 * bodies are shared with quant_dotprod.c (neon_dots.h), which the dispatch prefers when the
 * CPU has the dot-product instructions. What each promises: quant_simd.h.
 *
 * Method (ggml's ARM approach, written afresh): quantizers round with the conversion
 * instructions that match the reference's rounding (FCVTAS = roundf, FCVTNS = lrintf) and
 * narrow with saturation; float dots use four FMA accumulators; fp16 is widened with FCVTL
 * (no FP16 arithmetic, which is an optional extension).
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* before the includes: the K-quant float part (neon_dots.h)
                                must round as the reference's; gcc -std=c11 does not
                                contract, clang would */
#endif
#include "quant/quant_simd.h"
#include "quant/neon_dots.h"

#include <math.h>

/* ---- quantizers ------------------------------------------------------------------------- */

/* Largest |x| of n floats (n a multiple of 4); NaNs are skipped (FMAXNM, as fmaxf). */
static float absmax_n(const float *x, int n) {
    float32x4_t m = vdupq_n_f32(0);
    for (int i = 0; i < n; i += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + i)));
    return vmaxnmvq_f32(m);
}

/* Four int32x4 narrowed with signed saturation to 16 int8 (in lane order). */
static inline int8x16_t narrow_i32_to_i8(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    const int16x8_t ab = vqmovn_high_s32(vqmovn_s32(a), b);
    const int16x8_t cd = vqmovn_high_s32(vqmovn_s32(c), d);
    return vqmovn_high_s16(vqmovn_s16(ab), cd);
}

/*
 * q[j] = round_i8(x[j] * id) for 16 elements, exactly as quant_legacy.c's round_i8: the
 * product rounded half away from zero (FCVTAS, which also maps NaN to 0 and saturates),
 * then saturated to -128..127. Returns the 16 quants (also stored to q).
 */
static inline int8x16_t quantize_16_round_away(const float *x, float id, int8_t *q) {
    int32x4_t r[4];
    for (int k = 0; k < 4; k++) r[k] = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4 * k), id));
    const int8x16_t v = narrow_i32_to_i8(r[0], r[1], r[2], r[3]);
    vst1q_s8(q, v);
    return v;
}

/* Q8_0: d = absmax / 127, q = round(x / d) half away from zero; byte-identical to
 * ew_quantize_q8_0_ref. */
void ew_quantize_q8_0_neon(const float *x, void *vy, int64_t n) {
    ew_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / EW_QK8_0; b++, x += EW_QK8_0) {
        const float d = absmax_n(x, EW_QK8_0) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = neon_f2h(d);
        quantize_16_round_away(x, id, y[b].qs);
        quantize_16_round_away(x + 16, id, y[b].qs + 16);
    }
}

/* Q8_1: as Q8_0 plus s = fp16(d * sum(q)); byte-identical to ew_quantize_q8_1_ref. */
void ew_quantize_q8_1_neon(const float *x, void *vy, int64_t n) {
    ew_block_q8_1 *y = vy;
    for (int64_t b = 0; b < n / EW_QK8_1; b++, x += EW_QK8_1) {
        const float d = absmax_n(x, EW_QK8_1) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        const int8x16_t lo = quantize_16_round_away(x, id, y[b].qs);
        const int8x16_t hi = quantize_16_round_away(x + 16, id, y[b].qs + 16);
        const int sum = vaddlvq_s8(lo) + vaddlvq_s8(hi); /* exact: |sum| <= 32 * 128 */
        y[b].d = neon_f2h(d);
        y[b].s = neon_f2h((float)sum * d);
    }
}

/* The element of largest magnitude of 256 floats with its sign, the first one on ties;
 * NaNs are skipped. 0 when every element is 0 or NaN. */
static float signed_absmax_256(const float *x) {
    const float amax = absmax_n(x, EW_QK_K);
    if (!(amax > 0)) return 0.0f;
    for (int i = 0; i < EW_QK_K; i++)
        if (fabsf(x[i]) == amax) return x[i];
    return 0.0f; /* not reached: amax is one of the |x| */
}

/*
 * The reference's (int)lrintf(v) for 4 lanes, as ew_quantize_q8_K_ref computes it on
 * aarch64 (lrintf is a 64-bit FCVTNS there, then truncated to int): ties to even for
 * finite v, NaN -> 0, -inf -> LONG_MIN -> 0, +inf -> LONG_MAX -> -1. Finite v stays within
 * +-128 here (the reference clamps it afterwards, as the narrowing does).
 */
static inline int32x4_t lrint_like_ref(float32x4_t v) {
    const int32x4_t r = vcvtnq_s32_f32(v); /* NaN -> 0, +-inf saturate */
    const uint32x4_t pos_inf = vceqq_f32(v, vdupq_n_f32(INFINITY));
    const uint32x4_t neg_inf = vceqq_f32(v, vdupq_n_f32(-INFINITY));
    return vbicq_s32(vbslq_s32(pos_inf, vdupq_n_s32(-1), r), vreinterpretq_s32_u32(neg_inf));
}

/* Q8_K: d = -m / 127 with m the signed absmax, q = clamp(lrintf(x * -127 / m)), bsums; an
 * all-zero block is all zero. Byte-identical to ew_quantize_q8_K_ref. */
void ew_quantize_q8_K_neon(const float *x, void *vy, int64_t n) {
    ew_block_q8_K *y = vy;
    for (int64_t b = 0; b < n / EW_QK_K; b++, x += EW_QK_K) {
        const float max = signed_absmax_256(x);
        memset(&y[b], 0, sizeof y[b]);
        if (!max) continue;
        const float iscale = -127.f / max;
        for (int g = 0; g < EW_QK_K / 16; g++) {
            int32x4_t r[4];
            for (int k = 0; k < 4; k++)
                r[k] = lrint_like_ref(vmulq_n_f32(vld1q_f32(x + 16 * g + 4 * k), iscale));
            const int8x16_t q = narrow_i32_to_i8(r[0], r[1], r[2], r[3]);
            vst1q_s8(y[b].qs + 16 * g, q);
            y[b].bsums[g] = vaddlvq_s8(q);
        }
        y[b].d = 1 / iscale;
    }
}

/* F32 -> F16 with round-to-nearest-even (FCVTN); byte-identical to the reference. */
void ew_quantize_f16_neon(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x + i)), vld1q_f32(x + i + 4));
        vst1q_u16(y + i, vreinterpretq_u16_f16(h));
    }
    for (; i < n; i++) y[i] = neon_f2h(x[i]);
}

/* F32 -> BF16, ties to even, NaN kept quiet with its sign (integer arithmetic on the
 * bits, as ew_fp32_to_bf16); byte-identical to the reference. */
void ew_quantize_bf16_neon(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    const uint32x4_t abs_mask = vdupq_n_u32(0x7FFFFFFF), inf = vdupq_n_u32(0x7F800000);
    const uint32x4_t one = vdupq_n_u32(1), round = vdupq_n_u32(0x7FFF), quiet = vdupq_n_u32(0x40);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32x4_t u = vreinterpretq_u32_f32(vld1q_f32(x + i));
        const uint32x4_t is_nan = vcgtq_u32(vandq_u32(u, abs_mask), inf);
        const uint32x4_t top = vshrq_n_u32(u, 16);
        const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, vaddq_u32(round, vandq_u32(top, one))), 16);
        const uint32x4_t h = vbslq_u32(is_nan, vorrq_u32(top, quiet), rounded);
        vst1_u16(y + i, vmovn_u32(h));
    }
    for (; i < n; i++) y[i] = ew_fp32_to_bf16(x[i]);
}

/* ---- float dots ------------------------------------------------------------------------- */
/* Four 4-lane FMA accumulators over 16 elements a step, one over 4, then a scalar tail;
 * the result differs from the reference (products summed in double) by float rounding. */

/* 4 floats. */
static inline float32x4_t load_f32_4(const float *p) {
    return vld1q_f32(p);
}

/* 4 halves widened to floats (FCVTL, exact). */
static inline float32x4_t load_f16_4(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

/* 4 bfloat16 widened to floats (a bf16 is the top half of a float). */
static inline float32x4_t load_bf16_4(const uint16_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

/* Sum of four accumulators' lanes (fixed order). */
static inline float hsum4(float32x4_t s0, float32x4_t s1, float32x4_t s2, float32x4_t s3) {
    return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

/* F32 dot. */
float ew_vec_dot_f32_neon(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, load_f32_4(w + i), load_f32_4(a + i));
        s1 = vfmaq_f32(s1, load_f32_4(w + i + 4), load_f32_4(a + i + 4));
        s2 = vfmaq_f32(s2, load_f32_4(w + i + 8), load_f32_4(a + i + 8));
        s3 = vfmaq_f32(s3, load_f32_4(w + i + 12), load_f32_4(a + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, load_f32_4(w + i), load_f32_4(a + i));
    float sum = hsum4(s0, s1, s2, s3);
    for (; i < n; i++) sum += w[i] * a[i];
    return sum;
}

/* F16 x F16 dot (widened to float: the products and sums are float, as AVX2's). */
float ew_vec_dot_f16_neon(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, load_f16_4(w + i), load_f16_4(a + i));
        s1 = vfmaq_f32(s1, load_f16_4(w + i + 4), load_f16_4(a + i + 4));
        s2 = vfmaq_f32(s2, load_f16_4(w + i + 8), load_f16_4(a + i + 8));
        s3 = vfmaq_f32(s3, load_f16_4(w + i + 12), load_f16_4(a + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, load_f16_4(w + i), load_f16_4(a + i));
    float sum = hsum4(s0, s1, s2, s3);
    for (; i < n; i++) sum += neon_h2f(w[i]) * neon_h2f(a[i]);
    return sum;
}

/* BF16 x BF16 dot. */
float ew_vec_dot_bf16_neon(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, load_bf16_4(w + i), load_bf16_4(a + i));
        s1 = vfmaq_f32(s1, load_bf16_4(w + i + 4), load_bf16_4(a + i + 4));
        s2 = vfmaq_f32(s2, load_bf16_4(w + i + 8), load_bf16_4(a + i + 8));
        s3 = vfmaq_f32(s3, load_bf16_4(w + i + 12), load_bf16_4(a + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, load_bf16_4(w + i), load_bf16_4(a + i));
    float sum = hsum4(s0, s1, s2, s3);
    for (; i < n; i++) sum += ew_bf16_to_fp32(w[i]) * ew_bf16_to_fp32(a[i]);
    return sum;
}

/* ---- integer dots, base-ISA dot step (bodies in neon_dots.h) ----------------------------- */

/* Q8_0 . Q8_0 (reassociation only). */
float ew_vec_dot_q8_0_q8_0_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q8_0_q8_0(n, w, a, neon_dot_i8_base);
}

/* Q4_0 . Q8_0 (reassociation only). */
float ew_vec_dot_q4_0_q8_0_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q4_0_q8_0(n, w, a, neon_dot_i8_base);
}

/* Q5_0 . Q8_0 (reassociation only). */
float ew_vec_dot_q5_0_q8_0_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q5_0_q8_0(n, w, a, neon_dot_i8_base);
}

/* Q4_1 . Q8_1 (reassociation only). */
float ew_vec_dot_q4_1_q8_1_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q4_1_q8_1(n, w, a, neon_dot_i8_base);
}

/* Q5_1 . Q8_1 (reassociation only). */
float ew_vec_dot_q5_1_q8_1_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q5_1_q8_1(n, w, a, neon_dot_i8_base);
}

/* Q4_K . Q8_K, bit-identical to the reference. */
float ew_vec_dot_q4_K_q8_K_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q4_K_q8_K(n, w, a, neon_dot_i8_base);
}

/* Q5_K . Q8_K, bit-identical to the reference. */
float ew_vec_dot_q5_K_q8_K_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q5_K_q8_K(n, w, a, neon_dot_i8_base);
}

/* Q6_K . Q8_K, bit-identical to the reference. */
float ew_vec_dot_q6_K_q8_K_neon(int64_t n, const void *w, const void *a) {
    return neon_dot_q6_K_q8_K(n, w, a, neon_dot_i8_base);
}
