/*
 * quant_k_avx512.c - AVX-512 + VNNI twins of the K-quant dots in quant_k.c: Q4_K, Q5_K and
 * Q6_K weights against Q8_K activations. Dispatch (dispatch_x86.c) uses them only when the
 * CPU has AVX512-VNNI.
 *
 * As in quant_k_avx2.c, a super-block's integer sums are exact in 32-bit lanes and summed
 * horizontally once per block, and the float part is the reference's own expression in the
 * reference's order: the result is bit-identical to ew_vec_dot_*_q8_K_ref. Activations must
 * be well-formed Q8_K blocks (bsums = sums of 16 quants, quants in -127..127).
 *
 * What AVX-512 adds over the AVX2 kernels: vpdpwssd multiplies the vpmaddubsw pair sums by
 * the sub-block scales and accumulates in one instruction; the scale and min sums of a
 * block are reduced together and its float part is evaluated in two lanes at once; Q5_K's
 * fifth bits are mask registers (vptestmb) and Q6_K's bit assembly uses vpternlog. Q4_K and
 * Q5_K work on 256-bit vectors, Q6_K on 512-bit ones (64 quants = four of its 16-element
 * sub-blocks per vector); on Zen 4 that split measured fastest.
 */
#include "quant/quant_simd.h"
#include "quant/simd_avx2.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* the float part must round as the reference's */
#endif

/* Broadcast int16 lane j (0..7) of each 128-bit half of v to the whole half. */
static inline __m256i bcast_i16(__m256i v, int j) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))));
}

/*
 * The eight 6-bit scales (low 128 bits) and mins (high 128 bits) of a Q4_K/Q5_K block as
 * int16, unpacked from scales[12] with 32-bit masks (the packing ew_k4_scale_min reads byte
 * by byte): sc[0..3] = b[0..3] & 63, m[0..3] = b[4..7] & 63, sc[4..7] = (b[8..11] & 15) |
 * (b[0..3] >> 6) << 4, m[4..7] = (b[8..11] >> 4) | (b[4..7] >> 6) << 4.
 */
static inline __m256i k4_scales_mins(const uint8_t packed[EW_K_SCALE_SIZE]) {
    uint32_t u[3];
    memcpy(u, packed, sizeof u);
    const uint32_t low6 = 0x3F3F3F3F, low4 = 0x0F0F0F0F, low2 = 0x03030303;
    const uint32_t sc_lo = u[0] & low6, m_lo = u[1] & low6;
    const uint32_t sc_hi = (u[2] & low4) | (((u[0] >> 6) & low2) << 4);
    const uint32_t m_hi = ((u[2] >> 4) & low4) | (((u[1] >> 6) & low2) << 4);
    return _mm256_cvtepu8_epi16(_mm_setr_epi32((int)sc_lo, (int)sc_hi, (int)m_lo, (int)m_hi));
}

/* int32 lanes summing to sum_j m[j] * (bsums[2j] + bsums[2j + 1]): each min (high half of
 * sm) paired with both of its sub-block's bsums (exact: |m * bsum| <= 63 * 16 * 128). */
static inline __m256i k4_min_lanes(__m256i sm, const int16_t *bsums) {
    const __m256i m = _mm256_permute2x128_si256(sm, sm, 0x11);
    const __m256i m2 = _mm256_shuffle_epi8(m, _mm256_setr_epi8(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9,
                                                                8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15));
    return _mm256_madd_epi16(m2, _mm256_loadu_si256((const __m256i *)bsums));
}

/*
 * The reference's float part of a Q4_K/Q5_K block, d * d_a * isum - dmin * d_a * msum, with
 * isum the lane sum of s and msum that of m (both exact in int32): the two sums are reduced
 * together, then [d, dmin] * d_a * [isum, msum] in two lanes (each product rounded as the
 * reference's scalar one) and the difference of the lanes.
 */
