/*
 * neon_dots.h - the bodies of the NEON integer dots (32-element block types and K-quants),
 * shared by quant_neon.c (base ASIMD) and quant_dotprod.c (SDOT). Each body takes the int8
 * dot step as an argument (neon_dot_fn, simd_neon.h) and is always inlined, so in each file
 * the step becomes that file's instructions (vmull + vpadal, or vdotq_s32) and the two
 * versions cannot drift apart. Include only from those two files.
 *
 * Contracts as quant_simd.h states for AVX2: the integer sums per block are exact; the
 * 32-element block dots apply d_w * d_a per block in four float lanes (reassociation only);
 * the K-quant dots sum each super-block's integers exactly, then evaluate the reference's
 * own float expression in the reference's order (bit-identical).
 */
#ifndef EW_NEON_DOTS_H
#define EW_NEON_DOTS_H

#include "quant/simd_neon.h"

#define NEON_BODY static inline __attribute__((always_inline))

/* ---- 32-element blocks ------------------------------------------------------------------- */

/* The exact dot of 32 int8 quants (q[0] = elements 0..15, q[1] = 16..31) with 32 int8
 * activations, in four int32 lanes. */
NEON_BODY int32x4_t neon_dot_32(const int8x16_t q[2], const int8_t *a, neon_dot_fn dot) {
    int8x16_t a0, a1;
    neon_load_q8_32(a, &a0, &a1);
    return dot(dot(vdupq_n_s32(0), q[0], a0), q[1], a1);
}

/* acc + (d_w * d_a) * float(p), lanewise (one fused multiply-add). */
NEON_BODY float32x4_t neon_scale_acc(float32x4_t acc, ew_half dw, ew_half da, int32x4_t p) {
    return vfmaq_n_f32(acc, vcvtq_f32_s32(p), neon_h2f(dw) * neon_h2f(da));
}

/* The signed quants q - 8 of a Q4_0 block. */
NEON_BODY void q4_0_quants(const ew_block_q4_0 *blk, int8x16_t q[2]) {
    uint8x16_t lo, hi;
    neon_nibbles_32(blk->qs, &lo, &hi);
    q[0] = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(8));
    q[1] = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(8));
}

/* The signed quants q - 16 of a Q5_0 block: nibble | 16 * bit, minus 16, which is the
 * nibble when the bit is set and nibble - 16 = nibble | 0xF0 (as int8) when it is not. */
NEON_BODY void q5_0_quants(const ew_block_q5_0 *blk, int8x16_t q[2]) {
    uint8x16_t lo, hi, bit_lo, bit_hi;
    neon_nibbles_32(blk->qs, &lo, &hi);
    neon_bits_to_bytes_32(blk->qh, &bit_lo, &bit_hi);
    const uint8x16_t f0 = vdupq_n_u8(0xF0);
    q[0] = vreinterpretq_s8_u8(vorrq_u8(lo, vbicq_u8(f0, bit_lo)));
    q[1] = vreinterpretq_s8_u8(vorrq_u8(hi, vbicq_u8(f0, bit_hi)));
}

/* The unsigned quants (0..15) of a Q4_1 block, as int8. */
NEON_BODY void q4_1_quants(const ew_block_q4_1 *blk, int8x16_t q[2]) {
    uint8x16_t lo, hi;
    neon_nibbles_32(blk->qs, &lo, &hi);
    q[0] = vreinterpretq_s8_u8(lo);
    q[1] = vreinterpretq_s8_u8(hi);
}

/* The unsigned quants (0..31) of a Q5_1 block, nibble | 16 * bit, as int8. */
NEON_BODY void q5_1_quants(const ew_block_q5_1 *blk, int8x16_t q[2]) {
    uint8x16_t lo, hi, bit_lo, bit_hi;
    neon_nibbles_32(blk->qs, &lo, &hi);
    neon_bits_to_bytes_32(blk->qh, &bit_lo, &bit_hi);
    const uint8x16_t b4 = vdupq_n_u8(0x10);
    q[0] = vreinterpretq_s8_u8(vorrq_u8(lo, vandq_u8(bit_lo, b4)));
    q[1] = vreinterpretq_s8_u8(vorrq_u8(hi, vandq_u8(bit_hi, b4)));
}

/* One block of each dot, added to acc. */
NEON_BODY float32x4_t q8_0_step(float32x4_t acc, const ew_block_q8_0 *w, const ew_block_q8_0 *a,
                                neon_dot_fn dot) {
    int8x16_t q[2];
    neon_load_q8_32(w->qs, &q[0], &q[1]);
    return neon_scale_acc(acc, w->d, a->d, neon_dot_32(q, a->qs, dot));
}

