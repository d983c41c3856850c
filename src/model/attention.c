/*
 * attention.c - causal grouped-query attention over the KV cache (scalar reference; the
 * SIMD version replaces the two inner loops).
 */
#include "model/attention.h"
#include "quant/quant.h"
#include <math.h>
#include <string.h>

/* Store row `src` (kvd floats) at position pos of a cache of the session's kv type. */
static void cache_store(const ew_session *s, void *cache, int pos, const float *src, int kvd) {
    if (s->kv_type == EW_KV_F32) {
        memcpy((float *)cache + (size_t)pos * kvd, src, (size_t)kvd * sizeof(float));
    } else {
        uint16_t *dst = (uint16_t *)cache + (size_t)pos * kvd;
        for (int i = 0; i < kvd; i++) dst[i] = ew_fp32_to_fp16(src[i]);
    }
}

/* Dot of q (D floats) with cache row pos, head slice at off. */
static float cache_dot(const ew_session *s, const void *cache, int pos, int kvd, int off, const float *q, int D) {
    float sum = 0;
    if (s->kv_type == EW_KV_F32) {
        const float *k = (const float *)cache + (size_t)pos * kvd + off;
        for (int i = 0; i < D; i++) sum += q[i] * k[i];
    } else {
        const uint16_t *k = (const uint16_t *)cache + (size_t)pos * kvd + off;
        for (int i = 0; i < D; i++) sum += q[i] * ew_fp16_to_fp32(k[i]);
    }
    return sum;
}

/* out += w * cache row pos (head slice at off). */
static void cache_axpy(const ew_session *s, const void *cache, int pos, int kvd, int off, float w, float *out, int D) {
    if (s->kv_type == EW_KV_F32) {
        const float *v = (const float *)cache + (size_t)pos * kvd + off;
        for (int i = 0; i < D; i++) out[i] += w * v[i];
    } else {
        const uint16_t *v = (const uint16_t *)cache + (size_t)pos * kvd + off;
        for (int i = 0; i < D; i++) out[i] += w * ew_fp16_to_fp32(v[i]);
    }
}

typedef struct att_job { ew_session *s; int l, n; } att_job;

/* Items are (token, head) pairs: item = t * H + h. */
static void att_items(void *ctx, int64_t i0, int64_t i1, int ith) {
    const att_job *j = ctx;
    ew_session *s = j->s;
    const ew_hparams *hp = &s->m->hp;
    const int H = hp->n_head, D = hp->head_dim, kvd = hp->n_head_kv * D, gqa = H / hp->n_head_kv;
    const float scale = 1.0f / sqrtf((float)D);
    float *att = s->att + (size_t)ith * s->n_ctx;
    for (int64_t it = i0; it < i1; it++) {
        const int t = (int)(it / H), h = (int)(it % H);
        const int pos = s->n_past + t, off = (h / gqa) * D;
        const float *q = s->q + (size_t)t * H * D + (size_t)h * D;
        for (int p = 0; p <= pos; p++) att[p] = cache_dot(s, s->k_cache[j->l], p, kvd, off, q, D) * scale;
        ew_softmax(att, pos + 1);
        float *out = s->att_out + (size_t)t * H * D + (size_t)h * D;
        memset(out, 0, (size_t)D * sizeof(float));
        for (int p = 0; p <= pos; p++) cache_axpy(s, s->v_cache[j->l], p, kvd, off, att[p], out, D);
    }
}

void ew_attention(ew_session *s, int l, int n, bool neox) {
    const ew_model *m = s->m;
    const ew_hparams *hp = &m->hp;
    const int H = hp->n_head, KH = hp->n_head_kv, D = hp->head_dim, kvd = KH * D;
    for (int t = 0; t < n; t++) {
        const int pos = s->n_past + t;
        float *q = s->q + (size_t)t * H * D, *k = s->k + (size_t)t * kvd;
        for (int h = 0; h < H; h++) ew_rope(q + (size_t)h * D, D, hp->n_rot, pos, m->rope_inv_freq, neox);
        for (int h = 0; h < KH; h++) ew_rope(k + (size_t)h * D, D, hp->n_rot, pos, m->rope_inv_freq, neox);
        cache_store(s, s->k_cache[l], pos, k, kvd);
        cache_store(s, s->v_cache[l], pos, s->v + (size_t)t * kvd, kvd);
    }
    att_job j = {s, l, n};
    ew_pool_for(s->pool, (int64_t)n * H, 0, att_items, &j);
}
