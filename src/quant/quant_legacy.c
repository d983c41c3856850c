/*
 * quant_legacy.c - scalar references of ggml's 32-element block types: Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0 and the activation type Q8_1. Layouts in blocks.h.
 *
 * The quantizers follow ggml's reference quantizers (quantize_row_*_ref) step by step, in
 * the same float arithmetic, so a row quantized here is byte-identical to llama.cpp's
 * (checked against ggml during development; the golden hashes in the test pin it).
 */
#include "quant/quant_ref.h"

#include <float.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------------------- */

static inline float h2f(ew_half h) { return ew_fp16_to_fp32(h); }
static inline ew_half f2h(float f) { return ew_fp32_to_fp16(f); }

/* The element of largest magnitude, with its sign (the first one on ties). */
static float signed_absmax(const float *x, int n) {
    float amax = 0, max = 0;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

/* Largest magnitude of n floats. */
static float absmax(const float *x, int n) {
    float amax = 0;
    for (int j = 0; j < n; j++) amax = fmaxf(amax, fabsf(x[j]));
    return amax;
}

/* Smallest and largest of n floats. */
static void min_max(const float *x, int n, float *mn, float *mx) {
    *mn = FLT_MAX;
    *mx = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < *mn) *mn = x[j];
        if (x[j] > *mx) *mx = x[j];
    }
}

/* v truncated toward zero and clamped to 0..hi (ggml's MIN(hi, (int8_t)v) for the v >= 0
 * its callers produce; NaN gives 0). */
static inline uint8_t trunc_clamp(float v, int hi) {
    if (!(v > 0)) return 0;
    if (v >= (float)hi) return (uint8_t)hi;
    return (uint8_t)(int)v;
}

/* v rounded half away from zero (roundf) into int8; out-of-range values saturate and NaN
 * gives 0, where a plain cast would be undefined. */
static inline int8_t round_i8(float v) {
    if (!(v == v)) return 0;
    if (v >= 127.0f) return 127;
    if (v <= -128.0f) return -128;
    return (int8_t)roundf(v);
}

/* The 32-bit fifth-bit mask of a Q5 block, little-endian. */
static inline uint32_t load_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

static inline void store_qh(uint8_t qh[4], uint32_t v) {
    for (int i = 0; i < 4; i++) qh[i] = (uint8_t)(v >> (8 * i));
}

/* Unpack the 32 4-bit quants of a Q4 block: element j < 16 is the low nibble of qs[j],
 * element j + 16 the high nibble. */
static inline void unpack_nibbles(const uint8_t qs[16], int q[32]) {
    for (int j = 0; j < 16; j++) {
        q[j] = qs[j] & 0x0F;
        q[j + 16] = qs[j] >> 4;
    }
}

/* Unpack the 32 5-bit quants of a Q5 block (nibbles + bit j of qh). */
static inline void unpack_q5(const uint8_t qs[16], const uint8_t qh4[4], int q[32]) {
    uint32_t qh = load_qh(qh4);
    unpack_nibbles(qs, q);
    for (int j = 0; j < 32; j++) q[j] |= (int)((qh >> j) & 1) << 4;
}

/* Pack 32 5-bit quants into nibbles and a fifth-bit mask. */
static inline void pack_q5(const uint8_t q[32], uint8_t qs[16], uint8_t qh4[4]) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
    for (int j = 0; j < 32; j++) qh |= (uint32_t)((q[j] >> 4) & 1) << j;
    store_qh(qh4, qh);
}

/* Sum of products of 32 quants with 32 int8 activations. */
static inline int32_t dot32(const int q[32], const int8_t a[32]) {
    int32_t s = 0;
    for (int j = 0; j < 32; j++) s += q[j] * a[j];
    return s;
}

/* ---- Q4_0 ------------------------------------------------------------------------------- */

/* Q4_0: d = m / -8 with m the signed element of largest magnitude (so m maps to q = 0
 * and gets the full 8 steps), q = clamp(trunc(x / d + 8.5), 0, 15). */