NEON_BODY float32x4_t q4_0_step(float32x4_t acc, const ew_block_q4_0 *w, const ew_block_q8_0 *a,
                                neon_dot_fn dot) {
    int8x16_t q[2];
    q4_0_quants(w, q);
    return neon_scale_acc(acc, w->d, a->d, neon_dot_32(q, a->qs, dot));
}

NEON_BODY float32x4_t q5_0_step(float32x4_t acc, const ew_block_q5_0 *w, const ew_block_q8_0 *a,
                                neon_dot_fn dot) {
    int8x16_t q[2];
    q5_0_quants(w, q);
    return neon_scale_acc(acc, w->d, a->d, neon_dot_32(q, a->qs, dot));
}

NEON_BODY float32x4_t q4_1_step(float32x4_t acc, const ew_block_q4_1 *w, const ew_block_q8_1 *a,
                                neon_dot_fn dot) {
    int8x16_t q[2];
    q4_1_quants(w, q);
    return neon_scale_acc(acc, w->d, a->d, neon_dot_32(q, a->qs, dot));
}

NEON_BODY float32x4_t q5_1_step(float32x4_t acc, const ew_block_q5_1 *w, const ew_block_q8_1 *a,
                                neon_dot_fn dot) {
    int8x16_t q[2];
    q5_1_quants(w, q);
    return neon_scale_acc(acc, w->d, a->d, neon_dot_32(q, a->qs, dot));
}

/* The loops take two blocks per step into two accumulators, so two chains are in flight. */

/* Q8_0 . Q8_0: per block sum(q * a) * d_w * d_a. */
NEON_BODY float neon_dot_q8_0_q8_0(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q8_0 *w = vw;
    const ew_block_q8_0 *a = va;
    const int64_t nb = n / EW_QK8_0;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q8_0_step(acc0, &w[b], &a[b], dot);
        acc1 = q8_0_step(acc1, &w[b + 1], &a[b + 1], dot);
    }
    if (b < nb) acc0 = q8_0_step(acc0, &w[b], &a[b], dot);
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

/* Q4_0 . Q8_0: per block sum((q - 8) * a) * d_w * d_a. */
NEON_BODY float neon_dot_q4_0_q8_0(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q4_0 *w = vw;
    const ew_block_q8_0 *a = va;
    const int64_t nb = n / EW_QK4_0;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q4_0_step(acc0, &w[b], &a[b], dot);
        acc1 = q4_0_step(acc1, &w[b + 1], &a[b + 1], dot);
    }
    if (b < nb) acc0 = q4_0_step(acc0, &w[b], &a[b], dot);
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

/* Q5_0 . Q8_0: per block sum((q - 16) * a) * d_w * d_a. */
NEON_BODY float neon_dot_q5_0_q8_0(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q5_0 *w = vw;
    const ew_block_q8_0 *a = va;
    const int64_t nb = n / EW_QK5_0;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q5_0_step(acc0, &w[b], &a[b], dot);
        acc1 = q5_0_step(acc1, &w[b + 1], &a[b + 1], dot);
    }
    if (b < nb) acc0 = q5_0_step(acc0, &w[b], &a[b], dot);
    return vaddvq_f32(vaddq_f32(acc0, acc1));
}

/* Q4_1 . Q8_1: per block d_w * d_a * sum(q * a) + m_w * s_a (the min terms summed in a
 * scalar float, block by block). */
NEON_BODY float neon_dot_q4_1_q8_1(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q4_1 *w = vw;
    const ew_block_q8_1 *a = va;
    const int64_t nb = n / EW_QK4_1;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    float mins = 0;
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q4_1_step(acc0, &w[b], &a[b], dot);
        acc1 = q4_1_step(acc1, &w[b + 1], &a[b + 1], dot);
    }
    if (b < nb) acc0 = q4_1_step(acc0, &w[b], &a[b], dot);
    for (b = 0; b < nb; b++) mins += neon_h2f(w[b].m) * neon_h2f(a[b].s);
    return vaddvq_f32(vaddq_f32(acc0, acc1)) + mins;
}

/* Q5_1 . Q8_1: per block d_w * d_a * sum(q * a) + m_w * s_a. */
NEON_BODY float neon_dot_q5_1_q8_1(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q5_1 *w = vw;
    const ew_block_q8_1 *a = va;
    const int64_t nb = n / EW_QK5_1;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    float mins = 0;
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        acc0 = q5_1_step(acc0, &w[b], &a[b], dot);
        acc1 = q5_1_step(acc1, &w[b + 1], &a[b + 1], dot);
    }
    if (b < nb) acc0 = q5_1_step(acc0, &w[b], &a[b], dot);
    for (b = 0; b < nb; b++) mins += neon_h2f(w[b].m) * neon_h2f(a[b].s);
    return vaddvq_f32(vaddq_f32(acc0, acc1)) + mins;
}

/* ---- K-quants ---------------------------------------------------------------------------- */

