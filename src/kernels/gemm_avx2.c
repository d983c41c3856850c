/*
 * gemm_avx2.c - the AVX2 tile kernels of the prefill path (gemm.h), for panels of W = 16
 * rows (two ymm of 8 int32 / float lanes, one lane per row).
 *
 * Register tile: 16 rows x 2 tokens (16 ymm registers leave no room for more: 4 int32 and
 * 4 float accumulators, 2 weight vectors, a broadcast, constants). The integer step is
 * maddubs (u8 x s8 -> pairs summed to int16) + madd with ones (-> int32), exact when a
 * pair of products fits int16: u <= 63 (every layout but Q8_0's) times |a| <= 127. Q8_0's
 * u = w + 128 does not fit, so its kernel reads w back as signed and multiplies |w| by a
 * with w's sign (as the vec_dot kernels do), with no offset to fold in.
 */
#include "kernels/gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

enum { W = 16, NT = 2 };

/* int32 at p broadcast to 8 lanes. */
static inline __m256i bcast_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* float at p broadcast to 8 lanes. */
static inline __m256 bcast_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_ps(v);
}

/* acc + per lane sum of 4 products u8 w x s8 a (exact when pairs fit int16, see above). */
static inline __m256i dot_u8(__m256i acc, __m256i w, __m256i a) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)));
}

/* acc + per lane sum of 4 products s8 w x s8 a given aw = |w| (a in -127..127: exact). */
static inline __m256i dot_s8(__m256i acc, __m256i aw, __m256i w, __m256i a) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(a, w)), _mm256_set1_epi16(1)));
}

/* Store (or add into) the outputs of rows [base, n_rows) of 8 at y (lanes past n_rows are
 * not written). */
static inline void put_8(float *y, int n_rows, int base, __m256 v, bool accumulate) {
    const int n = n_rows - base;
    if (n >= 8) {
        if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(y));
        _mm256_storeu_ps(y, v);
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    for (int i = 0; i < n; i++) y[i] = accumulate ? y[i] + tmp[i] : tmp[i];
}

/*
 * nt (<= NT) tokens against the whole panel (always inlined with constant sub, has_min,
 * is_signed, nt, so everything unrolls into registers).
 */
static inline __attribute__((always_inline)) void tile_nt(int64_t kn, const uint8_t *panel, int n_rows,
                                                           const uint8_t *a, size_t as, float *y, size_t ys,
                                                           bool accumulate, const int sub, const bool has_min,
                                                           const bool is_signed, const int nt) {
    const size_t sc_bytes = sizeof(float) * W * (has_min ? 2 : 1);
    const size_t gb = sc_bytes + (size_t)W * (size_t)sub, ab = (size_t)sub + 8 + (has_min ? 4 : 0);
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256 f0[NT], f1[NT];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) f0[t] = f1[t] = _mm256_setzero_ps();
    for (int64_t j = 0; j < kn / sub; j++) {
        const uint8_t *g = panel + (size_t)j * gb, *ag = a + (size_t)j * ab;
        const uint8_t *q = g + sc_bytes;
        __m256i c0[NT], c1[NT];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) c0[t] = c1[t] = bcast_i32(ag + (size_t)t * as + sub + 4);
