/*
 * gemm_avx512.c - the AVX-512 VNNI tile kernels of the prefill path (gemm.h), for panels of
 * W = 32 rows (two zmm of 16 int32 / float lanes, one lane per row).
 *
 * Register tile: 32 rows x 4 tokens. Per word of 4 quants: two weight loads (rows 0-15,
 * 16-31), one 4-byte broadcast per token, and eight vpdpbusd (u8 weights x s8 activations
 * summed in fours into int32 lanes, exact). Per scale group: the int32 accumulators start
 * at the activations' c (the folded quant offset), and end in one convert + one multiply
 * (S x d) + one FMA per 16 outputs (+ one FNMA with the mins). The 8 int32 and 8 float
 * accumulators of the tile, 2 weight vectors, scales and broadcasts fit the 32 zmm
 * registers with no spills (the loops over tokens and words are unrolled at compile time).
 * Measured on Zen 4 (one core, panel in L1): the s32 kernel reaches 150-175 GMAC/s, about
 * what a loop of nothing but independent vpdpbusd does on the same machine.
 *
 * Also here: the float-panel tile (F16, BF16 weights: FMA, 32 rows x 4 tokens) and the fused
 * activation quantizers (Q8_0, F16) that write prepared rows directly.
 *
 * Integer kernels need AVX-512 F + VNNI; gemm_dispatch.c hands them out only when the CPU
 * has avx512vnni.
 */
#include "kernels/gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

enum { W = 32, NT = 4 };

/* int32 at p broadcast to 16 lanes. */
static inline __m512i bcast_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* float at p broadcast to 16 lanes. */
static inline __m512 bcast_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_ps(v);
}

/* Lane mask of rows [base, base + 16) that are below n_rows. */
static inline __mmask16 row_mask(int n_rows, int base) {
    const int n = n_rows - base;
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* Store (or add into) 16 outputs at y under mask m. */
static inline void put_16(float *y, __mmask16 m, __m512 v, bool accumulate) {
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, y));
    _mm512_mask_storeu_ps(y, m, v);
}

/*
 * nt (<= NT) tokens against the whole panel: the register tile. sub, has_min and nt are
 * compile-time constants at every call (the function is always inlined), so the loops
 * unroll into straight-line code with the accumulators in registers.
 */
static inline __attribute__((always_inline)) void tile_nt(int64_t kn, const uint8_t *panel, int n_rows,
                                                           const uint8_t *a, size_t as, float *y, size_t ys,
                                                           bool accumulate, const int sub, const bool has_min,
                                                           const int nt) {
    const size_t sc_bytes = sizeof(float) * W * (has_min ? 2 : 1);
    const size_t gb = sc_bytes + (size_t)W * (size_t)sub, ab = (size_t)sub + 8 + (has_min ? 4 : 0);
    __m512 f0[NT], f1[NT];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) f0[t] = f1[t] = _mm512_setzero_ps();
    for (int64_t j = 0; j < kn / sub; j++) {
        const uint8_t *g = panel + (size_t)j * gb, *ag = a + (size_t)j * ab;
        const uint8_t *q = g + sc_bytes;
        __m512i c0[NT], c1[NT];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) c0[t] = c1[t] = bcast_i32(ag + (size_t)t * as + sub + 4);
