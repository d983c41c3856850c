/*
 * attention.c - causal grouped-query attention over the KV cache, split across the pool:
 *  - RoPE of q and k with the cos/sin table of the batch (ew_attention_begin), k and v
 *    appended to the cache (F16 or F32), per token;
 *  - prefill (n > 1): items are (query block, KV head) tiles: the G query heads sharing a
 *    KV head and up to 16 queries read each K/V block once; items are handed out longest
 *    first (the last query block sees the most keys) so the causal triangle balances;
 *  - decode (n == 1): items are (KV head, key range) parts (flash-decoding), merged here
 *    from each part's max, sum and unnormalised output, so two threads share even 3 heads.
 * The tiles themselves are s->lk->attn (kernels/layer.h).
 */
#include "model/attention.h"
#include "kernels/layer.h"
#include <math.h>
#include <string.h>

#define SPLIT_MIN_KEYS 64   /* a decode part covers at least this many keys */
#define SPLIT_ALIGN 32      /* part boundaries on key blocks of every SIMD tile */
#define ROPE_PARALLEL_MIN 16 /* tokens from which RoPE + cache store use the pool */

/* Queries per prefill tile: about 48 rows (queries x heads of a group), 1 .. 16 queries. */
static int query_block(int G) {
    return EW_MAX(1, EW_MIN(16, 48 / G));
}

/* Per-thread scratch: the largest tile (prefill tile rows, n_ctx keys for the reference) or
 * the F16 K row of k_store, whichever is larger. */
size_t ew_attention_scratch_floats(const ew_hparams *hp, int n_ctx) {
    const int G = hp->n_head / hp->n_head_kv;
    const size_t tile = ew_attn_scratch_floats(hp->head_dim, query_block(G) * G, n_ctx);
    return EW_MAX(tile, (size_t)hp->n_head_kv * hp->head_dim); /* k_store's F16 row */
}

/* Decode parts: EW_ATTN_MAX_SPLIT x n_head output rows of D floats, then their (max, sum). */
size_t ew_attention_part_floats(const ew_hparams *hp) {
    return (size_t)EW_ATTN_MAX_SPLIT * (size_t)hp->n_head * ((size_t)hp->head_dim + 2);
}

/* cos/sin of the batch's positions, one table row of n_rot floats per token. */
void ew_attention_begin(ew_session *s, int n) {
    const ew_model *m = s->m;
    for (int t = 0; t < n; t++)
        ew_rope_table(s->rope_cs + (size_t)t * m->hp.n_rot, s->n_past + t, m->hp.n_rot, m->rope_inv_freq);
}

typedef struct rope_job { ew_session *s; int l; bool neox; } rope_job;
typedef struct att_job { ew_session *s; int l, n, n_qb, n_split, chunk; } att_job;

/* Append the V row src (kvd floats) at position pos of a row-major cache. */
static void v_store(const ew_session *s, void *cache, int pos, const float *src, int kvd) {
    if (s->kv_type == EW_KV_F32) memcpy((float *)cache + (size_t)pos * kvd, src, (size_t)kvd * sizeof(float));
    else s->lk->to_f16((uint16_t *)cache + (size_t)pos * kvd, src, kvd);
}

/* Append the K row src (KH heads of D floats) at position pos of a blocked cache (layer.h):
 * dim d of head h goes to lane pos % EW_KV_BLOCK of row d of the head's block. tmp holds
 * kvd / 2 floats (the F16 row). */
static void k_store(const ew_session *s, void *cache, int pos, const float *src, float *tmp) {
    const ew_hparams *hp = &s->m->hp;
    const int D = hp->head_dim, kvd = hp->n_head_kv * D, lane = pos % EW_KV_BLOCK;
    const size_t blk = (size_t)(pos / EW_KV_BLOCK) * kvd * EW_KV_BLOCK;
    if (s->kv_type == EW_KV_F32) {
        float *dst = (float *)cache + blk + lane;
        for (int i = 0; i < kvd; i++) dst[(size_t)i * EW_KV_BLOCK] = src[i];
        return;
    }
    uint16_t *h = (uint16_t *)tmp, *dst = (uint16_t *)cache + blk + lane;
    s->lk->to_f16(h, src, kvd);
    for (int i = 0; i < kvd; i++) dst[(size_t)i * EW_KV_BLOCK] = h[i];
}

