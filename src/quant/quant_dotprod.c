/*
 * quant_dotprod.c - the NEON integer dots with the Armv8.2 dot-product instruction
 * (SDOT, vdotq_s32: 16 int8 products summed in fours into four int32 lanes). Compiled with
 * -march=armv8.2-a+dotprod (CMake gives *_dotprod.c that flag) and used only when the kernel
 * reports HWCAP_ASIMDDP (dispatch_arm.c). The bodies are quant_neon.c's (neon_dots.h): the
 * K-quant dots are bit-identical to the reference like those, and the others differ from
 * them only in how the products group into the four lanes before the float scaling.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* before the includes: the K-quant float part (neon_dots.h)
                                must round as the reference's; gcc -std=c11 does not
                                contract, clang would */
#endif
#include "quant/quant_simd.h"
#include "quant/neon_dots.h"

/* The SDOT dot step: acc lane k + a[4k..4k+3] . b[4k..4k+3]. */
static inline int32x4_t dot_sdot(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vdotq_s32(acc, a, b);
}

/* Q8_0 . Q8_0 (reassociation only). */
float ew_vec_dot_q8_0_q8_0_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q8_0_q8_0(n, w, a, dot_sdot);
}

/* Q4_0 . Q8_0 (reassociation only). */
float ew_vec_dot_q4_0_q8_0_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q4_0_q8_0(n, w, a, dot_sdot);
}

/* Q5_0 . Q8_0 (reassociation only). */
float ew_vec_dot_q5_0_q8_0_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q5_0_q8_0(n, w, a, dot_sdot);
}

/* Q4_1 . Q8_1 (reassociation only). */
float ew_vec_dot_q4_1_q8_1_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q4_1_q8_1(n, w, a, dot_sdot);
}

/* Q5_1 . Q8_1 (reassociation only). */
float ew_vec_dot_q5_1_q8_1_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q5_1_q8_1(n, w, a, dot_sdot);
}

/* Q4_K . Q8_K, bit-identical to the reference. */
float ew_vec_dot_q4_K_q8_K_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q4_K_q8_K(n, w, a, dot_sdot);
}

/* Q5_K . Q8_K, bit-identical to the reference. */
float ew_vec_dot_q5_K_q8_K_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q5_K_q8_K(n, w, a, dot_sdot);
}

/* Q6_K . Q8_K, bit-identical to the reference. */
float ew_vec_dot_q6_K_q8_K_dotprod(int64_t n, const void *w, const void *a) {
    return neon_dot_q6_K_q8_K(n, w, a, dot_sdot);
}
