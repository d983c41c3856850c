/*
 * layer_dispatch.c - one table of layer kernels (layer.h) per CPU level, filled once
 * (pthread_once): the scalar references everywhere, then each x86 level's SIMD twins. NEON
 * runs the references until arm kernels exist. Compiled without ISA flags: it only stores
 * pointers, so building the table of a level the machine lacks is safe (it is never handed
 * out).
 */
#include "kernels/layer.h"

#include <pthread.h>
#include <stdatomic.h>

#define N_LEVELS 4

static ew_layer_kernels g_tables[N_LEVELS];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static _Atomic(const ew_layer_kernels *) g_current;

/* The scalar references. */
static void fill_scalar(ew_layer_kernels *k) {
    k->rmsnorm = ew_rmsnorm;
    k->add = ew_add_ref;
    k->softmax = ew_softmax;
    k->swiglu = ew_swiglu;
    k->rope = ew_rope_cs_ref;
    k->to_f16 = ew_to_f16_ref;
    k->attn = ew_attn_ref;
}

#if defined(__x86_64__)
/* AVX2 + FMA + F16C (layer_avx2.c, attn_avx2.c). */
static void fill_avx2(ew_layer_kernels *k) {
    k->rmsnorm = ew_rmsnorm_avx2;
    k->add = ew_add_avx2;
    k->softmax = ew_softmax_avx2;
    k->swiglu = ew_swiglu_avx2;
    k->rope = ew_rope_avx2;
    k->to_f16 = ew_to_f16_avx2;
    k->attn = ew_attn_avx2;
}

/* AVX-512 F/BW/VL/DQ (layer_avx512.c, attn_avx512.c). */
static void fill_avx512(ew_layer_kernels *k) {
    k->rmsnorm = ew_rmsnorm_avx512;
    k->add = ew_add_avx512;
    k->softmax = ew_softmax_avx512;
    k->swiglu = ew_swiglu_avx512;
    k->rope = ew_rope_avx512;
    k->to_f16 = ew_to_f16_avx512;
    k->attn = ew_attn_avx512;
}
#endif

/* Build every level's table. */
static void build_tables(void) {
    for (int l = 0; l < N_LEVELS; l++) {
        g_tables[l].level = (ew_cpu_level)l;
        fill_scalar(&g_tables[l]);
    }
#if defined(__x86_64__)
    fill_avx2(&g_tables[EW_CPU_AVX2]);
    fill_avx512(&g_tables[EW_CPU_AVX512]);
#endif
}

/* The table of level l when this machine can run it, else NULL. */
const ew_layer_kernels *ew_layer_kernels_for_level(ew_cpu_level l) {
    if ((unsigned)l >= N_LEVELS || !ew_cpu_level_supported(l)) return NULL;
    pthread_once(&g_once, build_tables);
    return &g_tables[l];
}

/* The table of the level in force at the first call, cached. */
const ew_layer_kernels *ew_layer_kernels_get(void) {
    const ew_layer_kernels *k = atomic_load_explicit(&g_current, memory_order_acquire);
    if (k) return k;
    k = ew_layer_kernels_for_level(ew_cpu_level_get());
    if (!k) k = ew_layer_kernels_for_level(EW_CPU_SCALAR);
    atomic_store_explicit(&g_current, k, memory_order_release);
    return k;
}