/*
 * The eight 6-bit scales and mins of a Q4_K/Q5_K block, unpacked from scales[12] with
 * 32-bit masks (the packing ew_k4_scale_min reads byte by byte): sc[0..3] = b[0..3] & 63,
 * m[0..3] = b[4..7] & 63, sc[4..7] = (b[8..11] & 15) | (b[0..3] >> 6) << 4,
 * m[4..7] = (b[8..11] >> 4) | (b[4..7] >> 6) << 4.
 */
NEON_BODY void neon_k4_scales_mins(const uint8_t packed[EW_K_SCALE_SIZE], uint8_t sc[8], uint8_t m[8]) {
    uint32_t u[3];
    memcpy(u, packed, sizeof u);
    const uint32_t low6 = 0x3F3F3F3F, low4 = 0x0F0F0F0F, low2 = 0x03030303;
    const uint32_t s[2] = {u[0] & low6, (u[2] & low4) | (((u[0] >> 6) & low2) << 4)};
    const uint32_t mm[2] = {u[1] & low6, ((u[2] >> 4) & low4) | (((u[1] >> 6) & low2) << 4)};
    memcpy(sc, s, sizeof s);
    memcpy(m, mm, sizeof mm);
}

/* sum_j m[j] * (bsums[2j] + bsums[2j + 1]), exact (a pair of bsums is at most 2 * 16 * 128
 * in magnitude, so the pairwise add stays in int16). */
NEON_BODY int32_t neon_k4_min_sum(const uint8_t m[8], const int16_t *bsums) {
    const int16x8_t pairs = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
    const int16x8_t m16 = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(m)));
    const int32x4_t s = vmlal_high_s16(vmull_s16(vget_low_s16(m16), vget_low_s16(pairs)), m16, pairs);
    return vaddvq_s32(s);
}

/*
 * Chunk c of a Q4_K/Q5_K block (sub-blocks 2c and 2c + 1, activations a[0..63] of the
 * chunk): acc + sc_lo * sum(q_lo . a[0..31]) + sc_hi * sum(q_hi . a[32..63]), exact: a
 * lane over a whole block is at most 8 * 63 * 32 * 31 * 128.
 */
NEON_BODY int32x4_t neon_k4_chunk(int32x4_t acc, const int8x16_t q_lo[2], const int8x16_t q_hi[2],
                                  const int8_t *a, int sc_lo, int sc_hi, neon_dot_fn dot) {
    acc = vmlaq_n_s32(acc, neon_dot_32(q_lo, a, dot), sc_lo);
    return vmlaq_n_s32(acc, neon_dot_32(q_hi, a + 32, dot), sc_hi);
}

/* The reference's float part of a Q4_K/Q5_K block: d * d_a * isum - dmin * d_a * msum. */
NEON_BODY float neon_k4_block_value(ew_half d, ew_half dmin, float da, int32_t isum, int32_t msum) {
    return neon_h2f(d) * da * (float)isum - neon_h2f(dmin) * da * (float)msum;
}

/* The 64 quants of chunk c of a Q4_K block (qs + 32c): low nibbles = sub-block 2c,
 * high nibbles = sub-block 2c + 1. */
NEON_BODY void q4_K_chunk_quants(const uint8_t *qs, int8x16_t q_lo[2], int8x16_t q_hi[2]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int k = 0; k < 2; k++) {
        const uint8x16_t raw = vld1q_u8(qs + 16 * k);
        q_lo[k] = vreinterpretq_s8_u8(vandq_u8(raw, m4));
        q_hi[k] = vreinterpretq_s8_u8(vshrq_n_u8(raw, 4));
    }
}

/* Q4_K . Q8_K, bit-identical to ew_vec_dot_q4_K_q8_K_ref. */
NEON_BODY float neon_dot_q4_K_q8_K(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q4_K *w = vw;
    const ew_block_q8_K *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        uint8_t sc[8], m[8];
        neon_k4_scales_mins(w[b].scales, sc, m);
        int32x4_t acc = vdupq_n_s32(0);
        for (int c = 0; c < 4; c++) {
            int8x16_t q_lo[2], q_hi[2];
            q4_K_chunk_quants(w[b].qs + 32 * c, q_lo, q_hi);
            acc = neon_k4_chunk(acc, q_lo, q_hi, a[b].qs + 64 * c, sc[2 * c], sc[2 * c + 1], dot);
        }
        const int32_t msum = neon_k4_min_sum(m, a[b].bsums);
        sum += neon_k4_block_value(w[b].d, w[b].dmin, a[b].d, vaddvq_s32(acc), msum);
    }
    return sum;
}

/* The 64 quants of chunk c of a Q5_K block: the Q4_K nibbles with bit 2c (low) and
 * 2c + 1 (high) of qh[l] on top as 16; h[k] holds qh[16k..16k+15] already shifted right
 * by 2c. */