/* Tokens [t0, t1): RoPE on their q and k heads, k and v into layer l's cache. */
static void rope_tokens(void *ctx, int64_t t0, int64_t t1, int ith) {
    const rope_job *j = ctx;
    ew_session *s = j->s;
    const ew_hparams *hp = &s->m->hp;
    const int H = hp->n_head, KH = hp->n_head_kv, D = hp->head_dim, kvd = KH * D;
    float *tmp = s->att + (size_t)ith * s->att_scratch;
    for (int64_t t = t0; t < t1; t++) {
        const float *cs = s->rope_cs + (size_t)t * hp->n_rot;
        float *k = s->k + (size_t)t * kvd;
        s->lk->rope(s->q + (size_t)t * H * D, H, D, hp->n_rot, cs, j->neox);
        s->lk->rope(k, KH, D, hp->n_rot, cs, j->neox);
        k_store(s, s->k_cache[j->l], s->n_past + (int)t, k, tmp);
        v_store(s, s->v_cache[j->l], s->n_past + (int)t, s->v + (size_t)t * kvd, kvd);
    }
}

/* A tile of layer l, KV head kh, for thread ith; the caller fills the query/key ranges. */
static ew_attn_tile base_tile(const ew_session *s, int l, int kh, int ith) {
    const ew_hparams *hp = &s->m->hp;
    const int D = hp->head_dim, G = hp->n_head / hp->n_head_kv;
    const size_t esz = s->kv_type == EW_KV_F16 ? 2 : 4;
    ew_attn_tile t = {0};
    t.G = G;
    t.D = D;
    t.scale = 1.0f / sqrtf((float)D);
    t.q_stride = t.o_stride = (size_t)hp->n_head * D;
    t.k = (const char *)s->k_cache[l] + (size_t)kh * D * EW_KV_BLOCK * esz;
    t.k_block_stride = (size_t)hp->n_head_kv * D * EW_KV_BLOCK;
    t.v = (const char *)s->v_cache[l] + (size_t)kh * D * esz;
    t.v_stride = (size_t)hp->n_head_kv * D;
    t.kv_f16 = s->kv_type == EW_KV_F16;
    t.scratch = s->att + (size_t)ith * s->att_scratch;
    t.scratch_floats = s->att_scratch;
    return t;
}

/* Prefill items: item i = query block n_qb - 1 - i / KH (longest first), KV head i % KH. */
static void prefill_items(void *ctx, int64_t i0, int64_t i1, int ith) {
    const att_job *j = ctx;
    const ew_session *s = j->s;
    const ew_hparams *hp = &s->m->hp;
    const int KH = hp->n_head_kv, G = hp->n_head / KH, QB = query_block(G), HD = hp->n_head * hp->head_dim;
    for (int64_t it = i0; it < i1; it++) {
        const int qb = j->n_qb - 1 - (int)(it / KH), kh = (int)(it % KH), t0 = qb * QB;
        ew_attn_tile t = base_tile(s, j->l, kh, ith);
        t.n_q = EW_MIN(QB, j->n - t0);
        const size_t off = (size_t)t0 * HD + (size_t)kh * G * hp->head_dim;
        t.q = s->q + off;
        t.o = s->att_out + off;
        t.key0 = 0;
        t.pos0 = s->n_past + t0;
        t.key1 = t.pos0 + t.n_q;
        s->lk->attn(&t);
    }
}

/* Decode items: item i = KV head i / n_split, key part i % n_split. One part writes the
 * output directly; several write unnormalised parts for merge_parts. */
