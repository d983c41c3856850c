/*
 * tiny_llama.h - a small random Llama of a chosen shape, built in memory (GGUF writer +
 * generated SPM vocabulary) and loaded, for model tests that need no files. Weights are
 * uniform in [-0.1, 0.1] (norm weights 1), the same values for a given seed whatever the
 * weight type.
 */
#ifndef EW_TINY_LLAMA_H
#define EW_TINY_LLAMA_H

#include "edgewatt.h"
#include "gguf/gguf.h"
#include "quant/quant.h"
#include "text/tokenizer.h"
#include "test.h"

typedef struct tiny_shape {
    int n_embd, n_ff, n_head, n_head_kv, head_dim, n_layer, n_vocab, n_ctx;
    uint32_t wtype; /* type of the 2-D weights */
} tiny_shape;

typedef struct tiny_fill { uint64_t seed; uint32_t type; int64_t k, rows; bool ones; } tiny_fill;

/* Fill callbacks' contexts must outlive the write; one model at a time is built. */
static tiny_fill g_tiny_fills[128];
static int g_tiny_nfill;

/* splitmix64: the next value of the sequence in *s. */
static uint64_t tiny_rng(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Tensor data: rows of uniform values quantized to the tensor's type. */
static ew_status tiny_fill_fn(void *user, void *dst, uint64_t nbytes) {
    tiny_fill *c = user;
    float *row = malloc((size_t)c->k * sizeof *row);
    const size_t rb = ew_row_size(c->type, c->k);
    uint64_t s = c->seed;
    for (int64_t r = 0; r < c->rows; r++) {
        for (int64_t i = 0; i < c->k; i++)
            row[i] = c->ones ? 1.0f : ((float)(tiny_rng(&s) >> 40) / (float)(1 << 24) - 0.5f) * 0.2f;
        ew_quantize_row_ref(c->type, row, (uint8_t *)dst + (size_t)r * rb, c->k);
    }
    free(row);
    (void)nbytes;
    return EW_OK;
}

/* Add tensor `name` (k x rows of type) with its fill context to w. */
static void tiny_add(gguf_writer *w, const char *name, uint32_t type, int64_t k, int64_t rows, bool ones) {
    tiny_fill *c = &g_tiny_fills[g_tiny_nfill++];
    *c = (tiny_fill){1000 + (uint64_t)g_tiny_nfill, type, k, rows, ones};
    int64_t ne[2] = {k, rows};
    CHECK_OK(gguf_add_tensor(w, name, type, rows > 1 ? 2 : 1, ne, NULL, tiny_fill_fn, c));
}

/* Build and load the model (n_threads worker threads); NULL on failure (checks count it). */
static ew_model *tiny_llama_load(const tiny_shape *sh, int n_threads) {
    g_tiny_nfill = 0;
    gguf_writer *w = gguf_writer_new();
    CHECK(w != NULL);
    if (!w) return NULL;
    CHECK_OK(gguf_set_str(w, "general.architecture", "llama"));
    CHECK_OK(gguf_set_u32(w, "llama.context_length", (uint32_t)sh->n_ctx));
    CHECK_OK(gguf_set_u32(w, "llama.embedding_length", (uint32_t)sh->n_embd));
    CHECK_OK(gguf_set_u32(w, "llama.block_count", (uint32_t)sh->n_layer));
    CHECK_OK(gguf_set_u32(w, "llama.feed_forward_length", (uint32_t)sh->n_ff));
    CHECK_OK(gguf_set_u32(w, "llama.attention.head_count", (uint32_t)sh->n_head));
    CHECK_OK(gguf_set_u32(w, "llama.attention.head_count_kv", (uint32_t)sh->n_head_kv));
    CHECK_OK(gguf_set_u32(w, "llama.attention.key_length", (uint32_t)sh->head_dim));
    CHECK_OK(gguf_set_u32(w, "llama.attention.value_length", (uint32_t)sh->head_dim));
    CHECK_OK(gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f));
    CHECK_OK(gguf_set_f32(w, "llama.rope.freq_base", 10000.0f));
    ew_vocab_data *v = NULL;
    CHECK_OK(ew_vocab_generate("llama", (uint32_t)sh->n_vocab, 7, &v));
    if (v) CHECK_OK(ew_vocab_write_gguf(v, w));
    const int E = sh->n_embd, QD = sh->n_head * sh->head_dim, KVD = sh->n_head_kv * sh->head_dim;
    tiny_add(w, "token_embd.weight", sh->wtype, E, sh->n_vocab, false);
    tiny_add(w, "output_norm.weight", EW_TYPE_F32, E, 1, true);
    char n[64];
    for (int l = 0; l < sh->n_layer; l++) {
        const struct { const char *name; int64_t k, rows; bool norm; } ts[] = {
            {"attn_norm", E, 1, true}, {"attn_q", E, QD, false}, {"attn_k", E, KVD, false},
            {"attn_v", E, KVD, false}, {"attn_output", QD, E, false}, {"ffn_norm", E, 1, true},
            {"ffn_gate", E, sh->n_ff, false}, {"ffn_up", E, sh->n_ff, false}, {"ffn_down", sh->n_ff, E, false},
        };
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            snprintf(n, sizeof n, "blk.%d.%s.weight", l, ts[i].name);
            tiny_add(w, n, ts[i].norm ? EW_TYPE_F32 : sh->wtype, ts[i].k, ts[i].rows, ts[i].norm);
        }
    }
    void *img = NULL;
    size_t size = 0;
    CHECK_OK(gguf_writer_write_mem(w, &img, &size));
    gguf_writer_free(w);
    ew_vocab_data_free(v);
    if (!img) return NULL;
    ew_model *m = NULL;
    ew_model_params mp = ew_model_default_params();
    mp.n_threads = n_threads;
    CHECK_OK(ew_model_load_memory(img, size, true, "tiny.gguf", &mp, &m)); /* takes img */
    return m;
}

#endif
