/*
 * attn_ref.c - scalar reference of the attention tile (layer.h, ew_attn_tile): one row at a
 * time, scores of every visible key, an exact softmax (double sum), then the weighted sum of
 * the values. The SIMD tiles (attn_avx2.c, attn_avx512.c) compute the same with an online
 * softmax over blocks of keys.
 */
#include "kernels/layer.h"
#include "quant/quant.h"
#include <math.h>
#include <string.h>

/* Scratch of a tile: the reference's n_keys scores, and the SIMD tiles' running max, sum
 * and correction per row, scores of one key block per row and a V block converted to
 * float, each 64-byte aligned (hence the slack). */
size_t ew_attn_scratch_floats(int D, int rows, int n_keys) {
    const size_t simd = (size_t)rows * (3 + EW_KV_BLOCK) + (size_t)EW_KV_BLOCK * (size_t)D + 4 * 16;
    return (size_t)(n_keys > 0 ? n_keys : 0) + simd;
}

/* Element i of an F16 or F32 cache as float. */
static float cache_at(const ew_attn_tile *t, const void *base, size_t i) {
    return t->kv_f16 ? ew_fp16_to_fp32(((const uint16_t *)base)[i]) : ((const float *)base)[i];
}

/* Dim d of key p (blocked layout, layer.h). */
static float k_at(const ew_attn_tile *t, int p, int d) {
    const size_t i = (size_t)(p / EW_KV_BLOCK) * t->k_block_stride + (size_t)d * EW_KV_BLOCK + (size_t)(p % EW_KV_BLOCK);
    return cache_at(t, t->k, i);
}

/* Dim d of value p. */
static float v_at(const ew_attn_tile *t, int p, int d) {
    return cache_at(t, t->v, (size_t)p * t->v_stride + (size_t)d);
}

/* Scaled scores of q against keys [key0, kend) into sc (float sums, as llama2.c). */
static void row_scores(const ew_attn_tile *t, const float *q, int kend, float *sc) {
    for (int p = t->key0; p < kend; p++) {
        float sum = 0;
        for (int d = 0; d < t->D; d++) sum += q[d] * k_at(t, p, d);
        sc[p - t->key0] = sum * t->scale;
    }
}

/* exp(sc - max) in place; returns the max and stores the double sum in *sum. */
static float row_exp(float *sc, int n, double *sum) {
    float m = sc[0];
    for (int j = 1; j < n; j++) if (sc[j] > m) m = sc[j];
    double s = 0;
    for (int j = 0; j < n; j++) { sc[j] = expf(sc[j] - m); s += sc[j]; }
    *sum = s;
    return m;
}

/* One row: o = softmax(scores) v (ml NULL) or the unnormalised part with its max and sum. */
static void attn_row(const ew_attn_tile *t, int r, float *sc) {
    const int i = r / t->G, g = r % t->G;
    const float *q = t->q + (size_t)i * t->q_stride + (size_t)g * t->D;
    float *o = t->o + (size_t)i * t->o_stride + (size_t)g * t->D;
    const int kend = EW_MIN(t->key1, t->pos0 + i + 1), n = kend - t->key0;
    memset(o, 0, (size_t)t->D * sizeof(float));
    if (n <= 0) {
        if (t->ml) { t->ml[2 * r] = -INFINITY; t->ml[2 * r + 1] = 0; }
        return;
    }
    row_scores(t, q, kend, sc);
    if (t->ml) {
        double sum;
        t->ml[2 * r] = row_exp(sc, n, &sum);
        t->ml[2 * r + 1] = (float)sum;
    } else {
        ew_softmax(sc, n);
    }
    for (int j = 0; j < n; j++)
        for (int d = 0; d < t->D; d++) o[d] += sc[j] * v_at(t, t->key0 + j, d);
}

/* The tile, row by row. */
void ew_attn_ref(const ew_attn_tile *t) {
    for (int r = 0; r < t->n_q * t->G; r++) attn_row(t, r, t->scratch);
}
