/*
 * dispatch.h - the kernel table: for every tensor type, the function that converts a float
 * activation row to the type's vec_dot_type and the dot of a weight row with such a row,
 * for one CPU level (core/cpu.h). Each level's table is filled once; an entry the level has
 * no SIMD version of holds the scalar reference (quant_ref.h), so the scalar table is the
 * reference and every other table agrees with it as quant_simd.h states.
 *
 * Callers look the functions up once per operation (not per row):
 *     const ew_kernels *k = ew_kernels_get();
 *     k->type[t].quantize(x, act, K);  ... k->type[t].vec_dot(K, w_row, act) ...
 */
#ifndef EW_DISPATCH_H
#define EW_DISPATCH_H

#include "core/cpu.h"
#include "quant/quant_ref.h"

/* The tiled prefill path of one type at one level (kernels/gemm.h): panel packer,
 * activation preparer, tile kernel and tile shape. */
struct ew_gemm_ops;

typedef struct ew_type_kernels {
    uint32_t act_type;       /* ew_type_get(t)->vec_dot_type */
    ew_quantize_fn quantize; /* float row -> act_type row; NULL when t is not supported */
    ew_vec_dot_fn vec_dot;   /* weight row of t . act_type row; NULL when t is not supported */
    const struct ew_gemm_ops *gemm; /* tile path, NULL: the matmul loops over vec_dot */
} ew_type_kernels;

typedef struct ew_kernels {
    ew_cpu_level level;
    ew_type_kernels type[EW_TYPE_COUNT];
} ew_kernels;

/* The table of the level in force: ew_cpu_level_get() at the first call (env EW_CPU can
 * lower it), then cached for the life of the process. Never NULL; thread-safe. */
const ew_kernels *ew_kernels_get(void);

/* The table of level l, or NULL when this machine cannot run l (ew_cpu_level_supported) —
 * for tests and benchmarks that compare levels. Thread-safe; the tables live forever. */
const ew_kernels *ew_kernels_for_level(ew_cpu_level l);

/* Set type t's activation quantizer and dot in table k. */
void ew_dispatch_set(ew_kernels *k, uint32_t t, ew_quantize_fn q, ew_vec_dot_fn d);

/* Per-ISA fillers (dispatch_x86.c, dispatch_arm.c, gemm_dispatch.c), called once from
 * dispatch.c on a table that already holds the scalar references. They only assign
 * pointers: these files are compiled without ISA flags, so filling a table of a level the
 * machine lacks is safe. */
void ew_dispatch_fill_avx2(ew_kernels *k);
void ew_dispatch_fill_avx512(ew_kernels *k);
void ew_dispatch_fill_neon(ew_kernels *k);
/* Tile (gemm) kernels of level l, added after the per-ISA fillers. */
void ew_dispatch_fill_gemm(ew_kernels *k, ew_cpu_level l);

#endif
