/*
 * attn_avx512.c - the attention tile (layer.h) with AVX-512: flash-attention style, one cache
 * block of BK = 32 keys at a time for all rows of the tile:
 *   1. scores of 8 rows x 32 keys at a time straight from the blocked K cache: per dim d,
 *      two vectors of 16 keys (F16 converted on load), 16 FMAs with q broadcast;
 *   2. online softmax: lanes a row may not see masked, new maxima and corrections for 16
 *      rows at a time, exp of the scores, the running sums corrected;
 *   3. o = o * correction + p . V with up to 4 rows x 64 dims of o in registers; V rows are
 *      read from the cache (decode: each row converted once) or, when the tile has more
 *      than 4 rows and an F16 cache, converted to float once per block first.
 * Needs D % 16 == 0; other head sizes go to the AVX2 tile (D % 8 == 0, else the reference).
 */
#include "kernels/layer.h"
#include "kernels/vmath_x86.h"
#include <math.h>
#include <string.h>

enum {
    BK = EW_KV_BLOCK, /* keys per block (32): two vectors of scores per row */
    QK_ROWS = 8,      /* rows per score micro-tile (16 accumulators) */
    PV_ROWS = 4,      /* rows per p.V micro-tile */
    PV_VECS = 4       /* 16-float vectors of o per row in a p.V micro-tile (64 dims) */
};

#define EW_INLINE static inline __attribute__((always_inline))

/* The tile's working set, carved from its scratch. */
typedef struct tile_ws {
    float *vb;                  /* [BK][D] V block as float (F16 caches, tiles of > 4 rows) */
    float *p;                   /* [R][BK] scores, then probabilities */
    float *m, *l, *corr;        /* [R] running max, running sum, this block's correction */
} tile_ws;

/* Where p.V reads the block's value rows: row j (of the block) at base + j * stride. */
typedef struct v_src { const void *base; size_t stride; } v_src;

