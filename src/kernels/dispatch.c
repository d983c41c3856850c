/*
 * dispatch.c - fills one kernel table per CPU level, once (pthread_once): the scalar
 * references for every supported type, then each SIMD level overrides the entries it has.
 * The per-ISA entries come from dispatch_x86.c (AVX2, AVX-512) and dispatch_arm.c (NEON,
 * dotprod), the tile kernels from gemm_dispatch.c.
 */
#include "kernels/dispatch.h"
#include "quant/quant_simd.h"

#include <pthread.h>
#include <stdatomic.h>

#define N_LEVELS 4

static ew_kernels g_tables[N_LEVELS];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static _Atomic(const ew_kernels *) g_current;

/* Set type t's activation quantizer and dot. */
void ew_dispatch_set(ew_kernels *k, uint32_t t, ew_quantize_fn q, ew_vec_dot_fn d) {
    k->type[t].quantize = q;
    k->type[t].vec_dot = d;
}

/* The reference table: every `supported` type's dot with its vec_dot_type's quantizer. */
static void fill_scalar(ew_kernels *k) {
    for (uint32_t t = 0; t < EW_TYPE_COUNT; t++) {
        const ew_type_traits *tt = ew_type_get(t);
        k->type[t].act_type = tt ? tt->vec_dot_type : t;
    }
    ew_dispatch_set(k, EW_TYPE_F32, ew_quantize_f32_ref, ew_vec_dot_f32_ref);
    ew_dispatch_set(k, EW_TYPE_F16, ew_quantize_f16_ref, ew_vec_dot_f16_ref);
    ew_dispatch_set(k, EW_TYPE_BF16, ew_quantize_bf16_ref, ew_vec_dot_bf16_ref);
    ew_dispatch_set(k, EW_TYPE_Q4_0, ew_quantize_q8_0_ref, ew_vec_dot_q4_0_q8_0_ref);
    ew_dispatch_set(k, EW_TYPE_Q4_1, ew_quantize_q8_1_ref, ew_vec_dot_q4_1_q8_1_ref);
    ew_dispatch_set(k, EW_TYPE_Q5_0, ew_quantize_q8_0_ref, ew_vec_dot_q5_0_q8_0_ref);
    ew_dispatch_set(k, EW_TYPE_Q5_1, ew_quantize_q8_1_ref, ew_vec_dot_q5_1_q8_1_ref);
    ew_dispatch_set(k, EW_TYPE_Q8_0, ew_quantize_q8_0_ref, ew_vec_dot_q8_0_q8_0_ref);
    ew_dispatch_set(k, EW_TYPE_Q8_1, ew_quantize_q8_1_ref, ew_vec_dot_q8_1_q8_1_ref);
    ew_dispatch_set(k, EW_TYPE_Q4_K, ew_quantize_q8_K_ref, ew_vec_dot_q4_K_q8_K_ref);
    ew_dispatch_set(k, EW_TYPE_Q5_K, ew_quantize_q8_K_ref, ew_vec_dot_q5_K_q8_K_ref);
    ew_dispatch_set(k, EW_TYPE_Q6_K, ew_quantize_q8_K_ref, ew_vec_dot_q6_K_q8_K_ref);
    ew_dispatch_set(k, EW_TYPE_Q8_K, ew_quantize_q8_K_ref, ew_vec_dot_q8_K_q8_K_ref);
}

/* Build every level's table (the ones this machine cannot run too: they are never handed
 * out, see ew_kernels_for_level). */
static void build_tables(void) {
    for (int l = 0; l < N_LEVELS; l++) {
        g_tables[l].level = (ew_cpu_level)l;
        fill_scalar(&g_tables[l]);
    }
    ew_dispatch_fill_avx2(&g_tables[EW_CPU_AVX2]);
    ew_dispatch_fill_avx512(&g_tables[EW_CPU_AVX512]);
    ew_dispatch_fill_neon(&g_tables[EW_CPU_NEON]);
    for (int l = 0; l < N_LEVELS; l++) ew_dispatch_fill_gemm(&g_tables[l], (ew_cpu_level)l);
}

/* The table of level l when this machine can run it, else NULL. */
const ew_kernels *ew_kernels_for_level(ew_cpu_level l) {
    if ((unsigned)l >= N_LEVELS || !ew_cpu_level_supported(l)) return NULL;
    pthread_once(&g_once, build_tables);
    return &g_tables[l];
}

/* The table of the level in force at the first call, cached. */
const ew_kernels *ew_kernels_get(void) {
    const ew_kernels *k = atomic_load_explicit(&g_current, memory_order_acquire);
    if (k) return k;
    k = ew_kernels_for_level(ew_cpu_level_get());
    if (!k) k = ew_kernels_for_level(EW_CPU_SCALAR); /* cannot happen: the level is supported */
    ew_log(EW_LOG_DEBUG, "kernels: %s", ew_cpu_level_str(k->level));
    atomic_store_explicit(&g_current, k, memory_order_release);
    return k;
}