#pragma GCC unroll 8
        for (int w = 0; w < sub / 4; w++) {
            const __m512i w0 = _mm512_loadu_si512(q + (size_t)w * 4 * W);
            const __m512i w1 = _mm512_loadu_si512(q + (size_t)w * 4 * W + 64);
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++) {
                const __m512i av = bcast_i32(ag + (size_t)t * as + 4 * (size_t)w);
                c0[t] = _mm512_dpbusd_epi32(c0[t], w0, av);
                c1[t] = _mm512_dpbusd_epi32(c1[t], w1, av);
            }
        }
        const __m512 S0 = _mm512_loadu_ps(g), S1 = _mm512_loadu_ps(g + 64);
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            const __m512 d = bcast_f32(ag + (size_t)t * as + sub);
            f0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c0[t]), _mm512_mul_ps(S0, d), f0[t]);
            f1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c1[t]), _mm512_mul_ps(S1, d), f1[t]);
        }
        if (has_min) {
            const __m512 M0 = _mm512_loadu_ps(g + 4 * W), M1 = _mm512_loadu_ps(g + 4 * W + 64);
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++) {
                const __m512 m = bcast_f32(ag + (size_t)t * as + sub + 8);
                f0[t] = _mm512_fnmadd_ps(M0, m, f0[t]);
                f1[t] = _mm512_fnmadd_ps(M1, m, f1[t]);
            }
        }
    }
    const __mmask16 m0 = row_mask(n_rows, 0), m1 = row_mask(n_rows, 16);
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) {
        put_16(y + (size_t)t * ys, m0, f0[t], accumulate);
        put_16(y + (size_t)t * ys + 16, m1, f1[t], accumulate);
    }
}

/* All n_tok tokens in register tiles of NT (and one tile of the remainder), for a layout
 * given as constants. */
static inline __attribute__((always_inline)) void tile_all(int64_t kn, const void *panel, int n_rows,
                                                            const void *a, size_t as, int n_tok, float *y,
                                                            size_t ys, bool accumulate, const int sub,
                                                            const bool has_min) {
    const uint8_t *p = panel, *ab = a;
    int t = 0;
    for (; t + NT <= n_tok; t += NT)
        tile_nt(kn, p, n_rows, ab + (size_t)t * as, as, y + (size_t)t * ys, ys, accumulate, sub, has_min, NT);
    switch (n_tok - t) {
    case 1: tile_nt(kn, p, n_rows, ab + (size_t)t * as, as, y + (size_t)t * ys, ys, accumulate, sub, has_min, 1); break;
    case 2: tile_nt(kn, p, n_rows, ab + (size_t)t * as, as, y + (size_t)t * ys, ys, accumulate, sub, has_min, 2); break;
    case 3: tile_nt(kn, p, n_rows, ab + (size_t)t * as, as, y + (size_t)t * ys, ys, accumulate, sub, has_min, 3); break;
    default: break;
    }
}

/*
 * Float panels: per element, two weight loads (32 rows) and per token one broadcast and two
 * FMAs into the token's accumulators (always inlined with constant nt).
 */
static inline __attribute__((always_inline)) void tile_f32_nt(int64_t kn, const float *panel, int n_rows,
                                                               const float *a, size_t as, float *y, size_t ys,
                                                               bool accumulate, const int nt) {
    __m512 f0[NT], f1[NT];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) f0[t] = f1[t] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kn; k++) {
        const __m512 w0 = _mm512_loadu_ps(panel + (size_t)k * W), w1 = _mm512_loadu_ps(panel + (size_t)k * W + 16);
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            const __m512 av = _mm512_set1_ps(a[(size_t)t * as + (size_t)k]);
            f0[t] = _mm512_fmadd_ps(w0, av, f0[t]);
            f1[t] = _mm512_fmadd_ps(w1, av, f1[t]);
        }
    }
    const __mmask16 m0 = row_mask(n_rows, 0), m1 = row_mask(n_rows, 16);
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) {
        put_16(y + (size_t)t * ys, m0, f0[t], accumulate);
        put_16(y + (size_t)t * ys + 16, m1, f1[t], accumulate);
    }
}

/* ---- activations ---------------------------------------------------------------------- */

/* roundf() on 16 lanes: nearest, halves away from zero, from trunc(v) and the exact
 * v - trunc(v) (no v + 0.5, whose rounding would turn 0.49999997 into 1). */
static inline __m512 round_half_away(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));
    const __mmask16 away = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 step = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
    return _mm512_mask_add_ps(t, away, t, step);
}

