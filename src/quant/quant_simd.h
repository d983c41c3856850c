/*
 * quant_simd.h - the SIMD twins of the scalar references in quant_ref.h, one set per ISA,
 * same signatures and same preconditions (n a multiple of the type's block size). They are
 * reached through the dispatch table (kernels/dispatch.h), never called directly: a
 * function of an ISA the CPU lacks would fault.
 *
 * What "same result" means (tests/unit/kernels/test_kernels_simd.c checks each):
 *  - quantizers (Q8_0, Q8_1, Q8_K, F16, BF16): byte-identical output to the reference,
 *    for every input including zeros, NaN, infinities and subnormals.
 *  - K-quant dots (Q4_K, Q5_K, Q6_K x Q8_K): bit-identical to the reference (the integer
 *    sums per block are exact, the float part is evaluated in the reference's order).
 *  - the other dots: the integer products per block are exact; block scales are applied
 *    and summed in SIMD lanes, so the result differs from the reference only by float
 *    reassociation (within a few 1e-7 of sum |w_i * a_i| in practice).
 *  - the integer dots assume activation quants in -127..127, which is what the Q8_0 /
 *    Q8_1 / Q8_K quantizers produce (an activation of -128 could overflow the sign trick);
 *    weights may hold any bit pattern.
 *
 * Files: quant_avx2.c (quantizers, float dots, 32-element block dots) and
 * quant_k_avx2.c (K-quant dots); both need AVX2 + FMA + F16C (level EW_CPU_AVX2).
 * quant_neon.c (base aarch64 Advanced SIMD: quantizers, float dots, integer dots) and
 * quant_dotprod.c (the integer dots with SDOT, for CPUs with HWCAP_ASIMDDP); level
 * EW_CPU_NEON, the dot-product variants picked by dispatch_arm.c. Their integer dots share
 * one body per type (neon_dots.h). On aarch64 "the reference" is the scalar code compiled
 * for aarch64: its Q8_K quantizer maps x * iscale = +inf to -1 where x86's maps it to 0
 * ((int)lrintf of a non-finite value), and the NEON quantizer follows the aarch64 one.
 */
#ifndef EW_QUANT_SIMD_H
#define EW_QUANT_SIMD_H

#include "quant/quant_ref.h"

/* ---- x86 AVX2 + FMA + F16C ---------------------------------------------------------------- */

void ew_quantize_q8_0_avx2(const float *x, void *y, int64_t n);
void ew_quantize_q8_1_avx2(const float *x, void *y, int64_t n);
void ew_quantize_q8_K_avx2(const float *x, void *y, int64_t n);
void ew_quantize_f16_avx2(const float *x, void *y, int64_t n);
void ew_quantize_bf16_avx2(const float *x, void *y, int64_t n);

float ew_vec_dot_f32_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_f16_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_bf16_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_q8_0_q8_0_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_0_q8_0_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_0_q8_0_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_1_q8_1_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_1_q8_1_avx2(int64_t n, const void *w, const void *a);

float ew_vec_dot_q4_K_q8_K_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_K_q8_K_avx2(int64_t n, const void *w, const void *a);
float ew_vec_dot_q6_K_q8_K_avx2(int64_t n, const void *w, const void *a);

/* ---- x86 AVX-512 (level EW_CPU_AVX512: F/BW/VL/DQ) -----------------------------------------
 * quant_avx512.c (32-element block dots, BF16 dot) and quant_k_avx512.c (K-quant dots). The
 * integer dots need AVX512-VNNI too (vpdpbusd, vpdpwssd) and the BF16 dot AVX512-BF16;
 * dispatch_x86.c picks them by ew_cpu_features_get() and otherwise keeps the AVX2 kernels,
 * as it does for the quantizers and the F32/F16 dots. Same contract as the AVX2 kernels
 * (K-quant dots bit-identical, the others within float reassociation), except that the
 * BF16 dot (vdpbf16ps) treats bf16 subnormals as zero. */

float ew_vec_dot_bf16_avx512bf16(int64_t n, const void *w, const void *a);
float ew_vec_dot_q8_0_q8_0_avx512vnni(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_0_q8_0_avx512vnni(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_0_q8_0_avx512vnni(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_1_q8_1_avx512vnni(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_1_q8_1_avx512vnni(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_K_q8_K_avx512vnni(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_K_q8_K_avx512vnni(int64_t n, const void *w, const void *a);
float ew_vec_dot_q6_K_q8_K_avx512vnni(int64_t n, const void *w, const void *a);

/* ---- aarch64 NEON (base ARMv8-A) ----------------------------------------------------------- */

void ew_quantize_q8_0_neon(const float *x, void *y, int64_t n);
void ew_quantize_q8_1_neon(const float *x, void *y, int64_t n);
void ew_quantize_q8_K_neon(const float *x, void *y, int64_t n);
void ew_quantize_f16_neon(const float *x, void *y, int64_t n);
void ew_quantize_bf16_neon(const float *x, void *y, int64_t n);

float ew_vec_dot_f32_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_f16_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_bf16_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q8_0_q8_0_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_0_q8_0_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_0_q8_0_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_1_q8_1_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_1_q8_1_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_K_q8_K_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_K_q8_K_neon(int64_t n, const void *w, const void *a);
float ew_vec_dot_q6_K_q8_K_neon(int64_t n, const void *w, const void *a);

/* ---- aarch64 NEON + dot product (FEAT_DotProd, HWCAP_ASIMDDP) ------------------------------ */

float ew_vec_dot_q8_0_q8_0_dotprod(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_0_q8_0_dotprod(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_0_q8_0_dotprod(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_1_q8_1_dotprod(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_1_q8_1_dotprod(int64_t n, const void *w, const void *a);
float ew_vec_dot_q4_K_q8_K_dotprod(int64_t n, const void *w, const void *a);
float ew_vec_dot_q5_K_q8_K_dotprod(int64_t n, const void *w, const void *a);
float ew_vec_dot_q6_K_q8_K_dotprod(int64_t n, const void *w, const void *a);

#endif
