/*
 * arch_llama.c - the Llama forward pass (Llama 2/3.x, SmolLM2, TinyLlama, stories):
 * RMSNorm -> Q/K/V -> RoPE (adjacent pairs) -> grouped-query attention over the KV cache
 * -> output projection -> residual -> RMSNorm -> SwiGLU FFN -> residual; final RMSNorm and
 * the output (or tied embedding) projection.
 *
 * Shapes for a batch of n tokens (E = n_embd, H = n_head, KH = n_head_kv, D = head_dim,
 * F = n_ff): x [n][E], q [n][H*D], k/v [n][KH*D], att_out [n][H*D], hb/hb2 [n][F].
 *
 * Each block leaves its output in xb; the residual add is fused with the next norm
 * (x += xb, then xb = norm(x)) in one pass over the row. The per-row pieces run the session's
 * layer kernels (kernels/layer.h), split across the pool by rows when the batch is large.
 */
#include "model/model_internal.h"
#include "model/attention.h"
#include "kernels/layer.h"
#include <string.h>

/* Elements (rows x row length) from which a row-wise step uses the pool. */
#define ROWS_PARALLEL_MIN 32768

/* Embedding rows of the tokens into s->x. */
static void embed(ew_session *s, const int32_t *tokens, int n) {
    const int E = s->m->hp.n_embd;
    for (int t = 0; t < n; t++) ew_tensor_get_row(&s->m->tok_embd, tokens[t], s->x + (size_t)t * E);
}

/* Run fn over rows [0, n_rows) of row_len elements: on the pool when the work is large. */
static void run_rows(ew_session *s, int n_rows, int row_len, ew_range_fn fn, void *ctx) {
    if ((int64_t)n_rows * row_len < ROWS_PARALLEL_MIN || ew_pool_size(s->pool) == 1) fn(ctx, 0, n_rows, 0);
    else ew_pool_for(s->pool, n_rows, 0, fn, ctx);
}

typedef struct norm_job { ew_session *s; const float *w; bool add; } norm_job;

/* Rows [r0, r1): x += xb (when add), then xb = rmsnorm(x) * w. */
static void norm_rows(void *ctx, int64_t r0, int64_t r1, int ith) {
    (void)ith;
    const norm_job *j = ctx;
    ew_session *s = j->s;
    const int E = s->m->hp.n_embd;
    for (int64_t t = r0; t < r1; t++) {
        float *x = s->x + (size_t)t * E, *xb = s->xb + (size_t)t * E;
        if (j->add) s->lk->add(x, xb, E);
        s->lk->rmsnorm(xb, x, j->w, E, s->m->hp.rms_eps);
    }
}

/* x += xb (when add: the previous block's output), xb = rmsnorm(x) * w, for n rows. */
static void residual_norm(ew_session *s, int n, bool add, const float *w) {
    norm_job j = {s, w, add};
    run_rows(s, n, s->m->hp.n_embd, norm_rows, &j);
}

/* Rows [r0, r1): hb = silu(hb) * hb2. */
static void swiglu_rows(void *ctx, int64_t r0, int64_t r1, int ith) {
    (void)ith;
    ew_session *s = ctx;
    const size_t F = (size_t)s->m->hp.n_ff;
    s->lk->swiglu(s->hb + (size_t)r0 * F, s->hb + (size_t)r0 * F, s->hb2 + (size_t)r0 * F, (int)((size_t)(r1 - r0) * F));
}

/* Self-attention block of layer l for n tokens, from the normed rows in xb; output in xb. */
static void attention_block(ew_session *s, int l, int n) {
    const ew_layer *L = &s->m->layers[l];
    ew_matmul(s->pool, &L->wq, s->xb, s->q, n, s->act);
    ew_matmul(s->pool, &L->wk, s->xb, s->k, n, s->act);
    ew_matmul(s->pool, &L->wv, s->xb, s->v, n, s->act);
    ew_attention(s, l, n, s->m->arch->rope_neox);
    ew_matmul(s->pool, &L->wo, s->att_out, s->xb, n, s->act);
}

/* SwiGLU feed-forward block of layer l for n tokens, from the normed rows in xb; output in xb. */
static void ffn_block(ew_session *s, int l, int n) {
    const ew_layer *L = &s->m->layers[l];
    ew_matmul(s->pool, &L->ffn_gate, s->xb, s->hb, n, s->act);
    ew_matmul(s->pool, &L->ffn_up, s->xb, s->hb2, n, s->act);
    run_rows(s, n, s->m->hp.n_ff, swiglu_rows, s);
    ew_matmul(s->pool, &L->ffn_down, s->hb, s->xb, n, s->act);
}

/* Final norm and output projection for tokens [first, n): s->x must hold the finished
 * residual stream of those rows. */
void ew_output_logits(ew_session *s, int first, int n, float *out) {
    const ew_model *m = s->m;
    const int E = m->hp.n_embd;
    for (int t = first; t < n; t++)
        s->lk->rmsnorm(s->xb + (size_t)(t - first) * E, s->x + (size_t)t * E, m->output_norm.data, E, m->hp.rms_eps);
    ew_matmul(s->pool, &m->output, s->xb, out, n - first, s->act);
}

static void llama_forward(ew_session *s, const int32_t *tokens, int n, int out_first, float *out) {
    const ew_model *m = s->m;
    const int E = m->hp.n_embd;
    embed(s, tokens, n);
    ew_attention_begin(s, n);
    for (int l = 0; l < m->hp.n_layer; l++) {
        residual_norm(s, n, l > 0, m->layers[l].attn_norm.data);
        attention_block(s, l, n);
        residual_norm(s, n, true, m->layers[l].ffn_norm.data);
        ffn_block(s, l, n);
    }
    for (int t = out_first; t < n; t++) s->lk->add(s->x + (size_t)t * E, s->xb + (size_t)t * E, E);
    ew_output_logits(s, out_first, n, out);
}

const ew_arch ew_arch_llama = {"llama", false, llama_forward};
