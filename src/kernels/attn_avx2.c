/*
 * attn_avx2.c - the attention tile (layer.h) with AVX2 + FMA + F16C: the algorithm of
 * attn_avx512.c on 8-float vectors, over half cache blocks of BK = 16 keys: score
 * micro-tiles of 4 rows x 16 keys, p.V micro-tiles of up to 4 rows x 16 dims (16 ymm
 * registers in all). Needs D % 8 == 0; other head sizes run the reference.
 */
#include "kernels/layer.h"
#include "kernels/vmath_x86.h"
#include <math.h>
#include <string.h>

enum {
    BK = EW_KV_BLOCK / 2, /* keys per block (16): two vectors of scores per row */
    QK_ROWS = 4,          /* rows per score micro-tile (8 accumulators) */
    PV_ROWS = 4,          /* rows per p.V micro-tile */
    PV_VECS = 2           /* 8-float vectors of o per row in a p.V micro-tile (16 dims) */
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

/* 8 floats at element i of an F16 (F16 true) or F32 array. */
EW_INLINE __m256 load8(const void *base, size_t i, const bool F16) {
    return F16 ? ew_load8_f16((const uint16_t *)base + i) : _mm256_loadu_ps((const float *)base + i);
}

/* Scaled scores of rows [r0, r0 + NR) against the block at jb: p[r][j] = scale * q_r . k_j.
 * Under 3 rows, even and odd dims go to separate accumulators (enough FMA chains in flight). */
EW_INLINE void qk_rows(const ew_attn_tile *t, const tile_ws *w, int jb, int r0, const int NR, const bool F16) {
    enum { SETS = 2 };
    const int sets = NR < 3 ? 2 : 1;
    __m256 acc[SETS][QK_ROWS][2];
    const float *q[QK_ROWS];
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++) {
        q[i] = q_row(t, r0 + i);
#pragma GCC unroll 2
        for (int s = 0; s < sets; s++) acc[s][i][0] = acc[s][i][1] = _mm256_setzero_ps();
    }
    const size_t kb = (size_t)(jb / EW_KV_BLOCK) * t->k_block_stride + (size_t)(jb % EW_KV_BLOCK);
    for (int d = 0; d < t->D; d += sets) {
#pragma GCC unroll 2
        for (int s = 0; s < sets; s++) {
            const __m256 k0 = load8(t->k, kb + (size_t)(d + s) * EW_KV_BLOCK, F16);
            const __m256 k1 = load8(t->k, kb + (size_t)(d + s) * EW_KV_BLOCK + 8, F16);
#pragma GCC unroll 4
            for (int i = 0; i < NR; i++) {
                const __m256 qd = _mm256_broadcast_ss(q[i] + d + s);
                acc[s][i][0] = _mm256_fmadd_ps(qd, k0, acc[s][i][0]);
                acc[s][i][1] = _mm256_fmadd_ps(qd, k1, acc[s][i][1]);
            }
        }
    }
    const __m256 sc = _mm256_set1_ps(t->scale);
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++) {
        if (sets == 2) {
            acc[0][i][0] = _mm256_add_ps(acc[0][i][0], acc[1][i][0]);
            acc[0][i][1] = _mm256_add_ps(acc[0][i][1], acc[1][i][1]);
        }
        _mm256_store_ps(w->p + (size_t)(r0 + i) * BK, _mm256_mul_ps(acc[0][i][0], sc));
        _mm256_store_ps(w->p + (size_t)(r0 + i) * BK + 8, _mm256_mul_ps(acc[0][i][1], sc));
    }
}

/* Scores of all R rows against the block at jb: micro-tiles of 4 rows, then the 1-3 left. */
EW_INLINE void qk_block_as(const ew_attn_tile *t, const tile_ws *w, int jb, int R, const bool F16) {
    int r = 0;
    for (; r + 4 <= R; r += 4) qk_rows(t, w, jb, r, 4, F16);
    switch (R - r) {
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

/* Largest of the 8 lanes. */
static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* Sum of the 8 lanes. */
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lanes of the block at jb that query i sees, [lo, hi) cut by its causal bound: *k0, *k1 =
 * all-ones lanes of the two vectors of the block. */
static inline void query_lanes(const ew_attn_tile *t, int i, int jb, int lo, int hi, __m256 *k0, __m256 *k1) {
    const int end = EW_MIN(hi, t->pos0 + i + 1 - jb);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), eight = _mm256_set1_epi32(8);
    const __m256i l = _mm256_set1_epi32(lo - 1), e = _mm256_set1_epi32(end);
    const __m256i idx1 = _mm256_add_epi32(idx, eight);
    *k0 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_cmpgt_epi32(idx, l), _mm256_cmpgt_epi32(e, idx)));
    *k1 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_cmpgt_epi32(idx1, l), _mm256_cmpgt_epi32(e, idx1)));
}

/* Online softmax step over the block at jb, lanes [lo, hi), for all R rows (as
 * attn_avx512.c: block maxima per row, new maxima and corrections 8 rows at a time, then
 * exp and the corrected sums per row). */
