/*
 * session.c - a session owns the KV cache and every scratch buffer the forward pass needs,
 * all allocated here once: evaluating tokens never allocates.
 */
#include "model/model_internal.h"
#include "model/attention.h"
#include "kernels/layer.h"
#include "quant/quant.h"
#include <string.h>

ew_session_params ew_session_default_params(void) {
    ew_session_params p = {0, 512, EW_KV_F16, 0, false};
    return p;
}

/* Largest activation buffer any weight of the model needs for n_tok rows. */
static size_t max_act_bytes(const ew_model *m, int n_tok) {
    size_t mx = ew_matmul_act_bytes(&m->output, n_tok);
    for (int l = 0; l < m->hp.n_layer; l++) {
        const ew_layer *L = &m->layers[l];
        const ew_tensor *ts[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->ffn_gate, &L->ffn_up, &L->ffn_down};
        for (size_t i = 0; i < EW_ARRAY_LEN(ts); i++) mx = EW_MAX(mx, ew_matmul_act_bytes(ts[i], n_tok));
    }
    return mx;
}

/* n floats, or NULL (with the overflow checked). */
static float *falloc(size_t a, size_t b) {
    size_t n;
    if (!ew_mul_size(a, b, &n) || !ew_mul_size(n, sizeof(float), &n)) return NULL;
    return ew_malloc_aligned(n);
}

ew_status ew_session_new(ew_model *m, const ew_session_params *pp, ew_session **out) {
    if (!m || !out) return ew_error(EW_ERR_INVALID_ARG, "ew_session_new: NULL argument");
    *out = NULL;
    ew_session_params p = pp ? *pp : ew_session_default_params();
    const ew_hparams *hp = &m->hp;
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0)
        return ew_error(EW_ERR_INVALID_ARG, "session: n_ctx, n_batch and n_threads must be >= 0");
    if (p.n_ctx == 0) p.n_ctx = EW_MIN(hp->n_ctx_train, 4096);
    if (p.n_ctx > (1 << 20)) return ew_error(EW_ERR_RANGE, "session: context %d is too large (max 1048576)", p.n_ctx);
    if (p.n_batch == 0) p.n_batch = 512;
    p.n_batch = EW_MIN(p.n_batch, p.n_ctx);
    if (p.kv_type != EW_KV_F16 && p.kv_type != EW_KV_F32)
        return ew_error(EW_ERR_INVALID_ARG, "session: unknown kv_type %d", (int)p.kv_type);

    ew_session *s = ew_calloc(1, sizeof *s);
    if (!s) return ew_error(EW_ERR_NOMEM, "out of memory");
    s->m = m;
    s->n_ctx = p.n_ctx;
    s->n_batch = p.n_batch;
    s->kv_type = p.kv_type;
    ew_status st = EW_OK;
    if (p.n_threads && p.n_threads != m->n_threads) {
        st = ew_pool_new(p.n_threads, &s->pool);
        s->own_pool = true;
        if (st) { ew_free(s); return st; }
    } else {
        s->pool = m->pool;
    }
    const size_t B = (size_t)s->n_batch, kvd = (size_t)hp->n_head_kv * hp->head_dim;
    const size_t qd = (size_t)hp->n_head * hp->head_dim;
    const size_t esz = p.kv_type == EW_KV_F16 ? 2 : 4;
    s->k_cache = ew_calloc((size_t)hp->n_layer, sizeof(void *));
    s->v_cache = ew_calloc((size_t)hp->n_layer, sizeof(void *));
    bool ok = s->k_cache && s->v_cache;
    /* K in whole blocks of EW_KV_BLOCK positions (kernels/layer.h), V row-major */
    const size_t k_pos = ((size_t)s->n_ctx + EW_KV_BLOCK - 1) / EW_KV_BLOCK * EW_KV_BLOCK;
    for (int l = 0; ok && l < hp->n_layer; l++) {
        size_t kb, vb;
        ok = ew_mul_size(k_pos, kvd * esz, &kb) && ew_mul_size((size_t)s->n_ctx, kvd * esz, &vb) &&
             (s->k_cache[l] = ew_malloc_aligned(kb)) && (s->v_cache[l] = ew_malloc_aligned(vb));
        if (ok) { memset(s->k_cache[l], 0, kb); memset(s->v_cache[l], 0, vb); }
    }
    s->n_logits_rows = p.all_logits ? s->n_ctx : 1;
    s->att_scratch = ew_attention_scratch_floats(hp, s->n_ctx);
    s->lk = ew_layer_kernels_get();
    ok = ok && (s->x = falloc(B, hp->n_embd)) && (s->xb = falloc(B, EW_MAX((size_t)hp->n_embd, qd))) &&
         (s->q = falloc(B, qd)) && (s->k = falloc(B, kvd)) && (s->v = falloc(B, kvd)) &&
         (s->att_out = falloc(B, qd)) && (s->hb = falloc(B, hp->n_ff)) && (s->hb2 = falloc(B, hp->n_ff)) &&
         (s->att = falloc((size_t)ew_pool_size(s->pool), s->att_scratch)) &&
         (s->att_part = falloc(ew_attention_part_floats(hp), 1)) && (s->rope_cs = falloc(B, (size_t)hp->n_rot)) &&
         (s->act = ew_malloc_aligned(max_act_bytes(m, s->n_batch))) &&
         (s->logits = falloc((size_t)s->n_logits_rows, hp->n_vocab));
    if (!ok) {
        ew_session_free(s);
        return ew_error(EW_ERR_NOMEM, "session: out of memory for a context of %d tokens", p.n_ctx);
    }
    *out = s;
    return EW_OK;
}