void ew_quantize_q4_0_ref(const float *x, void *vy, int64_t n) {
    ew_block_q4_0 *y = vy;
    for (int64_t b = 0; b < n / EW_QK4_0; b++, x += EW_QK4_0) {
        const float d = signed_absmax(x, EW_QK4_0) / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = f2h(d);
        for (int j = 0; j < 16; j++) {
            uint8_t lo = trunc_clamp(x[j] * id + 8.5f, 15);
            uint8_t hi = trunc_clamp(x[j + 16] * id + 8.5f, 15);
            y[b].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* Q4_0 -> float: (q - 8) * d. */
void ew_dequantize_q4_0_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q4_0 *x = vx;
    for (int64_t b = 0; b < n / EW_QK4_0; b++, y += EW_QK4_0) {
        const float d = h2f(x[b].d);
        int q[32];
        unpack_nibbles(x[b].qs, q);
        for (int j = 0; j < 32; j++) y[j] = (float)(q[j] - 8) * d;
    }
}

/* Q4_0 . Q8_0: per block, sum((q - 8) * a) * d_w * d_a. */
float ew_vec_dot_q4_0_q8_0_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_0 *w = vw;
    const ew_block_q8_0 *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK4_0; b++) {
        int q[32];
        unpack_nibbles(w[b].qs, q);
        for (int j = 0; j < 32; j++) q[j] -= 8;
        sum += (float)dot32(q, a[b].qs) * h2f(w[b].d) * h2f(a[b].d);
    }
    return sum;
}

/* ---- Q4_1 ------------------------------------------------------------------------------- */

/* Q4_1: m = min, d = (max - min) / 15, q = clamp(trunc((x - m) / d + 0.5), 0, 15). */
void ew_quantize_q4_1_ref(const float *x, void *vy, int64_t n) {
    ew_block_q4_1 *y = vy;
    for (int64_t b = 0; b < n / EW_QK4_1; b++, x += EW_QK4_1) {
        float mn, mx;
        min_max(x, EW_QK4_1, &mn, &mx);
        const float d = (mx - mn) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = f2h(d);
        y[b].m = f2h(mn);
        for (int j = 0; j < 16; j++) {
            uint8_t lo = trunc_clamp((x[j] - mn) * id + 0.5f, 15);
            uint8_t hi = trunc_clamp((x[j + 16] - mn) * id + 0.5f, 15);
            y[b].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* Q4_1 -> float: q * d + m. */
void ew_dequantize_q4_1_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q4_1 *x = vx;
    for (int64_t b = 0; b < n / EW_QK4_1; b++, y += EW_QK4_1) {
        const float d = h2f(x[b].d), m = h2f(x[b].m);
        int q[32];
        unpack_nibbles(x[b].qs, q);
        for (int j = 0; j < 32; j++) y[j] = (float)q[j] * d + m;
    }
}

/* Q4_1 . Q8_1: per block, d_w * d_a * sum(q * a) + m_w * s_a (s_a = d_a * sum(a)). */
float ew_vec_dot_q4_1_q8_1_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q4_1 *w = vw;
    const ew_block_q8_1 *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK4_1; b++) {
        int q[32];
        unpack_nibbles(w[b].qs, q);
        sum += (h2f(w[b].d) * h2f(a[b].d)) * (float)dot32(q, a[b].qs) + h2f(w[b].m) * h2f(a[b].s);
    }
    return sum;
}

/* ---- Q5_0 ------------------------------------------------------------------------------- */

/* Q5_0: d = m / -16 (m the signed absmax), q = clamp(trunc(x / d + 16.5), 0, 31). */
void ew_quantize_q5_0_ref(const float *x, void *vy, int64_t n) {
    ew_block_q5_0 *y = vy;
    for (int64_t b = 0; b < n / EW_QK5_0; b++, x += EW_QK5_0) {
        const float d = signed_absmax(x, EW_QK5_0) / -16;
        const float id = d ? 1.0f / d : 0.0f;
        uint8_t q[32];
        for (int j = 0; j < 32; j++) q[j] = trunc_clamp(x[j] * id + 16.5f, 31);
        y[b].d = f2h(d);
        pack_q5(q, y[b].qs, y[b].qh);
    }
}

/* Q5_0 -> float: (q - 16) * d. */
void ew_dequantize_q5_0_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q5_0 *x = vx;
    for (int64_t b = 0; b < n / EW_QK5_0; b++, y += EW_QK5_0) {
        const float d = h2f(x[b].d);
        int q[32];
        unpack_q5(x[b].qs, x[b].qh, q);
        for (int j = 0; j < 32; j++) y[j] = (float)(q[j] - 16) * d;
    }
}

/* Q5_0 . Q8_0: per block, sum((q - 16) * a) * d_w * d_a. */
float ew_vec_dot_q5_0_q8_0_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_0 *w = vw;
    const ew_block_q8_0 *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK5_0; b++) {
        int q[32];
        unpack_q5(w[b].qs, w[b].qh, q);
        for (int j = 0; j < 32; j++) q[j] -= 16;
        sum += (float)dot32(q, a[b].qs) * h2f(w[b].d) * h2f(a[b].d);
    }
    return sum;
}

