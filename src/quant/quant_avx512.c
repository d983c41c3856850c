/*
 * quant_avx512.c - AVX-512 (+VNNI, +BF16) twins of the 32-element block dots (Q8_0, Q4_0,
 * Q5_0 x Q8_0; Q4_1, Q5_1 x Q8_1) and of the BF16 dot. What each promises relative to its
 * reference: quant_simd.h. Dispatch (dispatch_x86.c) uses the block dots only when the CPU
 * has AVX512-VNNI and the BF16 dot only with AVX512-BF16; the level's other entries (the
 * activation quantizers, F32 and F16 dots) stay the AVX2 ones, which are as fast here.
 *
 * Method, tuned on Zen 4 (which runs a 512-bit op as two 256-bit halves, so 512-bit
 * vectors only pay where they save instructions): one block per 256-bit vector, with the
 * AVX-512 additions at that width (AVX512VL):
 *  - vpdpbusd (u8 x s8, four products summed into an int32 lane) replaces AVX2's
 *    vpmaddubsw + vpmaddwd;
 *  - unsigned weights with an offset (Q4_0: q - 8, Q5_0: q - 16) are dotted as
 *    sum(q * a) - off * sum(a) (two vpdpbusd) instead of the sign trick;
 *  - Q5's fifth bits are a 32-bit mask register, merged with the nibbles by one vpternlog;
 *  - the per-block scale d_w * d_a is converted straight from memory (vcvtph2ps of the
 *    block's first bytes), with no general-purpose-register round trip.
 * Two blocks a step into two accumulators keep short rows (576 elements: 18 blocks) cheap.
 */
#include "quant/quant_simd.h"
#include "quant/simd_avx2.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* gcc -std=c11 does not contract; clang would */
#endif

/* ---- shared pieces ------------------------------------------------------------------------ */

/* The two binary16 at p (4 bytes) as floats in lanes 0 and 1; lanes 2 and 3 are 0. */
static inline __m128 halves_at(const void *p) {
    return _mm_cvtph_ps(_mm_loadu_si32(p));
}

/* [h(pw) * h(pa)] in all 8 lanes: a block's scale d_w * d_a. */
static inline __m256 block_scale(const void *pw, const void *pa) {
    return _mm256_broadcastss_ps(_mm_mul_ss(halves_at(pw), halves_at(pa)));
}

/* acc + scale * float(p), lanewise. */
static inline __m256 scale_acc(__m256 acc, __m256 scale, __m256i p) {
    return _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(p), acc);
}

/* The 16 bytes of a Q4 nibble array in both 128-bit halves, the high half shifted right by
 * 4 bits (per 64 bits): the low nibbles of the result are the block's 32 4-bit values in
 * element order (element j < 16 is the low nibble of qs[j], element j + 16 the high one). */
static inline __m256i nibble_halves(const uint8_t *qs) {
    const __m256i x = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    return _mm256_srlv_epi64(x, _mm256_set_epi64x(4, 4, 0, 0));
}

/* The 32 4-bit values (0..15) of a Q4 nibble array as bytes in element order. */
static inline __m256i nibbles_32(const uint8_t *qs) {
    return _mm256_and_si256(nibble_halves(qs), _mm256_set1_epi8(0x0F));
}

/* The 32 5-bit values (0..31) of a Q5 block as bytes in element order: its nibbles with 16 added where the
 * block's 32-bit little-endian qh has the element's bit set (bit j for element j); one
 * vpternlog merges the nibble mask and the masked 16s. */
static inline __m256i q5_values_32(const uint8_t *qs, const uint8_t *qh) {
    uint32_t h;
    memcpy(&h, qh, sizeof h);
    const __m256i high = _mm256_maskz_mov_epi8(_cvtu32_mask32(h), _mm256_set1_epi8(16));
    /* imm 0xEA = (A & B) | C */
    return _mm256_ternarylogic_epi64(nibble_halves(qs), _mm256_set1_epi8(0x0F), high, 0xEA);
}

/* The 32 activation quants of a Q8_0 / Q8_1 block. */
static inline __m256i load_q8(const int8_t *qs) {
    return _mm256_loadu_si256((const __m256i *)qs);
}

