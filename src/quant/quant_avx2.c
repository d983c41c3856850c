/*
 * quant_avx2.c - AVX2 + FMA + F16C twins of the scalar references in quant.c and
 * quant_legacy.c: the activation quantizers (Q8_0, Q8_1, Q8_K, F16, BF16), the float dots
 * (F32, F16, BF16) and the 32-element block dots (Q8_0, Q4_0, Q5_0 x Q8_0; Q4_1, Q5_1 x
 * Q8_1). What each promises relative to its reference: quant_simd.h.
 *
 * Method (as ggml's x86 kernels, written afresh): integer products per block with
 * _mm256_maddubs_epi16 (u8 x s8 -> pairwise s16) and _mm256_madd_epi16 (-> s32), the block
 * scales applied to the eight s32 lanes in float with one FMA per block.
 */
#include "quant/quant_simd.h"
#include "quant/simd_avx2.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* gcc -std=c11 does not contract; clang would */
#endif

/* ---- quantizers ------------------------------------------------------------------------- */

/* Largest |x| of 32 floats; NaNs are skipped (as fmaxf in the reference). */
static float absmax_32(const float *x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int i = 0; i < 32; i += 8) {
        /* max_ps returns its second operand when either is NaN: keep m then */
        m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
    }
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* NaN lanes of v replaced by 0. */
static inline __m256 nan_to_zero(__m256 v) {
    return _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
}

/* NaN and infinite lanes of v replaced by 0 (what the reference's (int)lrintf gives them
 * on x86-64: lrintf returns LONG_MIN, whose low 32 bits are 0). */
static inline __m256 nonfinite_to_zero(__m256 v) {
    const __m256 abs = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
    return _mm256_and_ps(v, _mm256_cmp_ps(abs, _mm256_set1_ps(INFINITY), _CMP_LT_OQ));
}

/*
 * roundf() on 8 lanes: nearest integer, halves away from zero. t = trunc(v) and v - t (exact
 * for every float) decide whether to step one away from zero; no v + 0.5 whose rounding
 * would turn 0.49999997 into 1.
 */
static inline __m256 round_half_away(__m256 v) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
    const __m256 away = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    return _mm256_add_ps(t, _mm256_and_ps(away, step));
}

/* Four vectors of 8 int32 (elements 0-7, 8-15, 16-23, 24-31) packed with signed
 * saturation into 32 int8 in element order. */
static inline __m256i pack_i32_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b); /* per lane: a0-3 b0-3 | a4-7 b4-7 */
    const __m256i cd = _mm256_packs_epi32(c, d);
    const __m256i q = _mm256_packs_epi16(ab, cd); /* a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 ... */
    return _mm256_permutevar8x32_epi32(q, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/*
 * q[j] = round_i8(x[j] * id) for 32 elements, exactly as quant_legacy.c's round_i8: the
 * product rounded half away from zero, saturated to -128..127, NaN -> 0. Returns the 32
 * quants (also stored to q).
 */
static __m256i quantize_32_round_away(const float *x, float id, int8_t *q) {
    const __m256 vid = _mm256_set1_ps(id);
    const __m256 lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
    __m256i r[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m256 v = nan_to_zero(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid));
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        r[k] = _mm256_cvttps_epi32(round_half_away(v));
    }
    const __m256i qv = pack_i32_to_i8(r[0], r[1], r[2], r[3]);
    _mm256_storeu_si256((__m256i *)q, qv);
    return qv;
}

/* Q8_0: d = absmax / 127, q = round(x / d) half away from zero; byte-identical to
 * ew_quantize_q8_0_ref. */
void ew_quantize_q8_0_avx2(const float *x, void *vy, int64_t n) {
    ew_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / EW_QK8_0; b++, x += EW_QK8_0) {
        const float d = absmax_32(x) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = avx2_f2h(d);
        quantize_32_round_away(x, id, y[b].qs);
    }
}