void ew_session_free(ew_session *s) {
    if (!s) return;
    for (int l = 0; l < s->m->hp.n_layer; l++) {
        if (s->k_cache) ew_free_aligned(s->k_cache[l]);
        if (s->v_cache) ew_free_aligned(s->v_cache[l]);
    }
    ew_free(s->k_cache);
    ew_free(s->v_cache);
    float *bufs[] = {s->x, s->xb, s->q, s->k, s->v, s->att_out, s->hb, s->hb2, s->att, s->att_part, s->rope_cs,
                     s->logits};
    for (size_t i = 0; i < EW_ARRAY_LEN(bufs); i++) ew_free_aligned(bufs[i]);
    ew_free_aligned(s->act);
    if (s->own_pool) ew_pool_free(s->pool);
    ew_free(s);
}

/* Switch s to the layer kernels of table lk (tests compare CPU levels); NULL is ignored. */
void ew_session_set_layer_kernels(ew_session *s, const ew_layer_kernels *lk) {
    if (s && lk) s->lk = lk;
}

int ew_session_n_ctx(const ew_session *s) { return s->n_ctx; }
int ew_session_n_past(const ew_session *s) { return s->n_past; }

ew_status ew_session_rewind(ew_session *s, int n_keep) {
    if (n_keep < 0 || n_keep > s->n_past)
        return ew_error(EW_ERR_RANGE, "rewind to %d: the cache holds %d positions", n_keep, s->n_past);
    s->n_past = n_keep;
    s->n_logits_valid = 0;
    return EW_OK;
}

ew_status ew_session_eval(ew_session *s, const int32_t *tokens, int n, bool logits_all) {
    if (!s || (!tokens && n > 0) || n < 0) return ew_error(EW_ERR_INVALID_ARG, "eval: bad arguments");
    if (n == 0) return EW_OK;
    if (n > s->n_ctx - s->n_past)
        return ew_error(EW_ERR_RANGE, "eval: %d tokens at position %d exceed the context of %d tokens", n, s->n_past,
                        s->n_ctx);
    if (logits_all && n > s->n_logits_rows)
        return ew_error(EW_ERR_INVALID_ARG, "eval: logits of %d tokens requested but the session keeps %d "
                        "(create it with all_logits)", n, s->n_logits_rows);
    const int nv = s->m->hp.n_vocab;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= nv)
            return ew_error(EW_ERR_RANGE, "eval: token %d at index %d is outside the vocabulary [0, %d)", tokens[i], i, nv);
    for (int done = 0; done < n;) {
        const int nb = EW_MIN(s->n_batch, n - done);
        const bool last = done + nb == n;
        if (logits_all) {
            s->m->arch->forward(s, tokens + done, nb, 0, s->logits + (size_t)done * nv);
        } else {
            s->m->arch->forward(s, tokens + done, nb, last ? nb - 1 : nb, s->logits);
        }
        s->n_past += nb;
        done += nb;
    }
    s->n_logits_valid = logits_all ? n : 1;
    return EW_OK;
}

const float *ew_session_logits(const ew_session *s, int i) {
    if (i < 0) i = s->n_logits_valid - 1;
    if (i < 0 || i >= s->n_logits_valid) return NULL;
    return s->logits + (size_t)i * s->m->hp.n_vocab;
}