/* The int32 quants of 16 floats: round_i8(x * id) of quant_legacy.c (NaN -> 0, saturated to
 * -128..127, rounded half away from zero). */
static inline __m512i quant_16(const float *x, __m512 id) {
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x), id);
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-128.0f)), _mm512_set1_ps(127.0f));
    return _mm512_cvttps_epi32(round_half_away(v));
}

/*
 * Q8_0 activations straight into prepared groups: per 32 floats, d = absmax / 127 (NaNs
 * skipped), q = round_i8(x / d) — byte for byte ew_quantize_q8_0_ref — then the group's
 * float d as the dot sees it (through binary16), and c = -off * sum q.
 */
void ew_gemm_quant_prep_q8_0_avx512(const float *x, int64_t K, int off, void *prep_row) {
    uint8_t *p = prep_row;
    for (int64_t j = 0; j < K / 32; j++, x += 32, p += 40) {
        const __m512 a0 = _mm512_abs_ps(_mm512_loadu_ps(x)), a1 = _mm512_abs_ps(_mm512_loadu_ps(x + 16));
        /* max_ps gives its second operand when either is NaN: a NaN never wins */
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(a0, _mm512_max_ps(a1, _mm512_setzero_ps())));
        const float d = amax / 127;
        const __m512 id = _mm512_set1_ps(d ? 1.0f / d : 0.0f);
        const __m512i q0 = quant_16(x, id), q1 = quant_16(x + 16, id);
        _mm_storeu_si128((__m128i *)p, _mm512_cvtsepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(p + 16), _mm512_cvtsepi32_epi8(q1));
        const float dh = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
        const int32_t c = -off * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        memcpy(p + 32, &dh, 4);
        memcpy(p + 36, &c, 4);
    }
}

/* F16 activations as the dot sees them: x rounded to binary16 (vcvtps2ph, ties to even,
 * as ew_quantize_f16_*) and widened back to float. */
void ew_gemm_quant_prep_f16_avx512(const float *x, int64_t K, int off, void *prep_row) {
    (void)off;
    float *p = prep_row;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(x + k), _MM_FROUND_TO_NEAREST_INT);
        _mm512_storeu_ps(p + k, _mm512_cvtph_ps(h));
    }
    for (; k < K; k++) p[k] = _cvtsh_ss(_cvtss_sh(x[k], _MM_FROUND_TO_NEAREST_INT));
}

/* ---- entry points --------------------------------------------------------------------- */

/* Groups of 32 without mins (Q8_0, Q4_0, Q5_0). */
void ew_gemm_tile_s32_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                             int n_tok, float *y, size_t y_stride, bool accumulate) {
    tile_all(kn, panel, n_rows, a, a_stride, n_tok, y, y_stride, accumulate, 32, false);
}

/* Groups of 32 with mins (Q4_K, Q5_K). */
void ew_gemm_tile_s32m_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                              int n_tok, float *y, size_t y_stride, bool accumulate) {
    tile_all(kn, panel, n_rows, a, a_stride, n_tok, y, y_stride, accumulate, 32, true);
}

/* Groups of 16 (Q6_K). */
void ew_gemm_tile_s16_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                             int n_tok, float *y, size_t y_stride, bool accumulate) {
    tile_all(kn, panel, n_rows, a, a_stride, n_tok, y, y_stride, accumulate, 16, false);
}

/* Float panels (F16, BF16 weights): prepared rows are floats, a_stride in bytes. */
void ew_gemm_tile_f32_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                             int n_tok, float *y, size_t y_stride, bool accumulate) {
    const float *p = panel, *af = a;
    const size_t as = a_stride / sizeof(float);
    int t = 0;
    for (; t + NT <= n_tok; t += NT) tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, NT);
    switch (n_tok - t) {
    case 1: tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, 1); break;
    case 2: tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, 2); break;
    case 3: tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, 3); break;
    default: break;
    }
}
#endif
