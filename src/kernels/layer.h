/*
 * layer.h - the table of layer kernels (everything in a forward pass that is not a weight
 * product): RMSNorm, residual add, softmax, SwiGLU, RoPE, F32 -> F16 rows, and the
 * attention tile. One table per CPU level, filled once (layer_dispatch.c); the scalar table
 * holds the references of layer_ref.c and attn_ref.c, every other table agrees with it up
 * to float rounding (tests/unit/kernels/test_layer_simd.c states the limits).
 *
 * The session looks its table up once, at creation (ew_layer_kernels_get), so the token
 * loop calls through a pointer it already holds.
 */
#ifndef EW_LAYER_H
#define EW_LAYER_H

#include "core/cpu.h"
#include "kernels/kernels.h"

/*
 * The K cache is stored in blocks of EW_KV_BLOCK positions, transposed within a block, so a
 * tile reads "dim d of 32 consecutive keys" as one contiguous row (scores of many keys per
 * vector, no transpose in the token loop): element (position p, KV head h, dim d) of a cache
 * with KH heads of D dims is at
 *     ((p / EW_KV_BLOCK) * KH + h) * D * EW_KV_BLOCK + d * EW_KV_BLOCK + p % EW_KV_BLOCK.
 * The V cache is row-major: element (p, h, d) at p * KH * D + h * D + d.
 * The K cache holds whole blocks (positions rounded up to a multiple of EW_KV_BLOCK).
 */
#define EW_KV_BLOCK 32

/*
 * One attention tile: G query heads that share one KV head, for n_q consecutive queries,
 * against the keys [key0, key1) of the cache. Rows r = i * G + g (query i, head g).
 *
 *   q  row (i, g) at q + i * q_stride + g * D (RoPE already applied, not scaled)
 *   o  row (i, g) at o + i * o_stride + g * D (written, never read before being set)
 *   k  this KV head's keys in the blocked layout: (p, d) at
 *      k + (p / EW_KV_BLOCK) * k_block_stride + d * EW_KV_BLOCK + p % EW_KV_BLOCK elements
 *   v  value p of this KV head at v + p * v_stride elements (F16 or F32, as k)
 *   query i sees the keys p <= pos0 + i (causal), so the keys used are
 *   [key0, min(key1, pos0 + n_q)). Lanes of a K block outside that range are read but
 *   never used (they may hold anything); V rows outside it are not read.
 *
 * ml == NULL: o = softmax(scale * q.k) v, normalised. ml != NULL (one part of a split key
 * range): o = sum_p exp(s_p - m) v_p unnormalised, ml[2r] = m (the row's max score, -inf if
 * the row saw no key) and ml[2r+1] = sum_p exp(s_p - m); the caller merges the parts.
 * scratch: scratch_floats >= ew_attn_scratch_floats(D, n_q * G, key1 - key0).
 */
typedef struct ew_attn_tile {
    int n_q, G, D;
    float scale;
    const float *q;
    size_t q_stride;
    float *o;
    size_t o_stride;
    const void *k, *v;
    size_t k_block_stride, v_stride;
    bool kv_f16;
    int key0, key1, pos0;
    float *ml;
    float *scratch;
    size_t scratch_floats;
} ew_attn_tile;

typedef void (*ew_attn_fn)(const ew_attn_tile *t);

/* Floats of scratch an attention tile of `rows` rows over n_keys keys needs, at any level. */
size_t ew_attn_scratch_floats(int D, int rows, int n_keys);

typedef struct ew_layer_kernels {
    ew_cpu_level level;
    /* out = x / sqrt(mean(x^2) + eps) * w over n floats; out may alias x. */
    void (*rmsnorm)(float *out, const float *x, const float *w, int n, float eps);
    /* x += y over n floats. */
    void (*add)(float *x, const float *y, int n);
    /* In-place softmax over n >= 1 values. */
    void (*softmax)(float *x, int n);
    /* out = silu(gate) * up over n floats; out may alias gate or up. */
    void (*swiglu)(float *out, const float *gate, const float *up, int n);
    /* RoPE on n_heads head vectors of D floats, D apart: the first n_rot dims rotated by
     * the angles of one position, cs = cos[n_rot/2] then sin[n_rot/2] (ew_rope_table). */
    void (*rope)(float *x, int n_heads, int D, int n_rot, const float *cs, bool neox);
    /* dst = nearest binary16 of src (ties to even), n values. */
    void (*to_f16)(uint16_t *dst, const float *src, int n);
    /* The attention tile (see ew_attn_tile). */
    ew_attn_fn attn;
} ew_layer_kernels;

/* The table of the level in force at the first call (ew_cpu_level_get, env EW_CPU), cached
 * for the life of the process. Never NULL; thread-safe. */
const ew_layer_kernels *ew_layer_kernels_get(void);
/* The table of level l, or NULL when this machine cannot run l. */
const ew_layer_kernels *ew_layer_kernels_for_level(ew_cpu_level l);

/* cs[i] = cos(pos * inv_freq[i]), cs[n_rot/2 + i] = sin(...), i < n_rot/2: the angles
 * ew_rope uses, computed once per position for every head and layer. */
void ew_rope_table(float *cs, int pos, int n_rot, const float *inv_freq);

/* ---- scalar references (layer_ref.c, attn_ref.c) ----------------------------------------- */
void ew_add_ref(float *x, const float *y, int n);
void ew_rope_cs_ref(float *x, int n_heads, int D, int n_rot, const float *cs, bool neox);
void ew_to_f16_ref(uint16_t *dst, const float *src, int n);
void ew_attn_ref(const ew_attn_tile *t);

/* ---- SIMD twins: reach them through the table only (an ISA the CPU lacks would fault) ---- */
void ew_rmsnorm_avx2(float *out, const float *x, const float *w, int n, float eps);
void ew_add_avx2(float *x, const float *y, int n);
void ew_softmax_avx2(float *x, int n);
void ew_swiglu_avx2(float *out, const float *gate, const float *up, int n);
void ew_rope_avx2(float *x, int n_heads, int D, int n_rot, const float *cs, bool neox);
void ew_to_f16_avx2(uint16_t *dst, const float *src, int n);
void ew_attn_avx2(const ew_attn_tile *t);

void ew_rmsnorm_avx512(float *out, const float *x, const float *w, int n, float eps);
void ew_add_avx512(float *x, const float *y, int n);
void ew_softmax_avx512(float *x, int n);
void ew_swiglu_avx512(float *out, const float *gate, const float *up, int n);
void ew_rope_avx512(float *x, int n_heads, int D, int n_rot, const float *cs, bool neox);
void ew_to_f16_avx512(uint16_t *dst, const float *src, int n);
void ew_attn_avx512(const ew_attn_tile *t);

#endif