static void softmax_block(const ew_attn_tile *t, const tile_ws *w, int R, int jb, int lo, int hi) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 k0, k1;
    for (int i = 0, r = 0; i < t->n_q; i++) {
        query_lanes(t, i, jb, lo, hi, &k0, &k1);
        for (int g = 0; g < t->G; g++, r++) {
            const float *p = w->p + (size_t)r * BK;
            const __m256 s0 = _mm256_blendv_ps(ninf, _mm256_load_ps(p), k0);
            const __m256 s1 = _mm256_blendv_ps(ninf, _mm256_load_ps(p + 8), k1);
            w->corr[r] = hmax8(_mm256_max_ps(s0, s1));
        }
    }
    int r = 0;
    for (; r + 8 <= R; r += 8) {
        const __m256 m = _mm256_loadu_ps(w->m + r);
        const __m256 mn = _mm256_max_ps(m, _mm256_loadu_ps(w->corr + r));
        const __m256 seen = _mm256_cmp_ps(mn, ninf, _CMP_NEQ_OQ);
        _mm256_storeu_ps(w->corr + r, _mm256_blendv_ps(_mm256_set1_ps(1.0f), ew_exp_avx2(_mm256_sub_ps(m, mn)), seen));
        _mm256_storeu_ps(w->m + r, mn);
    }
    for (; r < R; r++) {
        const float mn = fmaxf(w->m[r], w->corr[r]);
        w->corr[r] = mn == -INFINITY ? 1.0f : expf(w->m[r] - mn);
        w->m[r] = mn;
    }
    for (int i = 0, rr = 0; i < t->n_q; i++) {
        query_lanes(t, i, jb, lo, hi, &k0, &k1);
        for (int g = 0; g < t->G; g++, rr++) {
            float *p = w->p + (size_t)rr * BK;
            const __m256 mv = _mm256_set1_ps(w->m[rr]);
            const __m256 e0 = _mm256_and_ps(k0, ew_exp_avx2(_mm256_sub_ps(_mm256_load_ps(p), mv)));
            const __m256 e1 = _mm256_and_ps(k1, ew_exp_avx2(_mm256_sub_ps(_mm256_load_ps(p + 8), mv)));
            w->l[rr] = w->l[rr] * w->corr[rr] + hsum8(_mm256_add_ps(e0, e1));
            _mm256_store_ps(p, e0);
            _mm256_store_ps(p + 8, e1);
        }
    }
}

/* o[r][d0 .. d0 + 8 NV) = o * corr + sum_{j in [lo, hi)} p[r][j] V_j for rows [r0, r0 + NR);
 * o is taken as 0 on the tile's first block. */
EW_INLINE void pv_rows(const ew_attn_tile *t, const tile_ws *w, v_src vs, const bool F16, int r0, const int NR,
                       int d0, const int NV, int lo, int hi, bool first) {
    __m256 acc[PV_ROWS][PV_VECS];
    float *o[PV_ROWS];
    const float *p[PV_ROWS];
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++) {
        o[i] = o_row(t, r0 + i) + d0;
        p[i] = w->p + (size_t)(r0 + i) * BK;
        const __m256 c = _mm256_set1_ps(w->corr[r0 + i]);
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[i][v] = first ? _mm256_setzero_ps() : _mm256_mul_ps(_mm256_loadu_ps(o[i] + 8 * v), c);
    }
    for (int j = lo; j < hi; j++) {
        const size_t row = (size_t)j * vs.stride + (size_t)d0;
        __m256 vv[PV_VECS];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) vv[v] = load8(vs.base, row + 8 * (size_t)v, F16);
#pragma GCC unroll 4
        for (int i = 0; i < NR; i++) {
            const __m256 pj = _mm256_broadcast_ss(p[i] + j);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(pj, vv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NR; i++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) _mm256_storeu_ps(o[i] + 8 * v, acc[i][v]);
}

/* p.V for rows [r0, r0 + NR) over all of D: 16 dims at a time, then 8. */
EW_INLINE void pv_row_group(const ew_attn_tile *t, const tile_ws *w, v_src vs, const bool F16, int r0,
                            const int NR, int lo, int hi, bool first) {
    int d0 = 0;
    for (; d0 + 16 <= t->D; d0 += 16) pv_rows(t, w, vs, F16, r0, NR, d0, 2, lo, hi, first);
    for (; d0 < t->D; d0 += 8) pv_rows(t, w, vs, F16, r0, NR, d0, 1, lo, hi, first);
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

/* p.V of the block at jb, keys [lo, hi) of it (as attn_avx512.c). */
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
            for (int d = 0; d < t->D; d += 8)
                _mm256_store_ps(w->vb + (size_t)j * t->D + d, load8(t->v, off + (size_t)j * t->v_stride + d, true));
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
        const __m256 s = _mm256_set1_ps(l > 0 ? 1.0f / l : 0.0f);
        for (int d = 0; d < t->D; d += 8) {
            const __m256 x = l > 0 ? _mm256_loadu_ps(o + d) : _mm256_setzero_ps();
            _mm256_storeu_ps(o + d, _mm256_mul_ps(x, s));
        }
    }
}

/* The attention tile (layer.h) with AVX2. */
void ew_attn_avx2(const ew_attn_tile *t) {
    if (t->D % 8) {
        ew_attn_ref(t);
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
