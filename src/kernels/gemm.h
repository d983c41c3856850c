/*
 * gemm.h - the tiled prefill path of the matmul: weights packed into row-interleaved panels,
 * activations prepared once per call, and a register-tiled kernel per ISA that reuses each
 * loaded weight vector across several tokens and each activation word across many rows.
 *
 * The idea (as the interleaved layouts of llama.cpp's repacked kernels, written afresh):
 * an integer dot product instruction (VNNI vpdpbusd, or maddubs + madd on AVX2) multiplies
 * 4 unsigned weight bytes by 4 signed activation bytes and sums them into one int32 lane.
 * If lane i of a weight vector holds 4 consecutive quants of row i, and the activation
 * vector is 4 quants of one token broadcast to every lane, one instruction advances the
 * dot of 16 rows (zmm) with that token, with no horizontal sum anywhere: after a scale
 * group of quants, the int32 lanes are converted to float and scaled, one vector op per
 * 16 outputs.
 *
 * Every weight type becomes the same thing in a panel: unsigned quants u (0..255) with a
 * float scale S per group of `sub` elements (32, or 16 for Q6_K) and per row, optionally a
 * float min M (Q4_K, Q5_K), such that the dot of a weight row with activation quants a
 * (scale d_a per group) is
 *     sum_groups d_a * (S * (sum u*a + c) - M * sum a)
 * where c = -off * sum a (off = 8 for Q4_0, 16 for Q5_0, 128 for Q8_0 stored as w + 128,
 * 32 for Q6_K): the offset of the unsigned quants is folded into the int32 accumulator's
 * start value. The activation side (d_a, c and, with mins, d_a * sum a) is computed once
 * per token per call (ew_gemm_ops.prep); the weight side once per panel (ew_gemm_ops.pack).
 *
 * Panel layout (W = ew_gemm_ops.rows rows, rows past the matrix are zero), per group of
 * `sub` elements: float S[W], then (with mins) float M[W], then sub/4 words of W x 4 bytes:
 * word g holds, for row r, the quants of elements 4g..4g+3 of the group at bytes 4r..4r+3.
 * Prepared activation row, per group: int8 q[sub], float d, int32 c, then (with mins)
 * float m = d * sum q.
 *
 * Float weights (F16, BF16) take the same route in float: the panel holds, per group
 * of `sub` = 16 elements, 16 words of W floats (word k: element k of every row), prepared
 * rows hold the activations as floats (after rounding to the act_type, as vec_dot sees
 * them), and the tile kernel broadcasts one activation per token against W rows with FMA.
 */
#ifndef EW_GEMM_H
#define EW_GEMM_H

#include "kernels/dispatch.h"

/* Shape of one type's packed groups (the same at every level). */
typedef struct ew_gemm_layout {
    int sub;       /* elements per scale group: 32, or 16 (Q6_K) */
    bool has_min;  /* panel holds M, prepared rows hold m */
    int off;       /* unsigned quant offset folded into c (0: weights already signed-exact) */
    bool is_float; /* float panels and activations (F16, BF16 weights) */
} ew_gemm_layout;

/* Pack rows [0, n_rows) (n_rows <= W) of a weight matrix, elements [k0, k0 + kn) (k0, kn
 * multiples of the type's block size), into a panel of W rows; rows n_rows..W-1 are
 * zero. w points at row 0 (element 0), rows w_stride bytes apart. */
typedef void (*ew_gemm_pack_fn)(const void *w, size_t w_stride, int n_rows, int64_t k0, int64_t kn,
                                int W, void *panel);
/* Prepare one activation row of K elements (already quantized to the act_type) for the
 * tile kernel; off is the layout's offset. */
typedef void (*ew_gemm_prep_fn)(const void *act_row, int64_t K, int off, void *prep_row);
/* Quantize a float row to the act_type and prepare it in one pass: the same bytes as the
 * reference quantizer followed by the preparer. */
typedef void (*ew_gemm_quant_prep_fn)(const float *x, int64_t K, int off, void *prep_row);
/*
 * The tile kernel: y[t * y_stride + r] (+)= dot(panel row r, prepared row t) for r <
 * n_rows (<= W), t < n_tok, over kn elements. The panel holds kn elements; prepared rows
 * are a_stride bytes apart and a points at the group where the panel's elements start.
 * accumulate: add to y instead of storing (for K split in chunks).
 */
typedef void (*ew_gemm_tile_fn)(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                                int n_tok, float *y, size_t y_stride, bool accumulate);

