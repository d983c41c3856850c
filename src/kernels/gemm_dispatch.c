/*
 * gemm_dispatch.c - the tile (gemm) entries of the kernel table, per level (gemm.h). With
 * no entry the matmul loops over vec_dot: the scalar level (it is the reference), NEON
 * (no tile kernels yet), types without a packer, and AVX-512 machines without VNNI, which
 * get the AVX2 tiles. Compiled without ISA flags: it only stores pointers.
 */
#include "kernels/gemm.h"

#define N_LEVELS 4

static ew_gemm_ops g_ops[N_LEVELS][EW_TYPE_COUNT];

/* Tile kernel of level l for layout L and weight type t, with the register tile shape;
 * false when l has none. */
static bool pick_tile(ew_cpu_level l, uint32_t t, ew_gemm_layout *L, ew_gemm_ops *o) {
#if defined(__x86_64__)
    const ew_cpu_features *f = ew_cpu_features_get();
    if (l == EW_CPU_AVX512 && (f->avx512vnni || L->is_float)) {
        if (L->is_float) {
            o->tile = ew_gemm_tile_f32_avx512;
            if (t == EW_TYPE_F16) o->quant_prep = ew_gemm_quant_prep_f16_avx512;
        } else {
            o->tile = L->sub == 16 ? ew_gemm_tile_s16_avx512 : L->has_min ? ew_gemm_tile_s32m_avx512 : ew_gemm_tile_s32_avx512;
            if (L->sub == 32 && !L->has_min) o->quant_prep = ew_gemm_quant_prep_q8_0_avx512; /* Q8_0 acts */
        }
        o->rows = 32;
        o->tok = 4;
        return true;
    }
    if (l == EW_CPU_AVX2 || l == EW_CPU_AVX512) {
        if (L->is_float) {
            o->tile = ew_gemm_tile_f32_avx2;
        } else if (t == EW_TYPE_Q8_0) {
            L->off = 0; /* the signed kernel multiplies w itself, not w + 128 */
            o->tile = ew_gemm_tile_s32s_avx2;
        } else {
            o->tile = L->sub == 16 ? ew_gemm_tile_s16_avx2 : L->has_min ? ew_gemm_tile_s32m_avx2 : ew_gemm_tile_s32_avx2;
        }
        o->rows = 16;
        o->tok = L->is_float ? 4 : 2;
        return true;
    }
#else
    (void)t;
    (void)L;
    (void)o;
#endif
    (void)l;
    return false;
}

/* Set the gemm entry of every type with a tile path at level l (called once per table). */
void ew_dispatch_fill_gemm(ew_kernels *k, ew_cpu_level l) {
    if ((unsigned)l >= N_LEVELS) return;
    for (uint32_t t = 0; t < EW_TYPE_COUNT; t++) {
        ew_gemm_ops o = {0};
        if (!ew_gemm_type_layout(t, &o.layout, &o.pack, &o.prep) || !pick_tile(l, t, &o.layout, &o)) continue;
        o.min_tok = 8;
        g_ops[l][t] = o;
        k->type[t].gemm = &g_ops[l][t];
    }
}

/* The ops of type t at level l (NULL when none, or l cannot run here). */
const ew_gemm_ops *ew_gemm_ops_for(ew_cpu_level l, uint32_t t) {
    const ew_kernels *k = ew_kernels_for_level(l);
    return k && t < EW_TYPE_COUNT ? k->type[t].gemm : NULL;
}
