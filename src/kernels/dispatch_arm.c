/*
 * dispatch_arm.c - the NEON level's entries of the kernel table (aarch64). Compiled
 * without ISA flags (it only stores pointers); the kernels live in quant_neon.c (base
 * Advanced SIMD, always present on aarch64) and quant_dotprod.c (SDOT), whose integer dots
 * replace the base ones when the CPU has the dot-product instructions (ew_cpu_features_get,
 * read from HWCAP once).
 */
#include "kernels/dispatch.h"
#include "quant/quant_simd.h"

#if defined(__aarch64__)
/* The dot-product variant when the CPU has SDOT, else the base NEON one. */
static ew_vec_dot_fn pick(bool dotprod, ew_vec_dot_fn with_sdot, ew_vec_dot_fn base) {
    return dotprod ? with_sdot : base;
}

/* NEON overrides. F32 activations stay a copy (the reference); Q8_1 . Q8_1 and
 * Q8_K . Q8_K (activation types, never weights in practice) keep their references' dots. */
void ew_dispatch_fill_neon(ew_kernels *k) {
    const bool dp = ew_cpu_features_get()->dotprod;
    ew_dispatch_set(k, EW_TYPE_F32, ew_quantize_f32_ref, ew_vec_dot_f32_neon);
    ew_dispatch_set(k, EW_TYPE_F16, ew_quantize_f16_neon, ew_vec_dot_f16_neon);
    ew_dispatch_set(k, EW_TYPE_BF16, ew_quantize_bf16_neon, ew_vec_dot_bf16_neon);
    ew_dispatch_set(k, EW_TYPE_Q4_0, ew_quantize_q8_0_neon,
                    pick(dp, ew_vec_dot_q4_0_q8_0_dotprod, ew_vec_dot_q4_0_q8_0_neon));
    ew_dispatch_set(k, EW_TYPE_Q4_1, ew_quantize_q8_1_neon,
                    pick(dp, ew_vec_dot_q4_1_q8_1_dotprod, ew_vec_dot_q4_1_q8_1_neon));
    ew_dispatch_set(k, EW_TYPE_Q5_0, ew_quantize_q8_0_neon,
                    pick(dp, ew_vec_dot_q5_0_q8_0_dotprod, ew_vec_dot_q5_0_q8_0_neon));
    ew_dispatch_set(k, EW_TYPE_Q5_1, ew_quantize_q8_1_neon,
                    pick(dp, ew_vec_dot_q5_1_q8_1_dotprod, ew_vec_dot_q5_1_q8_1_neon));
    ew_dispatch_set(k, EW_TYPE_Q8_0, ew_quantize_q8_0_neon,
                    pick(dp, ew_vec_dot_q8_0_q8_0_dotprod, ew_vec_dot_q8_0_q8_0_neon));
    ew_dispatch_set(k, EW_TYPE_Q8_1, ew_quantize_q8_1_neon, ew_vec_dot_q8_1_q8_1_ref);
    ew_dispatch_set(k, EW_TYPE_Q4_K, ew_quantize_q8_K_neon,
                    pick(dp, ew_vec_dot_q4_K_q8_K_dotprod, ew_vec_dot_q4_K_q8_K_neon));
    ew_dispatch_set(k, EW_TYPE_Q5_K, ew_quantize_q8_K_neon,
                    pick(dp, ew_vec_dot_q5_K_q8_K_dotprod, ew_vec_dot_q5_K_q8_K_neon));
    ew_dispatch_set(k, EW_TYPE_Q6_K, ew_quantize_q8_K_neon,
                    pick(dp, ew_vec_dot_q6_K_q8_K_dotprod, ew_vec_dot_q6_K_q8_K_neon));
    ew_dispatch_set(k, EW_TYPE_Q8_K, ew_quantize_q8_K_neon, ew_vec_dot_q8_K_q8_K_ref);
}
#else
/* Not aarch64: the NEON table is never handed out (ew_cpu_level_supported is false). */
void ew_dispatch_fill_neon(ew_kernels *k) { (void)k; }
#endif
