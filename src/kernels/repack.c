/*
 * repack.c - the level-independent halves of the tiled prefill path (gemm.h): packing a
 * band of weight rows into a row-interleaved panel, and preparing activation rows (quants
 * contiguous per scale group, with the group's float scale and integer sum beside them).
 *
 * Both run once per matmul call: a panel is packed once and then used against every token
 * of the call, an activation row once and used against every weight row, so their cost is
 * divided by the token count (resp. the row count). They are plain C: the scalar tile
 * kernel (gemm_ref.c) and every SIMD one read the same panels.
 */
#include "kernels/gemm.h"
#include "quant/quant.h"
#include <string.h>

/* ---- one scale group of one weight row ---------------------------------------------------- */
/* Each reader stores the group's unsigned quants as words (word w = elements 4w..4w+3, one
 * per byte, little-endian) at q + w * ws, 4 quants per 32-bit operation, and gives S (and
 * M). */

/* Little-endian uint32 at p. */
static inline uint32_t ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Store v little-endian at p. */
static inline void st32(uint8_t *p, uint32_t v) {
    memcpy(p, &v, sizeof v);
}

/* Bits 0..3 of x to bit 0 of bytes 0..3. */
static inline uint32_t spread4(uint32_t x) {
    return ((x & 15) * 0x00204081u) & 0x01010101u;
}

static const uint32_t LOW4 = 0x0F0F0F0Fu;

/* Value of an IEEE binary16, inline (ew_fp16_to_fp32 is a call): exponent and mantissa
 * moved into a float's and rescaled by 2^112, exact for normals and subnormals alike;
 * infinities and NaNs rebuilt (NaN payloads kept, as ew_fp16_to_fp32). */