/* p rounded up to 64 bytes. */
static float *align64(float *p) {
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* Carve the working set of a tile of R rows out of t->scratch (ew_attn_scratch_floats). */
static tile_ws carve(const ew_attn_tile *t, int R) {
    tile_ws w;
    float *s = align64(t->scratch);
    w.vb = s;
    w.p = s = align64(s + (size_t)BK * t->D);
    w.m = s = align64(s + (size_t)R * BK);
    w.l = w.m + R;
    w.corr = w.l + R;
    return w;
}

/* Query row r (query r / G, head r % G). */
EW_INLINE const float *q_row(const ew_attn_tile *t, int r) {
    return t->q + (size_t)(r / t->G) * t->q_stride + (size_t)(r % t->G) * t->D;
}

/* Output row r. */
EW_INLINE float *o_row(const ew_attn_tile *t, int r) {
    return t->o + (size_t)(r / t->G) * t->o_stride + (size_t)(r % t->G) * t->D;
}

/* 16 floats at element i of an F16 (F16 true) or F32 array. */
EW_INLINE __m512 load16(const void *base, size_t i, const bool F16) {
    return F16 ? ew_load16_f16((const uint16_t *)base + i) : _mm512_loadu_ps((const float *)base + i);
}

/* Scaled scores of rows [r0, r0 + NR) against the block at jb: p[r][j] = scale * q_r . k_j.
 * Under 4 rows, even and odd dims go to separate accumulators (enough FMA chains in flight). */
EW_INLINE void qk_rows(const ew_attn_tile *t, const tile_ws *w, int jb, int r0, const int NR, const bool F16) {
    enum { SETS = 2 };
    const int sets = NR < 4 ? 2 : 1;
    __m512 acc[SETS][QK_ROWS][2];
    const float *q[QK_ROWS];
#pragma GCC unroll 8
    for (int i = 0; i < NR; i++) {
        q[i] = q_row(t, r0 + i);
#pragma GCC unroll 2
        for (int s = 0; s < sets; s++) acc[s][i][0] = acc[s][i][1] = _mm512_setzero_ps();
    }
    const size_t kb = (size_t)(jb / BK) * t->k_block_stride;
    for (int d = 0; d < t->D; d += sets) {
#pragma GCC unroll 2
        for (int s = 0; s < sets; s++) {
            const __m512 k0 = load16(t->k, kb + (size_t)(d + s) * BK, F16);
            const __m512 k1 = load16(t->k, kb + (size_t)(d + s) * BK + 16, F16);
#pragma GCC unroll 8
            for (int i = 0; i < NR; i++) {
                const __m512 qd = _mm512_set1_ps(q[i][d + s]);
                acc[s][i][0] = _mm512_fmadd_ps(qd, k0, acc[s][i][0]);
                acc[s][i][1] = _mm512_fmadd_ps(qd, k1, acc[s][i][1]);
            }
        }
    }
    const __m512 sc = _mm512_set1_ps(t->scale);
#pragma GCC unroll 8
    for (int i = 0; i < NR; i++) {
        if (sets == 2) {
            acc[0][i][0] = _mm512_add_ps(acc[0][i][0], acc[1][i][0]);
            acc[0][i][1] = _mm512_add_ps(acc[0][i][1], acc[1][i][1]);
        }
        _mm512_store_ps(w->p + (size_t)(r0 + i) * BK, _mm512_mul_ps(acc[0][i][0], sc));
        _mm512_store_ps(w->p + (size_t)(r0 + i) * BK + 16, _mm512_mul_ps(acc[0][i][1], sc));
    }
}

/* Scores of all R rows against the block at jb: micro-tiles of 8 rows, then the 1-7 left. */
EW_INLINE void qk_block_as(const ew_attn_tile *t, const tile_ws *w, int jb, int R, const bool F16) {
    int r = 0;
    for (; r + 8 <= R; r += 8) qk_rows(t, w, jb, r, 8, F16);
    switch (R - r) {
    case 7: qk_rows(t, w, jb, r, 7, F16); break;
    case 6: qk_rows(t, w, jb, r, 6, F16); break;
    case 5: qk_rows(t, w, jb, r, 5, F16); break;
    case 4: qk_rows(t, w, jb, r, 4, F16); break;
    case 3: qk_rows(t, w, jb, r, 3, F16); break;
    case 2: qk_rows(t, w, jb, r, 2, F16); break;
    case 1: qk_rows(t, w, jb, r, 1, F16); break;
    default: break;
    }
}

/* Scores of all rows against the block at jb. */
static void qk_block(const ew_attn_tile *t, const tile_ws *w, int jb, int R) {
    if (t->kv_f16) qk_block_as(t, w, jb, R, true);
    else qk_block_as(t, w, jb, R, false);
}

/* Lanes of the block at jb that query i sees: [lo, hi) cut by its causal bound, as a
 * 32-bit mask (0: none). */
static inline uint32_t query_lanes(const ew_attn_tile *t, int i, int jb, int lo, int hi) {
    const int end = EW_MIN(hi, t->pos0 + i + 1 - jb);
    if (end <= lo) return 0;
    return (end >= 32 ? 0xFFFFFFFFu : (1u << end) - 1) & ~((1u << lo) - 1);
}

/* Online softmax step over the block at jb, lanes [lo, hi), for all R rows:
 *   1. each row's max over the lanes it sees (-inf if none) into corr[];
 *   2. 16 rows at a time: new max m' = max(m, block max), corr = exp(m - m') (1 while a
 *      row has seen nothing), m = m';
 *   3. each row: p = exp(s - m) on its lanes, 0 elsewhere; l = l * corr + sum p.
 * corr then rescales each row's o in p.V. */
static void softmax_block(const ew_attn_tile *t, const tile_ws *w, int R, int jb, int lo, int hi) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int i = 0, r = 0; i < t->n_q; i++) {
        const uint32_t bits = query_lanes(t, i, jb, lo, hi);
        for (int g = 0; g < t->G; g++, r++) {
            const float *p = w->p + (size_t)r * BK;
            const __m512 s0 = _mm512_mask_load_ps(ninf, (__mmask16)bits, p);
            const __m512 s1 = _mm512_mask_load_ps(ninf, (__mmask16)(bits >> 16), p + 16);
            w->corr[r] = _mm512_reduce_max_ps(_mm512_max_ps(s0, s1));
        }
    }
    for (int r = 0; r < R; r += 16) {
        const __mmask16 k = (__mmask16)(R - r >= 16 ? 0xFFFF : (1u << (R - r)) - 1);
        const __m512 m = _mm512_maskz_loadu_ps(k, w->m + r);
        const __m512 mn = _mm512_max_ps(m, _mm512_maskz_loadu_ps(k, w->corr + r));
        const __mmask16 seen = _mm512_cmp_ps_mask(mn, ninf, _CMP_NEQ_OQ);
        const __m512 c = _mm512_mask_mov_ps(_mm512_set1_ps(1.0f), seen, ew_exp_avx512(_mm512_sub_ps(m, mn)));
        _mm512_mask_storeu_ps(w->corr + r, k, c);
        _mm512_mask_storeu_ps(w->m + r, k, mn);
    }
    for (int i = 0, r = 0; i < t->n_q; i++) {
        const uint32_t bits = query_lanes(t, i, jb, lo, hi);
        for (int g = 0; g < t->G; g++, r++) {
            float *p = w->p + (size_t)r * BK;
            const __m512 mv = _mm512_set1_ps(w->m[r]);
            const __m512 e0 = _mm512_maskz_mov_ps((__mmask16)bits, ew_exp_avx512(_mm512_sub_ps(_mm512_load_ps(p), mv)));
            const __m512 e1 =
                _mm512_maskz_mov_ps((__mmask16)(bits >> 16), ew_exp_avx512(_mm512_sub_ps(_mm512_load_ps(p + 16), mv)));
            w->l[r] = w->l[r] * w->corr[r] + _mm512_reduce_add_ps(_mm512_add_ps(e0, e1));
            _mm512_store_ps(p, e0);
            _mm512_store_ps(p + 16, e1);
        }
    }
}