/* Sum of 32 signed bytes. */
static inline int32_t sum_i8_32(__m256i q) {
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
    return avx2_hsum_epi32(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

/* Q8_1: as Q8_0 plus s = fp16(d * sum(q)); byte-identical to ew_quantize_q8_1_ref. */
void ew_quantize_q8_1_avx2(const float *x, void *vy, int64_t n) {
    ew_block_q8_1 *y = vy;
    for (int64_t b = 0; b < n / EW_QK8_1; b++, x += EW_QK8_1) {
        const float d = absmax_32(x) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        const __m256i q = quantize_32_round_away(x, id, y[b].qs);
        y[b].d = avx2_f2h(d);
        y[b].s = avx2_f2h((float)sum_i8_32(q) * d);
    }
}

/* The element of largest magnitude of 256 floats with its sign, the first one on ties;
 * NaNs are skipped. 0 when every element is 0 or NaN. */
static float signed_absmax_256(const float *x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < EW_QK_K; i += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    const float amax = _mm_cvtss_f32(s);
    if (!(amax > 0)) return 0.0f;
    const __m256 va = _mm256_set1_ps(amax);
    for (int i = 0; i < EW_QK_K; i += 8) {
        const __m256 ax = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i));
        const int hit = _mm256_movemask_ps(_mm256_cmp_ps(ax, va, _CMP_EQ_OQ));
        if (hit) return x[i + __builtin_ctz((unsigned)hit)];
    }
    return 0.0f; /* not reached: amax is one of the |x| */
}

/* 16 group sums of 256 int8 quants (bsums): each 16-byte group summed exactly with
 * _mm256_sad_epu8 on q + 128 (then minus 16 * 128). */
static void q8_K_bsums(const int8_t *qs, int16_t *bsums) {
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    for (int c = 0; c < EW_QK_K / 32; c++) {
        const __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(qs + 32 * c)), bias);
        /* four u64 lanes, each the sum of 8 bytes of q + 128 */
        const __m256i s = _mm256_sad_epu8(q, _mm256_setzero_si256());
        int64_t lane[4];
        _mm256_storeu_si256((__m256i *)lane, s);
        bsums[2 * c] = (int16_t)(lane[0] + lane[1] - 16 * 128);
        bsums[2 * c + 1] = (int16_t)(lane[2] + lane[3] - 16 * 128);
    }
}

/* Q8_K: d = -m / 127 with m the signed absmax, q = round_even(x * -127 / m) saturated,
 * NaN and infinities -> 0, bsums; an all-zero block is all zero. Byte-identical to ew_quantize_q8_K_ref. */
void ew_quantize_q8_K_avx2(const float *x, void *vy, int64_t n) {
    ew_block_q8_K *y = vy;
    for (int64_t b = 0; b < n / EW_QK_K; b++, x += EW_QK_K) {
        const float max = signed_absmax_256(x);
        memset(&y[b], 0, sizeof y[b]);
        if (!max) continue;
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        for (int c = 0; c < EW_QK_K / 32; c++) {
            __m256i r[4];
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                /* cvtps rounds to nearest even under the default MXCSR, as lrintf; values
                 * are within +-127 unless iscale overflowed (max subnormal) */
                const __m256 v = nonfinite_to_zero(_mm256_mul_ps(_mm256_loadu_ps(x + 32 * c + 8 * k), vs));
                r[k] = _mm256_cvtps_epi32(v);
            }
            _mm256_storeu_si256((__m256i *)(y[b].qs + 32 * c), pack_i32_to_i8(r[0], r[1], r[2], r[3]));
        }
        q8_K_bsums(y[b].qs, y[b].bsums);
        y[b].d = 1 / iscale;
    }
}

/* F32 -> F16 with round-to-nearest-even (vcvtps2ph); byte-identical to the reference. */
void ew_quantize_f16_avx2(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(y + i), h);
    }
    for (; i < n; i++) y[i] = ew_fp32_to_fp16(x[i]);
}

/* F32 -> BF16, ties to even, NaN kept quiet with its sign (integer arithmetic on the
 * bits, as ew_fp32_to_bf16); byte-identical to the reference. */
void ew_quantize_bf16_avx2(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
    const __m256i one = _mm256_set1_epi32(1), round = _mm256_set1_epi32(0x7FFF);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i u = _mm256_castps_si256(_mm256_loadu_ps(x + i));
        const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
        const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
        const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(round, odd)), 16);
        const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
        const __m256i h = _mm256_blendv_epi8(rounded, quiet, is_nan); /* 0..0xFFFF per lane */
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(h, h), _MM_SHUFFLE(3, 1, 2, 0));
        _mm_storeu_si128((__m128i *)(y + i), _mm256_castsi256_si128(packed));
    }
    for (; i < n; i++) y[i] = ew_fp32_to_bf16(x[i]);
}