static inline float k4_block_value(const ew_half *d_dmin, float da, __m256i s, __m256i m) {
    const __m256i h = _mm256_hadd_epi32(s, m); /* s01 s23 m01 m23 | s45 s67 m45 m67 */
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    t = _mm_hadd_epi32(t, t); /* isum msum isum msum */
    const __m128 dd = _mm_cvtph_ps(_mm_loadu_si32(d_dmin)); /* d dmin 0 0 */
    const __m128 p = _mm_mul_ps(_mm_mul_ps(dd, _mm_set1_ps(da)), _mm_cvtepi32_ps(t));
    return _mm_cvtss_f32(_mm_sub_ss(p, _mm_movehdup_ps(p)));
}

/*
 * Chunk c (0..3) of a Q4_K/Q5_K block: acc[0] + sc[2c] * (q_lo . a[64c..64c+31]) and acc[1]
 * + sc[2c+1] * (q_hi . a[64c+32..64c+63]) in 8 int32 lanes each (two accumulators: two
 * dependency chains), q_lo / q_hi the unsigned quants of sub-blocks 2c and 2c + 1, sc the
 * scales as int16 lanes 0..7 of both halves. Exact: a product pair is at most 2 * 31 * 128,
 * a lane over a block at most 4 * 2 * 63 * 2 * 31 * 128.
 */
static inline void k4_chunk(__m256i acc[2], __m256i q_lo, __m256i q_hi, __m256i sc, const int8_t *a, int c) {
    const __m256i a_lo = _mm256_loadu_si256((const __m256i *)(a + 64 * c));
    const __m256i a_hi = _mm256_loadu_si256((const __m256i *)(a + 64 * c + 32));
    acc[0] = _mm256_dpwssd_epi32(acc[0], _mm256_maddubs_epi16(q_lo, a_lo), bcast_i16(sc, 2 * c));
    acc[1] = _mm256_dpwssd_epi32(acc[1], _mm256_maddubs_epi16(q_hi, a_hi), bcast_i16(sc, 2 * c + 1));
}

/* Q4_K . Q8_K, bit-identical to ew_vec_dot_q4_K_q8_K_ref. */
float ew_vec_dot_q4_K_q8_K_avx512vnni(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_K *w = vw;
    const ew_block_q8_K *a = va;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        const __m256i sm = k4_scales_mins(w[b].scales);
        const __m256i sc = _mm256_permute2x128_si256(sm, sm, 0x00); /* scales in both halves */
        __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const __m256i raw = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            const __m256i q_lo = _mm256_and_si256(raw, m4);
            const __m256i q_hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
            k4_chunk(acc, q_lo, q_hi, sc, a[b].qs, c);
        }
        const __m256i isum = _mm256_add_epi32(acc[0], acc[1]);
        sum += k4_block_value(&w[b].d, a[b].d, isum, k4_min_lanes(sm, a[b].bsums));
    }
    return sum;
}

/* q + 16 in the bytes of q whose bit k of h is set (vptestmb + a masked add). */
static inline __m256i add_bit_16(__m256i q, __m256i h, int k) {
    const __mmask32 set = _mm256_test_epi8_mask(h, _mm256_set1_epi8((char)(1 << k)));
    return _mm256_mask_add_epi8(q, set, q, _mm256_set1_epi8(16));
}

/* Q5_K . Q8_K, bit-identical to ew_vec_dot_q5_K_q8_K_ref: the Q4_K method with the fifth
 * bit of element 64c + l (bit 2c of qh[l]) and 64c + 32 + l (bit 2c + 1) added. */
float ew_vec_dot_q5_K_q8_K_avx512vnni(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_K *w = vw;
    const ew_block_q8_K *a = va;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        const __m256i sm = k4_scales_mins(w[b].scales);
        const __m256i sc = _mm256_permute2x128_si256(sm, sm, 0x00);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)w[b].qh);
        __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const __m256i raw = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            const __m256i q_lo = add_bit_16(_mm256_and_si256(raw, m4), qh, 2 * c);
            const __m256i q_hi = add_bit_16(_mm256_and_si256(_mm256_srli_epi16(raw, 4), m4), qh, 2 * c + 1);
            k4_chunk(acc, q_lo, q_hi, sc, a[b].qs, c);
        }
        const __m256i isum = _mm256_add_epi32(acc[0], acc[1]);
        sum += k4_block_value(&w[b].d, a[b].d, isum, k4_min_lanes(sm, a[b].bsums));
    }
    return sum;
}