NEON_BODY void q5_K_chunk_quants(const uint8_t *qs, const uint8x16_t h[2], int8x16_t q_lo[2],
                                 int8x16_t q_hi[2]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int k = 0; k < 2; k++) {
        const uint8x16_t raw = vld1q_u8(qs + 16 * k);
        const uint8x16_t b_lo = vshlq_n_u8(vandq_u8(h[k], vdupq_n_u8(1)), 4);
        const uint8x16_t b_hi = vshlq_n_u8(vandq_u8(h[k], vdupq_n_u8(2)), 3);
        q_lo[k] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(raw, m4), b_lo));
        q_hi[k] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(raw, 4), b_hi));
    }
}

/* Q5_K . Q8_K, bit-identical to ew_vec_dot_q5_K_q8_K_ref. */
NEON_BODY float neon_dot_q5_K_q8_K(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q5_K *w = vw;
    const ew_block_q8_K *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        uint8_t sc[8], m[8];
        neon_k4_scales_mins(w[b].scales, sc, m);
        uint8x16_t h[2] = {vld1q_u8(w[b].qh), vld1q_u8(w[b].qh + 16)};
        int32x4_t acc = vdupq_n_s32(0);
        for (int c = 0; c < 4; c++) {
            int8x16_t q_lo[2], q_hi[2];
            q5_K_chunk_quants(w[b].qs + 32 * c, h, q_lo, q_hi);
            acc = neon_k4_chunk(acc, q_lo, q_hi, a[b].qs + 64 * c, sc[2 * c], sc[2 * c + 1], dot);
            h[0] = vshrq_n_u8(h[0], 2);
            h[1] = vshrq_n_u8(h[1], 2);
        }
        const int32_t msum = neon_k4_min_sum(m, a[b].bsums);
        sum += neon_k4_block_value(w[b].d, w[b].dmin, a[b].d, vaddvq_s32(acc), msum);
    }
    return sum;
}

/*
 * The 128 signed quants q - 32 (-32..31) of half h of a Q6_K block (ql + 64h, qh + 32h) as
 * blocks.h lays them out: q[i][k] = elements 128h + 32i + 16k .. +15, which is exactly
 * sub-block 8h + 2i + k. Low nibbles of ql[l] / ql[l + 32] for i = 0 / 1, high nibbles for
 * 2 / 3; bits 2i, 2i + 1 of qh[l] on top.
 */
NEON_BODY void q6_K_half_quants(const uint8_t *ql, const uint8_t *qh, int8x16_t q[4][2]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    for (int k = 0; k < 2; k++) {
        const uint8x16_t l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
        const uint8x16_t h = vld1q_u8(qh + 16 * k);
        const uint8x16_t u[4] = {
            vorrq_u8(vandq_u8(l0, m4), vandq_u8(vshlq_n_u8(h, 4), m2)),
            vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8(h, 2), m2)),
            vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(h, m2)),
            vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(h, 2), m2)),
        };
        for (int i = 0; i < 4; i++) q[i][k] = vsubq_s8(vreinterpretq_s8_u8(u[i]), off);
    }
}

/* Q6_K . Q8_K, bit-identical to ew_vec_dot_q6_K_q8_K_ref: each 16-element sub-block's
 * signed dot times its int8 scale, exact (a lane over a block is at most 16 * 128 * 32 *
 * 16 * 128). */
NEON_BODY float neon_dot_q6_K_q8_K(int64_t n, const void *vw, const void *va, neon_dot_fn dot) {
    const ew_block_q6_K *w = vw;
    const ew_block_q8_K *a = va;
    const int32x4_t zero = vdupq_n_s32(0);
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK_K; b++) {
        int32x4_t acc0 = zero, acc1 = zero;
        for (int h = 0; h < 2; h++) {
            int8x16_t q[4][2];
            q6_K_half_quants(w[b].ql + 64 * h, w[b].qh + 32 * h, q);
            const int8_t *av = a[b].qs + 128 * h, *sc = w[b].scales + 8 * h;
            for (int i = 0; i < 4; i++) {
                const int32x4_t p0 = dot(zero, q[i][0], vld1q_s8(av + 32 * i));
                const int32x4_t p1 = dot(zero, q[i][1], vld1q_s8(av + 32 * i + 16));
                acc0 = vmlaq_n_s32(acc0, p0, sc[2 * i]);
                acc1 = vmlaq_n_s32(acc1, p1, sc[2 * i + 1]);
            }
        }
        const int32_t isum = vaddvq_s32(vaddq_s32(acc0, acc1));
        sum += neon_h2f(w[b].d) * a[b].d * (float)isum;
    }
    return sum;
}

#undef NEON_BODY
#endif
