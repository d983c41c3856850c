/*
 * quant_k_avx2.c - AVX2 twins of the K-quant dots in quant_k.c: Q4_K, Q5_K and Q6_K
 * weights against Q8_K activations.
 *
 * Each super-block's integer sums (scales x quants x activations, mins x bsums) are
 * computed exactly in 32-bit lanes and summed horizontally once per block; the float part
 * is then the reference's own expression in the reference's order, so the result is
 * bit-identical to ew_vec_dot_*_q8_K_ref (one horizontal sum per 256 elements is cheap).
 * Activations must be well-formed Q8_K blocks (bsums = sums of 16 quants, quants in
 * -127..127), as ew_quantize_q8_K_* make them.
 */
#include "quant/quant_simd.h"
#include "quant/simd_avx2.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* the float part must round as the reference's; gcc -std=c11
                                does not contract, clang would */
#endif

/* Broadcast int16 lane j (0..7) of each 128-bit half of v to the whole half. */
static inline __m256i bcast_i16(__m256i v, int j) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))));
}

/*
 * The eight 6-bit scales (low 128 bits) and mins (high 128 bits) of a Q4_K/Q5_K block as
 * int16, unpacked from scales[12] with 32-bit masks (the same packing ew_k4_scale_min reads
 * byte by byte): sc[0..3] = b[0..3] & 63, m[0..3] = b[4..7] & 63, sc[4..7] = (b[8..11] & 15)
 * | (b[0..3] >> 6) << 4, m[4..7] = (b[8..11] >> 4) | (b[4..7] >> 6) << 4.
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

/* sum_j m[j] * (bsums[2j] + bsums[2j + 1]) with the mins as int16 in m16 (exact). */
static inline int32_t k4_min_sum(__m128i m16, const int16_t *bsums) {
    const __m128i b0 = _mm_loadu_si128((const __m128i *)bsums);
    const __m128i b1 = _mm_loadu_si128((const __m128i *)(bsums + 8));
    const __m128i pairs = _mm_hadd_epi16(b0, b1); /* |pair| <= 2 * 16 * 128: fits int16 */
    return avx2_hsum_epi32_128(_mm_madd_epi16(m16, pairs));
}

/*
 * Chunk c (0..3) of a Q4_K/Q5_K block: sum_j sc[j] * sum_{i in sub-block j} q[i] * a[i] over
 * sub-blocks 2c (the 32 quants in q_lo) and 2c + 1 (q_hi), in 8 int32 lanes; sc holds the
 * scales as int16 lanes 0..7 of both halves. Exact: a pair of products is at most
 * 2 * 31 * 128 and a lane over a whole block at most 4 * 2 * 63 * 4 * 31 * 128.
 */
static inline __m256i k4_chunk(__m256i q_lo, __m256i q_hi, __m256i sc, const int8_t *a, int c) {
    const __m256i a_lo = _mm256_loadu_si256((const __m256i *)(a + 64 * c));
    const __m256i a_hi = _mm256_loadu_si256((const __m256i *)(a + 64 * c + 32));
    const __m256i p_lo = _mm256_madd_epi16(bcast_i16(sc, 2 * c), _mm256_maddubs_epi16(q_lo, a_lo));
    const __m256i p_hi = _mm256_madd_epi16(bcast_i16(sc, 2 * c + 1), _mm256_maddubs_epi16(q_hi, a_hi));
    return _mm256_add_epi32(p_lo, p_hi);
}

/* The reference's float part of a Q4_K/Q5_K block: d * d_a * isum - dmin * d_a * msum. */
static inline float k4_block_value(ew_half d, ew_half dmin, float da, int32_t isum, int32_t msum) {
    return avx2_h2f(d) * da * (float)isum - avx2_h2f(dmin) * da * (float)msum;
}

/* Q4_K . Q8_K, bit-identical to ew_vec_dot_q4_K_q8_K_ref. */
float ew_vec_dot_q4_K_q8_K_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_K *w = vw;
    const ew_block_q8_K *a = va;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        const __m256i sm = k4_scales_mins(w[b].scales);
        const __m256i sc = _mm256_permute2x128_si256(sm, sm, 0x00); /* scales in both halves */
        __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const __m256i raw = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            const __m256i q_lo = _mm256_and_si256(raw, m4);
            const __m256i q_hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
            acc = _mm256_add_epi32(acc, k4_chunk(q_lo, q_hi, sc, a[b].qs, c));
        }
        const int32_t isum = avx2_hsum_epi32(acc);
        const int32_t msum = k4_min_sum(_mm256_extracti128_si256(sm, 1), a[b].bsums);
        sum += k4_block_value(w[b].d, w[b].dmin, a[b].d, isum, msum);
    }
    return sum;
}

