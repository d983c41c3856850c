/*
 * quant_ref.h - the per-type scalar references behind ew_quantize_row_ref /
 * ew_dequantize_row_ref / ew_vec_dot_ref (quant.h). Internal to src/quant and to the SIMD
 * kernels that are tested against them.
 *
 * Every function takes n = number of elements, a multiple of the type's block size
 * (callers check; these do not). A quantize writes n / QK whole blocks; a dequantize writes
 * n floats; a dot returns sum_i w[i] * a[i] computed the way ggml's CPU backend does it
 * (integer products within a block, one float multiply-add per block or sub-block).
 */
#ifndef EW_QUANT_REF_H
#define EW_QUANT_REF_H

#include "quant/quant.h"
#include "quant/blocks.h"
#include <math.h>

typedef void (*ew_quantize_fn)(const float *x, void *y, int64_t n);
typedef void (*ew_dequantize_fn)(const void *x, float *y, int64_t n);
typedef float (*ew_vec_dot_fn)(int64_t n, const void *w, const void *a);

/* quant.c: the float types. Dots accumulate in double, as ggml's ggml_float. */
void ew_quantize_f32_ref(const float *x, void *y, int64_t n);
void ew_dequantize_f32_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_f32_ref(int64_t n, const void *w, const void *a);
void ew_quantize_f16_ref(const float *x, void *y, int64_t n);
void ew_dequantize_f16_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_f16_ref(int64_t n, const void *w, const void *a);
void ew_quantize_bf16_ref(const float *x, void *y, int64_t n);
void ew_dequantize_bf16_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_bf16_ref(int64_t n, const void *w, const void *a);

/* quant_legacy.c: 32-element blocks. */
void ew_quantize_q4_0_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q4_0_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q4_0_q8_0_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q4_1_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q4_1_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q4_1_q8_1_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q5_0_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q5_0_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q5_0_q8_0_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q5_1_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q5_1_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q5_1_q8_1_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q8_0_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q8_0_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q8_0_q8_0_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q8_1_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q8_1_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q8_1_q8_1_ref(int64_t n, const void *w, const void *a);

/* quant_k.c: 256-element super-blocks. */
void ew_quantize_q4_K_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q4_K_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q4_K_q8_K_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q5_K_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q5_K_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q5_K_q8_K_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q6_K_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q6_K_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q6_K_q8_K_ref(int64_t n, const void *w, const void *a);
void ew_quantize_q8_K_ref(const float *x, void *y, int64_t n);
void ew_dequantize_q8_K_ref(const void *x, float *y, int64_t n);
float ew_vec_dot_q8_K_q8_K_ref(int64_t n, const void *w, const void *a);

/* Round to the nearest integer, ties to even (as ggml's nearest_int), for |x| < 2^22. */
static inline int ew_nearest_int(float x) { return (int)lrintf(x); }

#endif
