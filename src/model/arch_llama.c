/*
 * arch_llama.c - the Llama forward pass (Llama 2/3.x, SmolLM2, TinyLlama, stories):
 * RMSNorm -> Q/K/V -> RoPE (adjacent pairs) -> grouped-query attention over the KV cache
 * -> output projection -> residual -> RMSNorm -> SwiGLU FFN -> residual; final RMSNorm and
 * the output (or tied embedding) projection.
 *
 * Shapes for a batch of n tokens (E = n_embd, H = n_head, KH = n_head_kv, D = head_dim,
 * F = n_ff): x [n][E], q [n][H*D], k/v [n][KH*D], att_out [n][H*D], hb/hb2 [n][F].
 */
#include "model/model_internal.h"
#include "model/attention.h"
#include <math.h>
#include <string.h>

/* x += y over n floats. */
static void add_inplace(float *x, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

/* Embedding rows of the tokens into s->x. */
static void embed(ew_session *s, const int32_t *tokens, int n) {
    const int E = s->m->hp.n_embd;
    for (int t = 0; t < n; t++) ew_tensor_get_row(&s->m->tok_embd, tokens[t], s->x + (size_t)t * E);
}

/* Self-attention block of layer l for n tokens; adds its output into s->x. */
static void attention_block(ew_session *s, int l, int n) {
    const ew_model *m = s->m;
    const ew_hparams *hp = &m->hp;
    const ew_layer *L = &m->layers[l];
    const int E = hp->n_embd;
    for (int t = 0; t < n; t++)
        ew_rmsnorm(s->xb + (size_t)t * E, s->x + (size_t)t * E, L->attn_norm.data, E, hp->rms_eps);
    ew_matmul(s->pool, &L->wq, s->xb, s->q, n, s->act);
    ew_matmul(s->pool, &L->wk, s->xb, s->k, n, s->act);
    ew_matmul(s->pool, &L->wv, s->xb, s->v, n, s->act);
    ew_attention(s, l, n, m->arch->rope_neox);
    ew_matmul(s->pool, &L->wo, s->att_out, s->xb, n, s->act);
    add_inplace(s->x, s->xb, (size_t)n * E);
}

/* SwiGLU feed-forward block of layer l for n tokens; adds its output into s->x. */
static void ffn_block(ew_session *s, int l, int n) {
    const ew_hparams *hp = &s->m->hp;
    const ew_layer *L = &s->m->layers[l];
    const int E = hp->n_embd;
    for (int t = 0; t < n; t++)
        ew_rmsnorm(s->xb + (size_t)t * E, s->x + (size_t)t * E, L->ffn_norm.data, E, hp->rms_eps);
    ew_matmul(s->pool, &L->ffn_gate, s->xb, s->hb, n, s->act);
    ew_matmul(s->pool, &L->ffn_up, s->xb, s->hb2, n, s->act);
    ew_swiglu(s->hb, s->hb, s->hb2, n * hp->n_ff);
    ew_matmul(s->pool, &L->ffn_down, s->hb, s->xb, n, s->act);
    add_inplace(s->x, s->xb, (size_t)n * E);
}

/* Final norm and output projection for tokens [first, n). */
void ew_output_logits(ew_session *s, int first, int n, float *out) {
    const ew_model *m = s->m;
    const int E = m->hp.n_embd;
    for (int t = first; t < n; t++)
        ew_rmsnorm(s->xb + (size_t)(t - first) * E, s->x + (size_t)t * E, m->output_norm.data, E, m->hp.rms_eps);
    ew_matmul(s->pool, &m->output, s->xb, out, n - first, s->act);
}

static void llama_forward(ew_session *s, const int32_t *tokens, int n, int out_first, float *out) {
    embed(s, tokens, n);
    for (int l = 0; l < s->m->hp.n_layer; l++) {
        attention_block(s, l, n);
        ffn_block(s, l, n);
    }
    ew_output_logits(s, out_first, n, out);
}

const ew_arch ew_arch_llama = {"llama", false, llama_forward};