/* The tile path of one weight type at one level. */
typedef struct ew_gemm_ops {
    ew_gemm_layout layout;
    ew_gemm_pack_fn pack;
    ew_gemm_prep_fn prep;
    ew_gemm_tile_fn tile;
    ew_gemm_quant_prep_fn quant_prep; /* NULL: the table's quantizer, then prep */
    int rows;     /* panel width W: rows per tile */
    int tok;      /* tokens per register tile (the kernel takes any n_tok) */
    int min_tok;  /* below this many tokens the matmul loops over vec_dot instead */
} ew_gemm_ops;

/* Bytes of one packed group of `sub` elements for W rows. */
static inline size_t ew_gemm_group_bytes(const ew_gemm_layout *L, int W) {
    if (L->is_float) return (size_t)W * sizeof(float) * (size_t)L->sub;
    return (size_t)W * (sizeof(float) * (L->has_min ? 2 : 1) + (size_t)L->sub);
}
/* Bytes of one prepared activation group. */
static inline size_t ew_gemm_prep_group_bytes(const ew_gemm_layout *L) {
    if (L->is_float) return sizeof(float) * (size_t)L->sub;
    return (size_t)L->sub + 8 + (L->has_min ? 4 : 0);
}
/* Bytes of a panel of W rows x kn elements. */
static inline size_t ew_gemm_panel_bytes(const ew_gemm_layout *L, int W, int64_t kn) {
    return (size_t)(kn / L->sub) * ew_gemm_group_bytes(L, W);
}
/* Bytes of one prepared activation row of K elements, rounded up to 64. */
static inline size_t ew_gemm_prep_row_bytes(const ew_gemm_layout *L, int64_t K) {
    return ((size_t)(K / L->sub) * ew_gemm_prep_group_bytes(L) + 63) & ~(size_t)63;
}

/* repack.c: the layout and the level-independent packer / activation preparer of weight
 * type t; false when t has no tile path. */
bool ew_gemm_type_layout(uint32_t t, ew_gemm_layout *L, ew_gemm_pack_fn *pack, ew_gemm_prep_fn *prep);

/* gemm_ref.c: the scalar tile kernel (same contract as the SIMD ones; tests use it to check
 * packers and preparers on any machine) and the definition every tile kernel is tested
 * against: y[t][r] = the reference vec_dot of weight row r with activation row t. */
void ew_gemm_tile_ref(const ew_gemm_layout *L, int W, int64_t kn, const void *panel, int n_rows, const void *a,
                      size_t a_stride, int n_tok, float *y, size_t y_stride, bool accumulate);
void ew_gemm_vec_dot_ref(uint32_t t, int64_t K, const void *w, size_t w_stride, int n_rows, const void *a,
                         size_t a_stride, int n_tok, float *y, size_t y_stride);

/* gemm_avx512.c (AVX-512 F/BW/VL + VNNI), gemm_avx2.c (AVX2): tile kernels per layout
 * (sub 32 without / with mins, sub 16); W = 32 for AVX-512, 16 for AVX2. */
void ew_gemm_tile_s32_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                             int n_tok, float *y, size_t y_stride, bool accumulate);
void ew_gemm_tile_s32m_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                              int n_tok, float *y, size_t y_stride, bool accumulate);
void ew_gemm_tile_s16_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                             int n_tok, float *y, size_t y_stride, bool accumulate);
void ew_gemm_tile_s32_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                           int n_tok, float *y, size_t y_stride, bool accumulate);
void ew_gemm_tile_s32m_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                            int n_tok, float *y, size_t y_stride, bool accumulate);
void ew_gemm_tile_s16_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                           int n_tok, float *y, size_t y_stride, bool accumulate);
/* Float panels (F16, BF16 weights). */
void ew_gemm_tile_f32_avx512(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                             int n_tok, float *y, size_t y_stride, bool accumulate);
void ew_gemm_tile_f32_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                           int n_tok, float *y, size_t y_stride, bool accumulate);
/* AVX2 for Q8_0 (off 0): maddubs cannot take w + 128 (a pair of products 255 * 127 would
 * saturate int16), so this one reads the quants back as signed and uses |w| x sign(a, w). */
void ew_gemm_tile_s32s_avx2(int64_t kn, const void *panel, int n_rows, const void *a, size_t a_stride,
                            int n_tok, float *y, size_t y_stride, bool accumulate);

/* gemm_avx512.c: Q8_0 quantizer + preparer fused (AVX-512 F/BW/VL + F16C); F16 likewise
 * (x rounded to binary16 and back). */
void ew_gemm_quant_prep_q8_0_avx512(const float *x, int64_t K, int off, void *prep_row);
void ew_gemm_quant_prep_f16_avx512(const float *x, int64_t K, int off, void *prep_row);

/* gemm_dispatch.c: the ops of type t at level l, or NULL (no tile path: vec_dot loops). */
const ew_gemm_ops *ew_gemm_ops_for(ew_cpu_level l, uint32_t t);

#endif
