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

typedef struct ew_type_kernels {
    uint32_t act_type;       /* ew_type_get(t)->vec_dot_type */
    ew_quantize_fn quantize; /* float row -> act_type row; NULL when t is not supported */
    ew_vec_dot_fn vec_dot;   /* weight row of t . act_type row; NULL when t is not supported */
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

#endif
