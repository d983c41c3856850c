/*
 * gemm_ref.c - the scalar side of the tiled prefill path (gemm.h):
 *  - ew_gemm_vec_dot_ref, the definition: a tile is n_rows x n_tok reference vec_dots;
 *  - ew_gemm_tile_ref, the tile kernel's arithmetic in plain C on a packed panel and
 *    prepared activations, exactly what the SIMD kernels compute lane by lane (integer sums
 *    per scale group, then one float multiply-add per group). Tests use it to check the
 *    packers and preparers (repack.c) on any machine.
 */
#include "kernels/gemm.h"
#include "quant/quant.h"
#include <string.h>

/* y[t * y_stride + r] = ew_vec_dot_ref(t, weight row r, activation row t). */
void ew_gemm_vec_dot_ref(uint32_t type, int64_t K, const void *w, size_t w_stride, int n_rows, const void *a,
                         size_t a_stride, int n_tok, float *y, size_t y_stride) {
    for (int t = 0; t < n_tok; t++)
        for (int r = 0; r < n_rows; r++)
            y[(size_t)t * y_stride + (size_t)r] = ew_vec_dot_ref(type, K, (const uint8_t *)w + (size_t)r * w_stride,
                                                                 (const uint8_t *)a + (size_t)t * a_stride);
}

/* float at p (unaligned). */
static inline float ld_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* int32 at p (unaligned). */
static inline int32_t ld_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Float panels: sum over k of w[k] * a[k] in float, in element order. */
static float row_dot_float(int W, int64_t kn, const uint8_t *panel, int r, const uint8_t *a) {
    float acc = 0;
    for (int64_t k = 0; k < kn; k++)
        acc += ld_f32(panel + 4 * ((size_t)k * (size_t)W + (size_t)r)) * ld_f32(a + 4 * (size_t)k);
    return acc;
}

/* Dot of panel row r with one prepared activation row over kn elements, as the SIMD
 * kernels evaluate it: per group, isum = c + sum u * a (exact int32), then
 * acc += isum * (S * d), then (mins) acc -= M * m. */
static float row_dot(const ew_gemm_layout *L, int W, int64_t kn, const uint8_t *panel, int r, const uint8_t *a) {
    if (L->is_float) return row_dot_float(W, kn, panel, r, a);
    const size_t gb = ew_gemm_group_bytes(L, W), ab = ew_gemm_prep_group_bytes(L);
    const size_t q_off = sizeof(float) * (size_t)W * (L->has_min ? 2 : 1);
    float acc = 0;
    for (int64_t j = 0; j < kn / L->sub; j++) {
        const uint8_t *g = panel + (size_t)j * gb, *ag = a + (size_t)j * ab;
        int32_t isum = ld_i32(ag + L->sub + 4);
        for (int k = 0; k < L->sub; k++) isum += g[q_off + (size_t)((k / 4) * W + r) * 4 + k % 4] * (int8_t)ag[k];
        const float S = ld_f32(g + 4 * (size_t)r), d = ld_f32(ag + L->sub);
        acc += (float)isum * (S * d);
        if (L->has_min) acc -= ld_f32(g + 4 * (size_t)(W + r)) * ld_f32(ag + L->sub + 8);
    }
    return acc;
}

/* The scalar tile kernel: gemm.h's ew_gemm_tile_fn contract with the layout and width
 * passed explicitly. */
void ew_gemm_tile_ref(const ew_gemm_layout *L, int W, int64_t kn, const void *panel, int n_rows, const void *a,
                      size_t a_stride, int n_tok, float *y, size_t y_stride, bool accumulate) {
    for (int t = 0; t < n_tok; t++)
        for (int r = 0; r < n_rows; r++) {
            const float v = row_dot(L, W, kn, panel, r, (const uint8_t *)a + (size_t)t * a_stride);
            float *dst = &y[(size_t)t * y_stride + (size_t)r];
            *dst = accumulate ? *dst + v : v;
        }
}