static inline float h2f(ew_half h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, em = h & 0x7FFFu;
    uint32_t bits = em << 13;
    float f;
    if (em >= 0x7C00) {
        bits = sign | 0x7F800000u | bits;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    memcpy(&f, &bits, sizeof f);
    f *= 0x1p112f;
    return sign ? -f : f;
}

/* Q8_0 group j (= block j): u = w + 128 (w ^ 0x80), S = d. */
static inline void group_q8_0(const void *row, int64_t j, uint8_t *q, size_t ws, float *S, float *M) {
    const ew_block_q8_0 *b = (const ew_block_q8_0 *)row + j;
    for (int w = 0; w < 8; w++) st32(q + (size_t)w * ws, ld32((const uint8_t *)b->qs + 4 * w) ^ 0x80808080u);
    *S = h2f(b->d);
    *M = 0;
}

/* Q4_0 block j: u = nibble (element i < 16 low nibble of qs[i], i >= 16 high of qs[i-16]). */
static inline void group_q4_0(const void *row, int64_t j, uint8_t *q, size_t ws, float *S, float *M) {
    const ew_block_q4_0 *b = (const ew_block_q4_0 *)row + j;
    for (int w = 0; w < 4; w++) {
        const uint32_t v = ld32(b->qs + 4 * w);
        st32(q + (size_t)w * ws, v & LOW4);
        st32(q + (size_t)(w + 4) * ws, (v >> 4) & LOW4);
    }
    *S = h2f(b->d);
    *M = 0;
}

/* Q5_0 block j: u = nibble | (bit i of qh) << 4. */
static inline void group_q5_0(const void *row, int64_t j, uint8_t *q, size_t ws, float *S, float *M) {
    const ew_block_q5_0 *b = (const ew_block_q5_0 *)row + j;
    const uint32_t qh = ld32(b->qh);
    for (int w = 0; w < 4; w++) {
        const uint32_t v = ld32(b->qs + 4 * w);
        st32(q + (size_t)w * ws, (v & LOW4) | spread4(qh >> (4 * w)) << 4);
        st32(q + (size_t)(w + 4) * ws, ((v >> 4) & LOW4) | spread4(qh >> (16 + 4 * w)) << 4);
    }
    *S = h2f(b->d);
    *M = 0;
}

/* Q4_K sub-block j % 8 of super-block j / 8: u = nibble, S = d * sc, M = dmin * m. */
static inline void group_q4_K(const void *row, int64_t j, uint8_t *q, size_t ws, float *S, float *M) {
    const ew_block_q4_K *b = (const ew_block_q4_K *)row + j / 8;
    const int s = (int)(j % 8), c = s / 2, shift = 4 * (s & 1);
    uint8_t sc, m;
    ew_k4_scale_min(s, b->scales, &sc, &m);
    for (int w = 0; w < 8; w++) st32(q + (size_t)w * ws, (ld32(b->qs + 32 * c + 4 * w) >> shift) & LOW4);
    *S = h2f(b->d) * sc;
    *M = h2f(b->dmin) * m;
}

/* Q5_K sub-block s: as Q4_K with bit s of qh[l] as the fifth bit of element l. */
static inline void group_q5_K(const void *row, int64_t j, uint8_t *q, size_t ws, float *S, float *M) {
    const ew_block_q5_K *b = (const ew_block_q5_K *)row + j / 8;
    const int s = (int)(j % 8), c = s / 2, shift = 4 * (s & 1);
    uint8_t sc, m;
    ew_k4_scale_min(s, b->scales, &sc, &m);
    for (int w = 0; w < 8; w++)
        st32(q + (size_t)w * ws, ((ld32(b->qs + 32 * c + 4 * w) >> shift) & LOW4) | ((ld32(b->qh + 4 * w) >> s) & 0x01010101u) << 4);
    *S = h2f(b->d) * sc;
    *M = h2f(b->dmin) * m;
}

/* Q6_K sub-block s (16 elements) of super-block j / 16: u = the 6-bit quant (blocks.h:
 * element 128h + 32quad + l from ql[64h + l (+32 for odd quad)], low nibble for quad < 2,
 * and bits 2quad, 2quad + 1 of qh[32h + l]), S = d * scales[s]; the offset 32 goes into the
 * activations' c. */
static inline void group_q6_K(const void *row, int64_t j, uint8_t *q, size_t ws, float *S, float *M) {
    const ew_block_q6_K *b = (const ew_block_q6_K *)row + j / 16;
    const int s = (int)(j % 16);
    for (int w = 0; w < 4; w++) {
        const int e = 16 * s + 4 * w, h = e / 128, quad = (e % 128) / 32, l = e % 32;
        const uint32_t ql = ld32(b->ql + 64 * h + l + 32 * (quad & 1)) >> (quad < 2 ? 0 : 4);
        const uint32_t qh = ld32(b->qh + 32 * h + l) >> (2 * quad);
        st32(q + (size_t)w * ws, (ql & LOW4) | (qh & 0x03030303u) << 4);
    }
    *S = h2f(b->d) * b->scales[s];
    *M = 0;
}

/* ---- panels ------------------------------------------------------------------------------- */

/* The reader of one weight type (gemm.h layout of its panels). */
typedef void (*group_fn)(const void *row, int64_t j, uint8_t *q, size_t ws, float *S, float *M);

/* Pack with group reader fn: rows [0, n_rows) x elements [k0, k0 + kn), zero rows up to W.
 * Row-major, so the weights are read as one stream; each group's words of row r go to
 * bytes 4r.. of the group's words, W * 4 bytes apart. */
static inline __attribute__((always_inline)) void pack_with(const ew_gemm_layout *L, group_fn fn, const void *w,
                                                             size_t w_stride, int n_rows, int64_t k0, int64_t kn,
                                                             int W, void *panel) {
    const size_t gb = ew_gemm_group_bytes(L, W), sc = sizeof(float) * (size_t)W;
    const size_t q_off = L->has_min ? 2 * sc : sc;
    const int64_t j0 = k0 / L->sub, ng = kn / L->sub;
    uint8_t *p = panel;
    if (n_rows < W) memset(p, 0, (size_t)ng * gb);
    for (int r = 0; r < n_rows; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * w_stride;
        uint8_t *g = p + 4 * (size_t)r;
        for (int64_t j = 0; j < ng; j++, g += gb) {
            float S, M;
            fn(row, j0 + j, g + q_off, 4 * (size_t)W, &S, &M);
            memcpy(g, &S, sizeof S);
            if (L->has_min) memcpy(g + sc, &M, sizeof M);
        }
    }
}

static const ew_gemm_layout k_s32 = {32, false, 0, false}, k_s32m = {32, true, 0, false}, k_s16 = {16, false, 32, false};
static const ew_gemm_layout k_f16 = {16, false, 0, true};

/* Element k of a float-type row as a float (exact widening). */
typedef float (*elem_fn)(const void *row, int64_t k);

static inline float elem_f16(const void *row, int64_t k) { return h2f(((const ew_half *)row)[k]); }
static inline float elem_bf16(const void *row, int64_t k) {
    const uint32_t bits = (uint32_t)((const uint16_t *)row)[k] << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Float panel: element k0 + k of row r at float k * W + r (groups of 16 are consecutive). */
static inline __attribute__((always_inline)) void pack_float(elem_fn fn, const void *w, size_t w_stride, int n_rows,
                                                              int64_t k0, int64_t kn, int W, void *panel) {
    float *p = panel;
    if (n_rows < W) memset(p, 0, (size_t)kn * (size_t)W * sizeof(float));
    for (int r = 0; r < n_rows; r++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)r * w_stride;
        for (int64_t k = 0; k < kn; k++) p[(size_t)k * (size_t)W + (size_t)r] = fn(row, k0 + k);
    }
}

/* The packers the ops table stores, one per type. */
static void pack_q8_0(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_with(&k_s32, group_q8_0, w, ws, n, k0, kn, W, panel);
}
static void pack_q4_0(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_with(&k_s32, group_q4_0, w, ws, n, k0, kn, W, panel);
}
static void pack_q5_0(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_with(&k_s32, group_q5_0, w, ws, n, k0, kn, W, panel);
}
static void pack_q4_K(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_with(&k_s32m, group_q4_K, w, ws, n, k0, kn, W, panel);
}
static void pack_q5_K(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_with(&k_s32m, group_q5_K, w, ws, n, k0, kn, W, panel);
}
static void pack_q6_K(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_with(&k_s16, group_q6_K, w, ws, n, k0, kn, W, panel);
}

static void pack_f16(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_float(elem_f16, w, ws, n, k0, kn, W, panel);
}
static void pack_bf16(const void *w, size_t ws, int n, int64_t k0, int64_t kn, int W, void *panel) {
    pack_float(elem_bf16, w, ws, n, k0, kn, W, panel);
}

/* ---- activations -------------------------------------------------------------------------- */

/* One prepared group: quants, d, c = -off * sum, and (when m) d * sum. */
static uint8_t *put_act_group(uint8_t *p, const int8_t *q, int sub, float d, int32_t sum, int off, bool m) {
    memcpy(p, q, (size_t)sub);
    const int32_t c = -off * sum;
    memcpy(p + sub, &d, 4);
    memcpy(p + sub + 4, &c, 4);
    if (!m) return p + sub + 8;
    const float dm = d * (float)sum;
    memcpy(p + sub + 8, &dm, 4);
    return p + sub + 12;
}

/* Q8_0 activations, one group per block. */
static void prep_q8_0(const void *act, int64_t K, int off, void *out) {
    const ew_block_q8_0 *b = act;
    uint8_t *p = out;
    for (int64_t j = 0; j < K / 32; j++) {
        int32_t sum = 0;
        for (int i = 0; i < 32; i++) sum += b[j].qs[i];
        p = put_act_group(p, b[j].qs, 32, h2f(b[j].d), sum, off, false);
    }
}

/* Q8_K activations in groups of 32 with mins (Q4_K, Q5_K): sums from bsums. */
static void prep_q8_K_s32m(const void *act, int64_t K, int off, void *out) {
    const ew_block_q8_K *b = act;
    uint8_t *p = out;
    for (int64_t i = 0; i < K / EW_QK_K; i++)
        for (int s = 0; s < 8; s++)
            p = put_act_group(p, b[i].qs + 32 * s, 32, b[i].d, b[i].bsums[2 * s] + b[i].bsums[2 * s + 1], off, true);
}

/* Q8_K activations in groups of 16 (Q6_K). */
static void prep_q8_K_s16(const void *act, int64_t K, int off, void *out) {
    const ew_block_q8_K *b = act;
    uint8_t *p = out;
    for (int64_t i = 0; i < K / EW_QK_K; i++)
        for (int s = 0; s < 16; s++) p = put_act_group(p, b[i].qs + 16 * s, 16, b[i].d, b[i].bsums[s], off, false);
}

/* Float activations (F16, BF16 rows) widened to floats. */
static void prep_f16(const void *act, int64_t K, int off, void *out) {
    (void)off;
    for (int64_t k = 0; k < K; k++) ((float *)out)[k] = elem_f16(act, k);
}
static void prep_bf16(const void *act, int64_t K, int off, void *out) {
    (void)off;
    for (int64_t k = 0; k < K; k++) ((float *)out)[k] = elem_bf16(act, k);
}

/* The layout, packer and preparer of weight type t (offsets: Q8_0 stores w + 128, Q4_0 and
 * Q5_0 their unsigned quants, Q6_K q + 32; the K-quant mins are float; F16 and BF16 in
 * float panels). F32 weights keep the vec_dot loops: rare in real models, and their
 * batched results would stop matching token-by-token decode to the last bit of rounding
 * that the float-weight tests hold them to. */
bool ew_gemm_type_layout(uint32_t t, ew_gemm_layout *L, ew_gemm_pack_fn *pack, ew_gemm_prep_fn *prep) {
    switch (t) {
    case EW_TYPE_Q8_0: *L = k_s32; L->off = 128; *pack = pack_q8_0; *prep = prep_q8_0; return true;
    case EW_TYPE_Q4_0: *L = k_s32; L->off = 8; *pack = pack_q4_0; *prep = prep_q8_0; return true;
    case EW_TYPE_Q5_0: *L = k_s32; L->off = 16; *pack = pack_q5_0; *prep = prep_q8_0; return true;
    case EW_TYPE_Q4_K: *L = k_s32m; *pack = pack_q4_K; *prep = prep_q8_K_s32m; return true;
    case EW_TYPE_Q5_K: *L = k_s32m; *pack = pack_q5_K; *prep = prep_q8_K_s32m; return true;
    case EW_TYPE_Q6_K: *L = k_s16; *pack = pack_q6_K; *prep = prep_q8_K_s16; return true;
    case EW_TYPE_F16: *L = k_f16; *pack = pack_f16; *prep = prep_f16; return true;
    case EW_TYPE_BF16: *L = k_f16; *pack = pack_bf16; *prep = prep_bf16; return true;
    default: return false;
    }
}
