/*
 * simd_neon.h - small AArch64 Advanced SIMD (NEON) helpers shared by the *_neon.c and
 * *_dotprod.c kernel files. Base ARMv8-A only (NEON and the half-precision conversions are
 * mandatory on aarch64), so every file may include it; the dot-product instruction lives in
 * the *_dotprod.c files alone.
 */
#ifndef EW_SIMD_NEON_H
#define EW_SIMD_NEON_H

#include "quant/blocks.h"
#include <arm_neon.h>
#include <string.h>

/* Exact value of an IEEE binary16 (FCVT; equals ew_fp16_to_fp32 for every non-NaN). */
static inline float neon_h2f(ew_half h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

/* Nearest binary16 to f, ties to even (FCVT under the default FPCR: no flush to zero, no
 * default NaN), which equals ew_fp32_to_fp16 for every input, NaNs included: both keep
 * the sign and top payload bits and set the quiet bit. */
static inline ew_half neon_f2h(float f) {
    return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0);
}

/*
 * An int8 dot-product step: acc plus the 16 products a[i] * b[i], summed in groups into the
 * four int32 lanes. Which products land in which lane differs between implementations, so
 * callers only ever sum the lanes or scale all four alike. Exact for any int8 inputs.
 */
typedef int32x4_t (*neon_dot_fn)(int32x4_t acc, int8x16_t a, int8x16_t b);

/* The base-ISA dot step: two widening multiplies (a product fits int16, -128 * -128
 * included) and pairwise widening adds into acc. */
static inline int32x4_t neon_dot_i8_base(int32x4_t acc, int8x16_t a, int8x16_t b) {
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
}

/* The 32 4-bit values of a Q4 nibble array (16 bytes) in element order: lo = elements
 * 0..15 (low nibbles of qs[0..15]), hi = elements 16..31 (high nibbles). */
static inline void neon_nibbles_32(const uint8_t *qs, uint8x16_t *lo, uint8x16_t *hi) {
    const uint8x16_t raw = vld1q_u8(qs);
    *lo = vandq_u8(raw, vdupq_n_u8(0x0F));
    *hi = vshrq_n_u8(raw, 4);
}

/* 32 bits (little-endian qh[0..3]) spread to 32 bytes: byte j = 0xFF when bit j is set,
 * else 0; lo = bits 0..15, hi = bits 16..31. */
static inline void neon_bits_to_bytes_32(const uint8_t *qh, uint8x16_t *lo, uint8x16_t *hi) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t m = vld1q_u8(bit);
    *lo = vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), m);
    *hi = vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), m);
}

/* The 32 int8 quants of a Q8_0 / Q8_1 / Q8_K stretch as two vectors of 16. */
static inline void neon_load_q8_32(const int8_t *qs, int8x16_t *lo, int8x16_t *hi) {
    *lo = vld1q_s8(qs);
    *hi = vld1q_s8(qs + 16);
}

#endif
