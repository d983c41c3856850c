/*
 * gemm_dispatch.c - the tile (gemm) entries of the kernel table, per level. With no entry
 * the matmul loops over vec_dot.
 */
#include "kernels/dispatch.h"

void ew_dispatch_fill_gemm(ew_kernels *k, ew_cpu_level l) { (void)k; (void)l; }