/* int32 lanes k = 0..7: sum_{i<4} u[4k+i] * s[4k+i], u unsigned, s signed (exact). */
static inline __m256i dot_u8(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

/* int32 lanes: sum over 4-element groups of (q - off) * a for unsigned q: sum(q * a) -
 * off * sum(a), both exact. */
static inline __m256i dot_u8_off(__m256i q, __m256i a, int off) {
    return _mm256_sub_epi32(dot_u8(q, a), dot_u8(_mm256_set1_epi8((char)off), a));
}

/* int32 lanes: sum over 4-element groups of w * a for signed w (any byte) and a in
 * -127..127: |w| (0..128) times a with w's sign moved onto it. */
static inline __m256i dot_i8(__m256i w, __m256i a) {
    return dot_u8(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
}

/* ---- one block of each dot: acc + d_w * d_a * (exact integer partial sums) --------------- */

static inline __m256 q8_0_step(__m256 acc, const ew_block_q8_0 *w, const ew_block_q8_0 *a) {
    return scale_acc(acc, block_scale(&w->d, &a->d), dot_i8(load_q8(w->qs), load_q8(a->qs)));
}

static inline __m256 q4_0_step(__m256 acc, const ew_block_q4_0 *w, const ew_block_q8_0 *a) {
    return scale_acc(acc, block_scale(&w->d, &a->d), dot_u8_off(nibbles_32(w->qs), load_q8(a->qs), 8));
}

static inline __m256 q5_0_step(__m256 acc, const ew_block_q5_0 *w, const ew_block_q8_0 *a) {
    const __m256i q = q5_values_32(w->qs, w->qh);
    return scale_acc(acc, block_scale(&w->d, &a->d), dot_u8_off(q, load_q8(a->qs), 16));
}

/*
 * A Q4_1 / Q5_1 block with its unsigned quants q: acc + d_w * d_a * sum(q * a), and lane 1
 * of *mins + m_w * s_a. The halves (d, m) of the weight and (d, s) of the activation sit
 * side by side at the start of each block, so one product gives both factors.
 */
static inline __m256 q_1_step(__m256 acc, __m128 *mins, __m256i q, const void *w_dm, const ew_block_q8_1 *a) {
    const __m128 p = _mm_mul_ps(halves_at(w_dm), halves_at(&a->d)); /* [d_w * d_a, m_w * s_a, ..] */
    *mins = _mm_add_ps(*mins, p);
    return scale_acc(acc, _mm256_broadcastss_ps(p), dot_u8(q, load_q8(a->qs)));
}

/* Lane 1 of the min accumulator. */
static inline float mins_total(__m128 mins) {
    return _mm_cvtss_f32(_mm_movehdup_ps(mins));
}

/* ---- the row dots ----------------------------------------------------------------------- */

/* Q8_0 . Q8_0: per block sum(q * a) * d_w * d_a. */
float ew_vec_dot_q8_0_q8_0_avx512vnni(int64_t n, const void *vw, const void *va) {
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
float ew_vec_dot_q4_0_q8_0_avx512vnni(int64_t n, const void *vw, const void *va) {
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
float ew_vec_dot_q5_0_q8_0_avx512vnni(int64_t n, const void *vw, const void *va) {
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

/* Q4_1 . Q8_1: per block d_w * d_a * sum(q * a) + m_w * s_a. */
float ew_vec_dot_q4_1_q8_1_avx512vnni(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_1 *w = vw;
    const ew_block_q8_1 *a = va;
    const int64_t nb = n / EW_QK4_1;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 mins = _mm_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q_1_step(acc0, &mins, nibbles_32(w[b].qs), &w[b].d, &a[b]);
        acc1 = q_1_step(acc1, &mins, nibbles_32(w[b + 1].qs), &w[b + 1].d, &a[b + 1]);
    }
    if (b < nb) acc0 = q_1_step(acc0, &mins, nibbles_32(w[b].qs), &w[b].d, &a[b]);
    return avx2_hsum_ps(_mm256_add_ps(acc0, acc1)) + mins_total(mins);
}

/* Q5_1 . Q8_1: per block d_w * d_a * sum(q * a) + m_w * s_a. */
float ew_vec_dot_q5_1_q8_1_avx512vnni(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_1 *w = vw;
    const ew_block_q8_1 *a = va;
    const int64_t nb = n / EW_QK5_1;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 mins = _mm_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q_1_step(acc0, &mins, q5_values_32(w[b].qs, w[b].qh), &w[b].d, &a[b]);
        acc1 = q_1_step(acc1, &mins, q5_values_32(w[b + 1].qs, w[b + 1].qh), &w[b + 1].d, &a[b + 1]);
    }
    if (b < nb) acc0 = q_1_step(acc0, &mins, q5_values_32(w[b].qs, w[b].qh), &w[b].d, &a[b]);
    return avx2_hsum_ps(_mm256_add_ps(acc0, acc1)) + mins_total(mins);
}

/* ---- BF16 ---------------------------------------------------------------------------------- */

/* 16 bf16 at p + i as a vdpbf16ps operand; lanes not in m are 0 and not read. */
static inline __m256bh load16_bf16(const uint16_t *p, int64_t i, __mmask16 m) {
    return (__m256bh)_mm256_maskz_loadu_epi16(m, p + i);
}

/*
 * BF16 x BF16 dot with AVX512-BF16 (at 256 bits: as fast in cache as 512 and faster when
 * streaming from DRAM on Zen 4): vdpbf16ps adds the two products of a pair of bf16 to a
 * float lane (a product of two bf16 is exact in float), four accumulators over 64 elements
 * a step, then 16 at a time, then one masked step for the rest (masked-off lanes load as 0
 * and touch no memory). vdpbf16ps treats bf16 subnormals as zero and flushes subnormal
 * results, so rows of subnormals give 0 where the reference does not; for normal data the
 * difference from the reference is float rounding.
 */
float ew_vec_dot_bf16_avx512bf16(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    const __mmask16 all = 0xFFFF;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm256_dpbf16_ps(s0, load16_bf16(w, i, all), load16_bf16(a, i, all));
        s1 = _mm256_dpbf16_ps(s1, load16_bf16(w, i + 16, all), load16_bf16(a, i + 16, all));
        s2 = _mm256_dpbf16_ps(s2, load16_bf16(w, i + 32, all), load16_bf16(a, i + 32, all));
        s3 = _mm256_dpbf16_ps(s3, load16_bf16(w, i + 48, all), load16_bf16(a, i + 48, all));
    }
    for (; i + 16 <= n; i += 16) s0 = _mm256_dpbf16_ps(s0, load16_bf16(w, i, all), load16_bf16(a, i, all));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm256_dpbf16_ps(s1, load16_bf16(w, i, m), load16_bf16(a, i, m));
    }
    return avx2_hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}