/*
 * The 128 unsigned 6-bit quants (0..63) of half h of a Q6_K block as two vectors of 64:
 * q01 = elements 128h + 0..63, q23 = 128h + 64..127 (blocks.h): the low nibbles of
 * ql[0..63] with bits 0-1 (first 32) / 2-3 (next 32) of qh[l] on top, then the high
 * nibbles with bits 4-5 / 6-7.
 */
static inline void q6_K_half(const uint8_t *ql, const uint8_t *qh, __m512i *q01, __m512i *q23) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x30);
    const __m512i l = _mm512_loadu_si512(ql);
    const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh));
    /* 64-bit shifts: every moved pair of bits stays inside its byte after the 0x30 mask */
    const __m512i h01 = _mm512_and_si512(_mm512_sllv_epi64(h, _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4)), m2);
    const __m512i h23 = _mm512_and_si512(_mm512_srlv_epi64(h, _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0)), m2);
    /* (x & 0x0F) | y in one vpternlog: imm 0xEA = (A & B) | C */
    *q01 = _mm512_ternarylogic_epi64(l, m4, h01, 0xEA);
    *q23 = _mm512_ternarylogic_epi64(_mm512_srli_epi16(l, 4), m4, h23, 0xEA);
}

/* int16 lanes 8k..8k+7 = scale 4g + k (k = 0..3), the scales of the four 16-element
 * sub-blocks of 64-element group g, from the 16 scales as int16 (lanes 0..15 of sc16). */
static inline __m512i q6_group_scales(__m512i sc16, int g) {
    const __m512i lane_group = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, /* j / 8 */
                                                1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_permutexvar_epi16(_mm512_add_epi16(_mm512_set1_epi16((short)(4 * g)), lane_group), sc16);
}

/* Sum of the 16 int32 lanes (wrapping). */
static inline int32_t hsum_epi32_512(__m512i v) {
    return avx2_hsum_epi32(_mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
}

/*
 * Q6_K . Q8_K, bit-identical to ew_vec_dot_q6_K_q8_K_ref. With q the unsigned quants,
 * sum_s sc[s] * sum((q - 32) * a) = sum_s sc[s] * sum(q * a) - 32 * sum_s sc[s] * bsums[s]:
 * vpmaddubsw takes q (0..63) unsigned, the offset comes from the bsums and is folded into
 * the lanes before the one horizontal sum. Exact: a product pair is at most 2 * 63 * 128, a
 * lane at most 4 * 2 * 16128 * 128 plus the offset's 32 * 2 * 128 * 2048.
 */
float ew_vec_dot_q6_K_q8_K_avx512vnni(int64_t n, const void *vw, const void *va) {
    const ew_block_q6_K *w = vw;
    const ew_block_q8_K *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        const __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[b].scales));
        const __m512i sc16 = _mm512_castsi256_si512(sc);
        const __m256i offset = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)a[b].bsums));
        __m512i acc = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 5)));
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m512i q01, q23;
            q6_K_half(w[b].ql + 64 * h, w[b].qh + 32 * h, &q01, &q23);
            const __m512i p01 = _mm512_maddubs_epi16(q01, _mm512_loadu_si512(a[b].qs + 128 * h));
            const __m512i p23 = _mm512_maddubs_epi16(q23, _mm512_loadu_si512(a[b].qs + 128 * h + 64));
            acc = _mm512_dpwssd_epi32(acc, p01, q6_group_scales(sc16, 2 * h));
            acc = _mm512_dpwssd_epi32(acc, p23, q6_group_scales(sc16, 2 * h + 1));
        }
        sum += avx2_h2f(w[b].d) * a[b].d * (float)hsum_epi32_512(acc);
    }
    return sum;
}