/* Bit k of each byte of h moved to bit 4 (value 16), other bits cleared (k = 0..7). */
static inline __m256i bit_to_16(__m256i h, int k) {
    const __m128i count = _mm_cvtsi32_si128(k);
    return _mm256_and_si256(_mm256_slli_epi16(_mm256_srl_epi16(h, count), 4), _mm256_set1_epi8(0x10));
}

/* Q5_K . Q8_K, bit-identical to ew_vec_dot_q5_K_q8_K_ref: the Q4_K method with the fifth
 * bit of element 64c + l (bit 2c of qh[l]) and 64c + 32 + l (bit 2c + 1) or-ed in. */
float ew_vec_dot_q5_K_q8_K_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_K *w = vw;
    const ew_block_q8_K *a = va;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        const __m256i sm = k4_scales_mins(w[b].scales);
        const __m256i sc = _mm256_permute2x128_si256(sm, sm, 0x00);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)w[b].qh);
        __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const __m256i raw = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            const __m256i q_lo = _mm256_or_si256(_mm256_and_si256(raw, m4), bit_to_16(qh, 2 * c));
            const __m256i q_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(raw, 4), m4), bit_to_16(qh, 2 * c + 1));
            acc = _mm256_add_epi32(acc, k4_chunk(q_lo, q_hi, sc, a[b].qs, c));
        }
        const int32_t isum = avx2_hsum_epi32(acc);
        const int32_t msum = k4_min_sum(_mm256_extracti128_si256(sm, 1), a[b].bsums);
        sum += k4_block_value(w[b].d, w[b].dmin, a[b].d, isum, msum);
    }
    return sum;
}

/*
 * The 128 unsigned 6-bit quants (0..63) of half h of a Q6_K block as four vectors of 32
 * (elements 128h + 32i + l, i = 0..3), from ql (64 bytes) and qh (32 bytes) as blocks.h
 * lays them out: low nibbles of ql[l] / ql[l+32] for i = 0 / 1, high nibbles for 2 / 3;
 * bits 2i, 2i + 1 of qh[l] on top.
 */
static inline void q6_K_half(const uint8_t *ql, const uint8_t *qh, __m256i q[4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    /* shifts are per 16 bits; every moved pair of bits stays inside its byte after masking */
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m2));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m2));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m2));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                           _mm256_and_si256(_mm256_srli_epi16(h, 2), m2));
}

/*
 * Q6_K . Q8_K, bit-identical to ew_vec_dot_q6_K_q8_K_ref. With q the unsigned quants,
 * sum_s sc[s] * sum((q - 32) * a) = sum_s sc[s] * sum(q * a) - 32 * sum_s sc[s] * bsums[s]:
 * maddubs takes q (0..63) unsigned, the offset comes from the activations' bsums. Exact: a
 * product pair is at most 2 * 63 * 128, a lane at most 16 * 128 * 63 * 128 * 2.
 */
float ew_vec_dot_q6_K_q8_K_avx2(int64_t n, const void *vw, const void *va) {
    const ew_block_q6_K *w = vw;
    const ew_block_q8_K *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8); /* scales 0..7 | 8..15 */
        __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            /* scales 8h..8h+7 in both halves: vector i takes 8h+2i (low) and 8h+2i+1 (high) */
            const __m256i sch = h ? _mm256_permute2x128_si256(sc16, sc16, 0x11)
                                  : _mm256_permute2x128_si256(sc16, sc16, 0x00);
            __m256i q[4];
            q6_K_half(w[b].ql + 64 * h, w[b].qh + 32 * h, q);
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) {
                const __m256i av = _mm256_loadu_si256((const __m256i *)(a[b].qs + 128 * h + 32 * i));
                const __m256i s = _mm256_blend_epi32(bcast_i16(sch, 2 * i), bcast_i16(sch, 2 * i + 1), 0xF0);
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(s, _mm256_maddubs_epi16(q[i], av)));
            }
        }
        const __m256i bs = _mm256_loadu_si256((const __m256i *)a[b].bsums);
        const int32_t offset = avx2_hsum_epi32(_mm256_madd_epi16(sc16, bs));
        const int32_t isum = avx2_hsum_epi32(acc) - 32 * offset;
        sum += avx2_h2f(w[b].d) * a[b].d * (float)isum;
    }
    return sum;
}