/* ---- float dots ------------------------------------------------------------------------- */
/* Four 8-lane FMA accumulators over 32 elements a step, one over 8, then a scalar tail;
 * the result differs from the reference (products summed in double) by float rounding. */

/* 8 floats. */
static inline __m256 load_f32_8(const float *p) {
    return _mm256_loadu_ps(p);
}

/* 8 halves widened to floats (vcvtph2ps, exact). */
static inline __m256 load_f16_8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* 8 bfloat16 widened to floats (a bf16 is the top half of a float). */
static inline __m256 load_bf16_8(const uint16_t *p) {
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
}

/* F32 dot. */
float ew_vec_dot_f32_avx2(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(load_f32_8(w + i), load_f32_8(a + i), s0);
        s1 = _mm256_fmadd_ps(load_f32_8(w + i + 8), load_f32_8(a + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_f32_8(w + i + 16), load_f32_8(a + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_f32_8(w + i + 24), load_f32_8(a + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_f32_8(w + i), load_f32_8(a + i), s0);
    float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += w[i] * a[i];
    return sum;
}

/* F16 x F16 dot. */
float ew_vec_dot_f16_avx2(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(load_f16_8(w + i), load_f16_8(a + i), s0);
        s1 = _mm256_fmadd_ps(load_f16_8(w + i + 8), load_f16_8(a + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_f16_8(w + i + 16), load_f16_8(a + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_f16_8(w + i + 24), load_f16_8(a + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_f16_8(w + i), load_f16_8(a + i), s0);
    float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += avx2_h2f(w[i]) * avx2_h2f(a[i]);
    return sum;
}

/* BF16 x BF16 dot. */
float ew_vec_dot_bf16_avx2(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(load_bf16_8(w + i), load_bf16_8(a + i), s0);
        s1 = _mm256_fmadd_ps(load_bf16_8(w + i + 8), load_bf16_8(a + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_bf16_8(w + i + 16), load_bf16_8(a + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_bf16_8(w + i + 24), load_bf16_8(a + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_bf16_8(w + i), load_bf16_8(a + i), s0);
    float sum = avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += ew_bf16_to_fp32(w[i]) * ew_bf16_to_fp32(a[i]);
    return sum;
}

/* ---- 32-element block dots ------------------------------------------------------------------ */
/* Each block: 8 exact int32 partial sums -> float, times d_w * d_a, into 8 float lanes.
 * The loops take two blocks per step into two accumulators so two FMA chains are in
 * flight. */

/* The 32 signed quants q - 8 of a Q4_0 block. */
static inline __m256i q4_0_signed(const ew_block_q4_0 *blk) {
    return _mm256_sub_epi8(avx2_nibbles_32(blk->qs), _mm256_set1_epi8(8));
}

/* The 32 signed quants q - 16 of a Q5_0 block: nibble | 16 * bit, minus 16, which is the
 * nibble when the bit is set and nibble - 16 = nibble | 0xF0 (as int8) when it is not. */
static inline __m256i q5_0_signed(const ew_block_q5_0 *blk) {
    const __m256i bit = avx2_bits_to_bytes_32(blk->qh);
    return _mm256_or_si256(avx2_nibbles_32(blk->qs), _mm256_andnot_si256(bit, _mm256_set1_epi8((char)0xF0)));
}

/* The 32 unsigned quants (0..31) of a Q5_1 block: nibble | 16 * bit. */
static inline __m256i q5_1_unsigned(const ew_block_q5_1 *blk) {
    const __m256i bit = avx2_bits_to_bytes_32(blk->qh);
    return _mm256_or_si256(avx2_nibbles_32(blk->qs), _mm256_and_si256(bit, _mm256_set1_epi8(0x10)));
}

/* acc + (d_w * d_a) * float(p), lanewise. */
static inline __m256 scale_acc(__m256 acc, ew_half dw, ew_half da, __m256i p) {
    return _mm256_fmadd_ps(_mm256_set1_ps(avx2_h2f(dw) * avx2_h2f(da)), _mm256_cvtepi32_ps(p), acc);
}

/* The 32 activation quants of a Q8_0 / Q8_1 block. */
static inline __m256i load_q8(const int8_t *qs) {
    return _mm256_loadu_si256((const __m256i *)qs);
}

/* One block of each dot, added to acc. */
static inline __m256 q8_0_step(__m256 acc, const ew_block_q8_0 *w, const ew_block_q8_0 *a) {
    return scale_acc(acc, w->d, a->d, avx2_dot_i8_pairs(load_q8(w->qs), load_q8(a->qs)));
}

static inline __m256 q4_0_step(__m256 acc, const ew_block_q4_0 *w, const ew_block_q8_0 *a) {
    return scale_acc(acc, w->d, a->d, avx2_dot_i8_pairs(q4_0_signed(w), load_q8(a->qs)));
}

static inline __m256 q5_0_step(__m256 acc, const ew_block_q5_0 *w, const ew_block_q8_0 *a) {
    return scale_acc(acc, w->d, a->d, avx2_dot_i8_pairs(q5_0_signed(w), load_q8(a->qs)));
}

static inline __m256 q4_1_step(__m256 acc, const ew_block_q4_1 *w, const ew_block_q8_1 *a) {
    return scale_acc(acc, w->d, a->d, avx2_dot_u8_pairs(avx2_nibbles_32(w->qs), load_q8(a->qs)));
}

static inline __m256 q5_1_step(__m256 acc, const ew_block_q5_1 *w, const ew_block_q8_1 *a) {
    return scale_acc(acc, w->d, a->d, avx2_dot_u8_pairs(q5_1_unsigned(w), load_q8(a->qs)));
}

/* Q8_0 . Q8_0: per block sum(q * a) * d_w * d_a. */
float ew_vec_dot_q8_0_q8_0_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q8_0 *w = vw;
    const ew_block_q8_0 *a = va;
    const int64_t nb = n / EW_QK8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q8_0_step(acc0, &w[b], &a[b]);
        acc1 = q8_0_step(acc1, &w[b + 1], &a[b + 1]);
    }
    if (b < nb) acc0 = q8_0_step(acc0, &w[b], &a[b]);
    return avx2_hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Q4_0 . Q8_0: per block sum((q - 8) * a) * d_w * d_a. */
float ew_vec_dot_q4_0_q8_0_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_0 *w = vw;
    const ew_block_q8_0 *a = va;
    const int64_t nb = n / EW_QK4_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q4_0_step(acc0, &w[b], &a[b]);
        acc1 = q4_0_step(acc1, &w[b + 1], &a[b + 1]);
    }
    if (b < nb) acc0 = q4_0_step(acc0, &w[b], &a[b]);
    return avx2_hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Q5_0 . Q8_0: per block sum((q - 16) * a) * d_w * d_a. */
float ew_vec_dot_q5_0_q8_0_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_0 *w = vw;
    const ew_block_q8_0 *a = va;
    const int64_t nb = n / EW_QK5_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q5_0_step(acc0, &w[b], &a[b]);
        acc1 = q5_0_step(acc1, &w[b + 1], &a[b + 1]);
    }
    if (b < nb) acc0 = q5_0_step(acc0, &w[b], &a[b]);
    return avx2_hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* Q4_1 . Q8_1: per block d_w * d_a * sum(q * a) + m_w * s_a (the min terms summed in a
 * scalar float, block by block). */
float ew_vec_dot_q4_1_q8_1_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_1 *w = vw;
    const ew_block_q8_1 *a = va;
    const int64_t nb = n / EW_QK4_1;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q4_1_step(acc0, &w[b], &a[b]);
        acc1 = q4_1_step(acc1, &w[b + 1], &a[b + 1]);
    }
    if (b < nb) acc0 = q4_1_step(acc0, &w[b], &a[b]);
    for (b = 0; b < nb; b++) mins += avx2_h2f(w[b].m) * avx2_h2f(a[b].s);
    return avx2_hsum_ps(_mm256_add_ps(acc0, acc1)) + mins;
}

/* Q5_1 . Q8_1: per block d_w * d_a * sum(q * a) + m_w * s_a. */
float ew_vec_dot_q5_1_q8_1_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_1 *w = vw;
    const ew_block_q8_1 *a = va;
    const int64_t nb = n / EW_QK5_1;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q5_1_step(acc0, &w[b], &a[b]);
        acc1 = q5_1_step(acc1, &w[b + 1], &a[b + 1]);
    }
    if (b < nb) acc0 = q5_1_step(acc0, &w[b], &a[b]);
    for (b = 0; b < nb; b++) mins += avx2_h2f(w[b].m) * avx2_h2f(a[b].s);
    return avx2_hsum_ps(_mm256_add_ps(acc0, acc1)) + mins;
}
