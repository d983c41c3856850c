/*
 * model_internal.h - the structs behind ew_model and ew_session, shared by model.c,
 * session.c and the arch_*.c forward passes.
 */
#ifndef EW_MODEL_INTERNAL_H
#define EW_MODEL_INTERNAL_H

#include "model/model.h"
#include "kernels/kernels.h"
#include "core/threadpool.h"

typedef struct ew_hparams {
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_rot;
    float rms_eps, rope_base, rope_freq_scale; /* freq_scale = 1/linear factor */
} ew_hparams;

typedef struct ew_layer {
    ew_tensor attn_norm, wq, wk, wv, wo;       /* wq: [n_embd, n_head*hd], wo: [n_head*hd, n_embd] */
    ew_tensor ffn_norm, ffn_gate, ffn_up, ffn_down; /* gate/up: [n_embd, n_ff], down: [n_ff, n_embd] */
} ew_layer;

typedef struct ew_session ew_session;
typedef struct ew_arch {
    const char *name;
    bool rope_neox;                            /* rotate (i, i+d/2) pairs instead of (2i, 2i+1) */
    /* Evaluate n tokens (n <= n_batch) at s->n_past; logits for rows [out_first, n) go to
     * out (row-major, n_vocab each). */
    void (*forward)(ew_session *s, const int32_t *tokens, int n, int out_first, float *out);
} ew_arch;

struct ew_model {
    gguf_file *f;
    ew_tokenizer *tok;
    const ew_arch *arch;
    ew_hparams hp;
    ew_tensor tok_embd, output_norm, output;
    ew_layer *layers;
    float *rope_inv_freq;                      /* n_rot/2 angles per position */
    int n_threads;
    ew_pool *pool;
    char arch_name[32];
    char name[128];
    const char *ftype_name;
    uint64_t n_params, weight_bytes;
};

struct ew_session {
    ew_model *m;
    ew_pool *pool;                             /* the model's, or own if n_threads differs */
    bool own_pool;
    int n_ctx, n_batch, n_past;
    ew_kv_type kv_type;
    void **k_cache, **v_cache;                 /* per layer: [n_ctx][n_head_kv*head_dim] */
    /* scratch for n_batch tokens */
    float *x, *xb, *q, *k, *v, *att_out, *hb, *hb2;
    float *att;                                /* per thread: att_scratch floats (attention tiles) */
    size_t att_scratch;
    float *att_part;                           /* decode key-split parts (ew_attention_part_floats) */
    float *rope_cs;                            /* n_batch x n_rot: cos, sin of each batch position */
    const struct ew_layer_kernels *lk;         /* layer kernels (kernels/layer.h), set at creation */
    void *act;                                 /* quantized activations */
    float *logits;                             /* n_logits_rows x n_vocab */
    int n_logits_rows, n_logits_valid;
};

extern const ew_arch ew_arch_llama;

/* Use the layer kernels of table lk (kernels/layer.h) in session s from now on: tests compare
 * whole-model logits across CPU levels with it. */
void ew_session_set_layer_kernels(ew_session *s, const struct ew_layer_kernels *lk);

#endif