static void decode_items(void *ctx, int64_t i0, int64_t i1, int ith) {
    const att_job *j = ctx;
    const ew_session *s = j->s;
    const ew_hparams *hp = &s->m->hp;
    const int G = hp->n_head / hp->n_head_kv, D = hp->head_dim;
    const int n_keys = s->n_past + 1;
    for (int64_t it = i0; it < i1; it++) {
        const int kh = (int)(it / j->n_split), part = (int)(it % j->n_split);
        ew_attn_tile t = base_tile(s, j->l, kh, ith);
        t.n_q = 1;
        t.q = s->q + (size_t)kh * G * D;
        t.pos0 = s->n_past;
        t.key0 = part * j->chunk;
        t.key1 = EW_MIN(n_keys, t.key0 + j->chunk);
        if (j->n_split == 1) {
            t.o = s->att_out + (size_t)kh * G * D;
        } else {
            t.o = s->att_part + (size_t)it * G * D;
            t.ml = s->att_part + (size_t)EW_ATTN_MAX_SPLIT * hp->n_head * D + (size_t)it * G * 2;
        }
        s->lk->attn(&t);
    }
}

/* Combine the n_split parts of every head: weights exp(m_part - m) rescale each part's sum
 * and output to the common max, then o = sum of outputs / sum of sums. */
static void merge_parts(ew_session *s, int n_split) {
    const ew_hparams *hp = &s->m->hp;
    const int H = hp->n_head, G = H / hp->n_head_kv, D = hp->head_dim;
    const float *ml = s->att_part + (size_t)EW_ATTN_MAX_SPLIT * H * D;
    for (int h = 0; h < H; h++) {
        const int kh = h / G, g = h % G;
        float m = -INFINITY, wsum = 0, w[EW_ATTN_MAX_SPLIT];
        for (int p = 0; p < n_split; p++) m = fmaxf(m, ml[((size_t)(kh * n_split + p) * G + g) * 2]);
        for (int p = 0; p < n_split; p++) {
            const float *part = ml + ((size_t)(kh * n_split + p) * G + g) * 2;
            w[p] = part[1] > 0 ? expf(part[0] - m) : 0.0f;
            wsum += w[p] * part[1];
        }
        float *o = s->att_out + (size_t)h * D;
        memset(o, 0, (size_t)D * sizeof(float));
        for (int p = 0; p < n_split; p++) {
            const float c = wsum > 0 ? w[p] / wsum : 0.0f;
            const float *po = s->att_part + ((size_t)(kh * n_split + p) * G + g) * D;
            for (int d = 0; d < D; d++) o[d] += c * po[d];
        }
    }
}

/* Parts per KV head for decode over n_keys keys: enough items for about 4 per thread,
 * each of at least SPLIT_MIN_KEYS keys; sets *chunk to the keys per part. */
static int decode_split(const ew_session *s, int n_keys, int *chunk) {
    const int nth = ew_pool_size(s->pool), KH = s->m->hp.n_head_kv;
    int n_split = nth == 1 ? 1 : (4 * nth + KH - 1) / KH;
    n_split = EW_MAX(1, EW_MIN(EW_MIN(n_split, n_keys / SPLIT_MIN_KEYS), EW_ATTN_MAX_SPLIT));
    int c = (n_keys + n_split - 1) / n_split;
    c = (c + SPLIT_ALIGN - 1) / SPLIT_ALIGN * SPLIT_ALIGN;
    *chunk = c;
    return (n_keys + c - 1) / c;
}

/* RoPE + cache append (on the pool from ROPE_PARALLEL_MIN tokens), then the tiles: split-key
 * parts for one token, (query block, KV head) items for a batch. */
void ew_attention(ew_session *s, int l, int n, bool neox) {
    const ew_hparams *hp = &s->m->hp;
    rope_job rj = {s, l, neox};
    if (n >= ROPE_PARALLEL_MIN) ew_pool_for(s->pool, n, 0, rope_tokens, &rj);
    else rope_tokens(&rj, 0, n, 0);
    att_job j = {s, l, n, 0, 1, 0};
    if (n == 1) {
        j.n_split = decode_split(s, s->n_past + 1, &j.chunk);
        ew_pool_for(s->pool, (int64_t)hp->n_head_kv * j.n_split, 1, decode_items, &j);
        if (j.n_split > 1) merge_parts(s, j.n_split);
        return;
    }
    const int QB = query_block(hp->n_head / hp->n_head_kv);
    j.n_qb = (n + QB - 1) / QB;
    ew_pool_for(s->pool, (int64_t)j.n_qb * hp->n_head_kv, 1, prefill_items, &j);
}