#pragma GCC unroll 8
        for (int w = 0; w < sub / 4; w++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(q + (size_t)w * 4 * W));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(q + (size_t)w * 4 * W + 32));
            if (is_signed) {
                w0 = _mm256_xor_si256(w0, flip);
                w1 = _mm256_xor_si256(w1, flip);
                const __m256i aw0 = _mm256_abs_epi8(w0), aw1 = _mm256_abs_epi8(w1);
#pragma GCC unroll 4
                for (int t = 0; t < nt; t++) {
                    const __m256i av = bcast_i32(ag + (size_t)t * as + 4 * (size_t)w);
                    c0[t] = dot_s8(c0[t], aw0, w0, av);
                    c1[t] = dot_s8(c1[t], aw1, w1, av);
                }
            } else {
#pragma GCC unroll 4
                for (int t = 0; t < nt; t++) {
                    const __m256i av = bcast_i32(ag + (size_t)t * as + 4 * (size_t)w);
                    c0[t] = dot_u8(c0[t], w0, av);
                    c1[t] = dot_u8(c1[t], w1, av);
                }
            }
        }
        const __m256 S0 = _mm256_loadu_ps((const float *)g), S1 = _mm256_loadu_ps((const float *)(g + 32));
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            const __m256 d = bcast_f32(ag + (size_t)t * as + sub);
            f0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0[t]), _mm256_mul_ps(S0, d), f0[t]);
            f1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c1[t]), _mm256_mul_ps(S1, d), f1[t]);
        }
        if (has_min) {
            const __m256 M0 = _mm256_loadu_ps((const float *)(g + 4 * W));
            const __m256 M1 = _mm256_loadu_ps((const float *)(g + 4 * W + 32));
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++) {
                const __m256 m = bcast_f32(ag + (size_t)t * as + sub + 8);
                f0[t] = _mm256_fnmadd_ps(M0, m, f0[t]);
                f1[t] = _mm256_fnmadd_ps(M1, m, f1[t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) {
        put_8(y + (size_t)t * ys, n_rows, 0, f0[t], accumulate);
        if (n_rows > 8) put_8(y + (size_t)t * ys + 8, n_rows, 8, f1[t], accumulate);
    }
}

/* All n_tok tokens in register tiles of NT, layout given as constants. */
static inline __attribute__((always_inline)) void tile_all(int64_t kn, const void *panel, int n_rows,
                                                            const void *a, size_t as, int n_tok, float *y,
                                                            size_t ys, bool accumulate, const int sub,
                                                            const bool has_min, const bool is_signed) {
    const uint8_t *p = panel, *ab = a;
    int t = 0;
    for (; t + NT <= n_tok; t += NT)
        tile_nt(kn, p, n_rows, ab + (size_t)t * as, as, y + (size_t)t * ys, ys, accumulate, sub, has_min, is_signed, NT);
    if (t < n_tok)
        tile_nt(kn, p, n_rows, ab + (size_t)t * as, as, y + (size_t)t * ys, ys, accumulate, sub, has_min, is_signed, 1);
}

/* Float panels: per element two weight loads (16 rows), per token a broadcast and two FMAs
 * (always inlined with constant nt; 4 tokens: 8 accumulators). */
static inline __attribute__((always_inline)) void tile_f32_nt(int64_t kn, const float *panel, int n_rows,
                                                               const float *a, size_t as, float *y, size_t ys,
                                                               bool accumulate, const int nt) {
    __m256 f0[4], f1[4];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) f0[t] = f1[t] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kn; k++) {
        const __m256 w0 = _mm256_loadu_ps(panel + (size_t)k * W), w1 = _mm256_loadu_ps(panel + (size_t)k * W + 8);
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            const __m256 av = _mm256_broadcast_ss(a + (size_t)t * as + (size_t)k);
            f0[t] = _mm256_fmadd_ps(w0, av, f0[t]);
            f1[t] = _mm256_fmadd_ps(w1, av, f1[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) {
        put_8(y + (size_t)t * ys, n_rows, 0, f0[t], accumulate);
        if (n_rows > 8) put_8(y + (size_t)t * ys + 8, n_rows, 8, f1[t], accumulate);
    }
}

/* Float panels (F16, BF16 weights): prepared rows are floats, a_stride in bytes. */
void ew_gemm_tile_f32_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride, int n_tok,
                           float *y, size_t y_stride, bool accumulate) {
    const float *p = panel, *af = a;
    const size_t as = a_stride / sizeof(float);
    int t = 0;
    for (; t + 4 <= n_tok; t += 4) tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, 4);
    switch (n_tok - t) {
    case 1: tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, 1); break;
    case 2: tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, 2); break;
    case 3: tile_f32_nt(kn, p, n_rows, af + (size_t)t * as, as, y + (size_t)t * y_stride, y_stride, accumulate, 3); break;
    default: break;
    }
}

/* Groups of 32 without mins, unsigned quants u <= 63 (Q4_0, Q5_0). */
void ew_gemm_tile_s32_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride, int n_tok,
                           float *y, size_t y_stride, bool accumulate) {
    tile_all(kn, panel, n_rows, a, a_stride, n_tok, y, y_stride, accumulate, 32, false, false);
}

/* Groups of 32, quants stored as w + 128 and read back signed (Q8_0, offset 0). */
void ew_gemm_tile_s32s_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride, int n_tok,
                            float *y, size_t y_stride, bool accumulate) {
    tile_all(kn, panel, n_rows, a, a_stride, n_tok, y, y_stride, accumulate, 32, false, true);
}

/* Groups of 32 with mins (Q4_K, Q5_K). */
void ew_gemm_tile_s32m_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride, int n_tok,
                            float *y, size_t y_stride, bool accumulate) {
    tile_all(kn, panel, n_rows, a, a_stride, n_tok, y, y_stride, accumulate, 32, true, false);
}

/* Groups of 16 (Q6_K). */
void ew_gemm_tile_s16_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride, int n_tok,
                           float *y, size_t y_stride, bool accumulate) {
    tile_all(kn, panel, n_rows, a, a_stride, n_tok, y, y_stride, accumulate, 16, false, false);
}
#endif
