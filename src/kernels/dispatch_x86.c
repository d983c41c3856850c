/*
 * dispatch_x86.c - the x86 levels' entries of the kernel table. Compiled without ISA flags
 * (it only stores pointers); the kernels themselves live in the *_avx2.c / *_avx512.c files.
 */
#include "kernels/dispatch.h"
#include "quant/quant_simd.h"

#if defined(__x86_64__)
/* AVX2 + FMA + F16C overrides (quant_avx2.c, quant_k_avx2.c). Q8_1 . Q8_1 and Q8_K . Q8_K
 * (activation types, never weights in practice) keep their references' dots. */
void ew_dispatch_fill_avx2(ew_kernels *k) {
    ew_dispatch_set(k, EW_TYPE_F32, ew_quantize_f32_ref, ew_vec_dot_f32_avx2);
    ew_dispatch_set(k, EW_TYPE_F16, ew_quantize_f16_avx2, ew_vec_dot_f16_avx2);
    ew_dispatch_set(k, EW_TYPE_BF16, ew_quantize_bf16_avx2, ew_vec_dot_bf16_avx2);
    ew_dispatch_set(k, EW_TYPE_Q4_0, ew_quantize_q8_0_avx2, ew_vec_dot_q4_0_q8_0_avx2);
    ew_dispatch_set(k, EW_TYPE_Q4_1, ew_quantize_q8_1_avx2, ew_vec_dot_q4_1_q8_1_avx2);
    ew_dispatch_set(k, EW_TYPE_Q5_0, ew_quantize_q8_0_avx2, ew_vec_dot_q5_0_q8_0_avx2);
    ew_dispatch_set(k, EW_TYPE_Q5_1, ew_quantize_q8_1_avx2, ew_vec_dot_q5_1_q8_1_avx2);
    ew_dispatch_set(k, EW_TYPE_Q8_0, ew_quantize_q8_0_avx2, ew_vec_dot_q8_0_q8_0_avx2);
    ew_dispatch_set(k, EW_TYPE_Q8_1, ew_quantize_q8_1_avx2, ew_vec_dot_q8_1_q8_1_ref);
    ew_dispatch_set(k, EW_TYPE_Q4_K, ew_quantize_q8_K_avx2, ew_vec_dot_q4_K_q8_K_avx2);
    ew_dispatch_set(k, EW_TYPE_Q5_K, ew_quantize_q8_K_avx2, ew_vec_dot_q5_K_q8_K_avx2);
    ew_dispatch_set(k, EW_TYPE_Q6_K, ew_quantize_q8_K_avx2, ew_vec_dot_q6_K_q8_K_avx2);
    ew_dispatch_set(k, EW_TYPE_Q8_K, ew_quantize_q8_K_avx2, ew_vec_dot_q8_K_q8_K_ref);
}

/* AVX-512 (F/BW/VL/DQ): the AVX2 table, with the integer dots of quant_avx512.c /
 * quant_k_avx512.c when the CPU has AVX512-VNNI and the vdpbf16ps BF16 dot when it has
 * AVX512-BF16. The quantizers and the F32/F16 dots stay AVX2: 512-bit versions measured no
 * faster (Zen 4 splits 512-bit ops in two; see quant_avx512.c). */
void ew_dispatch_fill_avx512(ew_kernels *k) {
    ew_dispatch_fill_avx2(k);
    const ew_cpu_features *f = ew_cpu_features_get();
    if (f->avx512bf16) k->type[EW_TYPE_BF16].vec_dot = ew_vec_dot_bf16_avx512bf16;
    if (!f->avx512vnni) return;
    k->type[EW_TYPE_Q8_0].vec_dot = ew_vec_dot_q8_0_q8_0_avx512vnni;
    k->type[EW_TYPE_Q4_0].vec_dot = ew_vec_dot_q4_0_q8_0_avx512vnni;
    k->type[EW_TYPE_Q5_0].vec_dot = ew_vec_dot_q5_0_q8_0_avx512vnni;
    k->type[EW_TYPE_Q4_1].vec_dot = ew_vec_dot_q4_1_q8_1_avx512vnni;
    k->type[EW_TYPE_Q5_1].vec_dot = ew_vec_dot_q5_1_q8_1_avx512vnni;
    k->type[EW_TYPE_Q4_K].vec_dot = ew_vec_dot_q4_K_q8_K_avx512vnni;
    k->type[EW_TYPE_Q5_K].vec_dot = ew_vec_dot_q5_K_q8_K_avx512vnni;
    k->type[EW_TYPE_Q6_K].vec_dot = ew_vec_dot_q6_K_q8_K_avx512vnni;
}
#else
void ew_dispatch_fill_avx2(ew_kernels *k) { (void)k; }
void ew_dispatch_fill_avx512(ew_kernels *k) { (void)k; }
#endif