/* o[r][d0 .. d0 + 16 NV) = o * corr + sum_{j in [lo, hi)} p[r][j] V_j for rows [r0, r0 + NR);
 * o is taken as 0 on the tile's first block. */
EW_INLINE void pv_rows(const ew_attn_tile *t, const tile_ws *w, v_src vs, const bool F16, int r0, const int NR,
                       int d0, const int NV, int lo, int hi, bool first) {
    __m512 acc[PV_ROWS][PV_VECS];
    float *o[PV_ROWS];
    const float *p[PV_ROWS];
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++) {
        o[i] = o_row(t, r0 + i) + d0;
        p[i] = w->p + (size_t)(r0 + i) * BK;
        const __m512 c = _mm512_set1_ps(w->corr[r0 + i]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[i][v] = first ? _mm512_setzero_ps() : _mm512_mul_ps(_mm512_loadu_ps(o[i] + 16 * v), c);
    }
    for (int j = lo; j < hi; j++) {
        const size_t row = (size_t)j * vs.stride + (size_t)d0;
        __m512 vv[PV_VECS];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) vv[v] = load16(vs.base, row + 16 * (size_t)v, F16);
#pragma GCC unroll 4
        for (int i = 0; i < NR; i++) {
            const __m512 pj = _mm512_set1_ps(p[i][j]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(pj, vv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(o[i] + 16 * v, acc[i][v]);
}

/* p.V for rows [r0, r0 + NR) over all of D: 64 dims at a time, then 16. */
EW_INLINE void pv_row_group(const ew_attn_tile *t, const tile_ws *w, v_src vs, const bool F16, int r0,
                            const int NR, int lo, int hi, bool first) {
    int d0 = 0;
    for (; d0 + 64 <= t->D; d0 += 64) pv_rows(t, w, vs, F16, r0, NR, d0, 4, lo, hi, first);
    for (; d0 < t->D; d0 += 16) pv_rows(t, w, vs, F16, r0, NR, d0, 1, lo, hi, first);
}

/* p.V for all R rows, in groups of 4 and one group of the 1-3 left. */
EW_INLINE void pv_block_as(const ew_attn_tile *t, const tile_ws *w, v_src vs, const bool F16, int R, int lo,
                           int hi, bool first) {
    int r = 0;
    for (; r + 4 <= R; r += 4) pv_row_group(t, w, vs, F16, r, 4, lo, hi, first);
    switch (R - r) {
    case 3: pv_row_group(t, w, vs, F16, r, 3, lo, hi, first); break;
    case 2: pv_row_group(t, w, vs, F16, r, 2, lo, hi, first); break;
    case 1: pv_row_group(t, w, vs, F16, r, 1, lo, hi, first); break;
    default: break;
    }
}

/* p.V of the block at jb, keys [lo, hi) of it. An F16 block used by more than 4 rows is
 * converted to float once (vb); otherwise rows are read from the cache as they are. */
static void pv_block(const ew_attn_tile *t, const tile_ws *w, int jb, int R, int lo, int hi, bool first) {
    const size_t off = (size_t)jb * t->v_stride;
    if (!t->kv_f16) {
        const v_src vs = {(const float *)t->v + off, t->v_stride};
        pv_block_as(t, w, vs, false, R, lo, hi, first);
    } else if (R <= 4) {
        const v_src vs = {(const uint16_t *)t->v + off, t->v_stride};
        pv_block_as(t, w, vs, true, R, lo, hi, first);
    } else {
        for (int j = lo; j < hi; j++)
            for (int d = 0; d < t->D; d += 16)
                _mm512_store_ps(w->vb + (size_t)j * t->D + d, load16(t->v, off + (size_t)j * t->v_stride + d, true));
        const v_src vs = {w->vb, (size_t)t->D};
        pv_block_as(t, w, vs, false, R, lo, hi, first);
    }
}

/* Normalise o (ml NULL) or hand out each row's max and sum; rows that saw no key get o = 0. */
static void finish(const ew_attn_tile *t, const tile_ws *w, int R) {
    for (int r = 0; r < R; r++) {
        float *o = o_row(t, r);
        const float l = w->l[r];
        if (t->ml) {
            t->ml[2 * r] = l > 0 ? w->m[r] : -INFINITY;
            t->ml[2 * r + 1] = l;
        }
        if (l > 0 && t->ml) continue;
        const __m512 s = _mm512_set1_ps(l > 0 ? 1.0f / l : 0.0f);
        for (int d = 0; d < t->D; d += 16) {
            const __m512 x = l > 0 ? _mm512_loadu_ps(o + d) : _mm512_setzero_ps();
            _mm512_storeu_ps(o + d, _mm512_mul_ps(x, s));
        }
    }
}

/* The attention tile (layer.h) with AVX-512. */
void ew_attn_avx512(const ew_attn_tile *t) {
    if (t->D % 16) {
        ew_attn_avx2(t);
        return;
    }
    const int R = t->n_q * t->G;
    const tile_ws w = carve(t, R);
    for (int r = 0; r < R; r++) {
        w.m[r] = -INFINITY;
        w.l[r] = 0;
    }
    const int kend = EW_MIN(t->key1, t->pos0 + t->n_q);
    for (int jb = t->key0 / BK * BK; jb < kend; jb += BK) {
        const int lo = EW_MAX(t->key0 - jb, 0), hi = EW_MIN(kend - jb, BK);
        qk_block(t, &w, jb, R);
        softmax_block(t, &w, R, jb, lo, hi);
        pv_block(t, &w, jb, R, lo, hi, jb <= t->key0);
    }
    finish(t, &w, R);
}