/* ---- Q5_1 ------------------------------------------------------------------------------- */

/* Q5_1: m = min, d = (max - min) / 31, q = trunc((x - m) / d + 0.5) (0..31). */
void ew_quantize_q5_1_ref(const float *x, void *vy, int64_t n) {
    ew_block_q5_1 *y = vy;
    for (int64_t b = 0; b < n / EW_QK5_1; b++, x += EW_QK5_1) {
        float mn, mx;
        min_max(x, EW_QK5_1, &mn, &mx);
        const float d = (mx - mn) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        uint8_t q[32];
        for (int j = 0; j < 32; j++) q[j] = trunc_clamp((x[j] - mn) * id + 0.5f, 31);
        y[b].d = f2h(d);
        y[b].m = f2h(mn);
        pack_q5(q, y[b].qs, y[b].qh);
    }
}

/* Q5_1 -> float: q * d + m. */
void ew_dequantize_q5_1_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q5_1 *x = vx;
    for (int64_t b = 0; b < n / EW_QK5_1; b++, y += EW_QK5_1) {
        const float d = h2f(x[b].d), m = h2f(x[b].m);
        int q[32];
        unpack_q5(x[b].qs, x[b].qh, q);
        for (int j = 0; j < 32; j++) y[j] = (float)q[j] * d + m;
    }
}

/* Q5_1 . Q8_1: per block, d_w * d_a * sum(q * a) + m_w * s_a. */
float ew_vec_dot_q5_1_q8_1_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q5_1 *w = vw;
    const ew_block_q8_1 *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK5_1; b++) {
        int q[32];
        unpack_q5(w[b].qs, w[b].qh, q);
        sum += (h2f(w[b].d) * h2f(a[b].d)) * (float)dot32(q, a[b].qs) + h2f(w[b].m) * h2f(a[b].s);
    }
    return sum;
}

/* ---- Q8_0 / Q8_1 ------------------------------------------------------------------------ */

/* Q8_0: d = absmax / 127, q = round(x / d) (half away from zero). */
void ew_quantize_q8_0_ref(const float *x, void *vy, int64_t n) {
    ew_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / EW_QK8_0; b++, x += EW_QK8_0) {
        const float d = absmax(x, EW_QK8_0) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = f2h(d);
        for (int j = 0; j < 32; j++) y[b].qs[j] = round_i8(x[j] * id);
    }
}

/* Q8_0 -> float: q * d. */
void ew_dequantize_q8_0_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q8_0 *x = vx;
    for (int64_t b = 0; b < n / EW_QK8_0; b++, y += EW_QK8_0) {
        const float d = h2f(x[b].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[b].qs[j] * d;
    }
}

/* Q8_0 . Q8_0: per block, sum(q * a) * d_w * d_a. */
float ew_vec_dot_q8_0_q8_0_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q8_0 *w = vw;
    const ew_block_q8_0 *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK8_0; b++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += w[b].qs[j] * a[b].qs[j];
        sum += (float)s * h2f(w[b].d) * h2f(a[b].d);
    }
    return sum;
}

/* Q8_1: as Q8_0, plus s = fp16(d * sum(q)). */
void ew_quantize_q8_1_ref(const float *x, void *vy, int64_t n) {
    ew_block_q8_1 *y = vy;
    for (int64_t b = 0; b < n / EW_QK8_1; b++, x += EW_QK8_1) {
        const float d = absmax(x, EW_QK8_1) / 127;
        const float id = d ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y[b].qs[j] = round_i8(x[j] * id);
            sum += y[b].qs[j];
        }
        y[b].d = f2h(d);
        y[b].s = f2h((float)sum * d);
    }
}

/* Q8_1 -> float: q * d (s is redundant). */
void ew_dequantize_q8_1_ref(const void *vx, float *y, int64_t n) {
    const ew_block_q8_1 *x = vx;
    for (int64_t b = 0; b < n / EW_QK8_1; b++, y += EW_QK8_1) {
        const float d = h2f(x[b].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[b].qs[j] * d;
    }
}

/* Q8_1 . Q8_1: per block, sum(q * a) * d_w * d_a. */
float ew_vec_dot_q8_1_q8_1_ref(int64_t n, const void *vw, const void *va) {
    const ew_block_q8_1 *w = vw;
    const ew_block_q8_1 *a = va;
    float sum = 0;
    for (int64_t b = 0; b < n / EW_QK8_1; b++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++) s += w[b].qs[j] * a[b].qs[j];
        sum += (float)s * h2f(w[b].d) * h2f(a[b].d);
    }
    return sum;
}
