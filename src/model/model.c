/*
 * model.c - load a GGUF model: architecture table -> hyperparameters -> named tensors with
 * their shapes checked -> tokenizer -> thread pool. Weights stay in the read-only mapping.
 */
#include "model/model_internal.h"
#include "core/cpu.h"
#include "quant/quant.h"
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const ew_arch *const k_archs[] = {&ew_arch_llama};

ew_model_params ew_model_default_params(void) {
    ew_model_params p = {0, true};
    return p;
}

const ew_tokenizer *ew_model_tokenizer(const ew_model *m) { return m->tok; }

/* "<arch>.<suffix>" into buf. */
static const char *akey(const ew_model *m, const char *suffix, char *buf, size_t cap) {
    snprintf(buf, cap, "%s.%s", m->arch_name, suffix);
    return buf;
}

/* Required positive integer hyperparameter. */
static ew_status hp_int(ew_model *m, const char *suffix, int *out, int lo, int hi) {
    char k[128];
    uint32_t v;
    ew_status st = gguf_get_u32(m->f, akey(m, suffix, k, sizeof k), &v);
    if (st != EW_OK) return ew_error_prefix(st, "%s", m->f->path);
    if (v < (uint32_t)lo || v > (uint32_t)hi)
        return ew_error(EW_ERR_FORMAT, "%s: %s = %u is out of range [%d, %d]", m->f->path, k, v, lo, hi);
    *out = (int)v;
    return EW_OK;
}

/* Optional integer hyperparameter (def when absent). */
static ew_status hp_int_opt(ew_model *m, const char *suffix, int *out, int def, int lo, int hi) {
    char k[128];
    if (gguf_find_key(m->f, akey(m, suffix, k, sizeof k)) < 0) { *out = def; return EW_OK; }
    return hp_int(m, suffix, out, lo, hi);
}

static ew_status hp_float_opt(ew_model *m, const char *suffix, float *out, float def) {
    char k[128];
    if (gguf_find_key(m->f, akey(m, suffix, k, sizeof k)) < 0) { *out = def; return EW_OK; }
    ew_status st = gguf_get_f32(m->f, k, out);
    if (st != EW_OK) return ew_error_prefix(st, "%s", m->f->path);
    if (!isfinite(*out)) return ew_error(EW_ERR_FORMAT, "%s: %s is not finite", m->f->path, k);
    return EW_OK;
}

/* Read and check the hyperparameters of a llama-like architecture. */
static ew_status load_hparams(ew_model *m) {
    ew_hparams *hp = &m->hp;
    ew_status st;
    if ((st = hp_int(m, "embedding_length", &hp->n_embd, 1, 1 << 20)) ||
        (st = hp_int(m, "block_count", &hp->n_layer, 1, 4096)) ||
        (st = hp_int(m, "feed_forward_length", &hp->n_ff, 1, 1 << 22)) ||
        (st = hp_int(m, "attention.head_count", &hp->n_head, 1, 1 << 14)) ||
        (st = hp_int_opt(m, "context_length", &hp->n_ctx_train, 2048, 1, 1 << 24)) ||
        (st = hp_int_opt(m, "attention.head_count_kv", &hp->n_head_kv, hp->n_head, 1, hp->n_head)))
        return st;
    if (hp->n_head % hp->n_head_kv)
        return ew_error(EW_ERR_FORMAT, "%s: head_count %d is not a multiple of head_count_kv %d",
                        m->f->path, hp->n_head, hp->n_head_kv);
    int def_hd = hp->n_embd % hp->n_head == 0 ? hp->n_embd / hp->n_head : 0;
    if ((st = hp_int_opt(m, "attention.key_length", &hp->head_dim, def_hd, 1, 1 << 14))) return st;
    if (hp->head_dim == 0)
        return ew_error(EW_ERR_FORMAT, "%s: embedding_length %d is not a multiple of head_count %d and no key_length",
                        m->f->path, hp->n_embd, hp->n_head);
    int vlen;
    if ((st = hp_int_opt(m, "attention.value_length", &vlen, hp->head_dim, 1, 1 << 14))) return st;
    if (vlen != hp->head_dim)
        return ew_error(EW_ERR_UNSUPPORTED, "%s: value_length %d differs from key_length %d", m->f->path, vlen, hp->head_dim);
    if ((st = hp_int_opt(m, "rope.dimension_count", &hp->n_rot, hp->head_dim, 2, hp->head_dim))) return st;
    if (hp->n_rot % 2) return ew_error(EW_ERR_FORMAT, "%s: rope.dimension_count %d is odd", m->f->path, hp->n_rot);
    if ((st = hp_float_opt(m, "attention.layer_norm_rms_epsilon", &hp->rms_eps, 1e-5f)) ||
        (st = hp_float_opt(m, "rope.freq_base", &hp->rope_base, 10000.0f)))
        return st;
    if (!(hp->rms_eps > 0) || !(hp->rope_base > 0))
        return ew_error(EW_ERR_FORMAT, "%s: rms epsilon and rope.freq_base must be > 0", m->f->path);
    /* rope scaling: none / linear (positions divided by factor); llama3-style comes as the
     * rope_freqs.weight tensor (frequency factors). */
    hp->rope_freq_scale = 1.0f;
    char k[128];
    gguf_str stype = {"none", 4};
    if (gguf_find_key(m->f, akey(m, "rope.scaling.type", k, sizeof k)) >= 0 &&
        (st = gguf_get_str(m->f, k, &stype)))
        return ew_error_prefix(st, "%s", m->f->path);
    float factor = 1.0f;
    if ((st = hp_float_opt(m, "rope.scaling.factor", &factor, 1.0f))) return st;
    if (gguf_str_eq(stype, "linear")) {
        if (!(factor > 0)) return ew_error(EW_ERR_FORMAT, "%s: rope.scaling.factor must be > 0", m->f->path);
        hp->rope_freq_scale = 1.0f / factor;
    } else if (!gguf_str_eq(stype, "none") && !gguf_str_eq(stype, "llama3")) {
        return ew_error(EW_ERR_UNSUPPORTED, "%s: rope.scaling.type '%.*s' is not supported (none, linear, llama3)",
                        m->f->path, (int)EW_MIN(stype.len, 32), stype.ptr);
    }
    return EW_OK;
}

/* Find tensor `name` with the expected shape (ne1 = 0 for 1-D) and a supported type.
 * optional: absent gives EW_ERR_NOT_FOUND without a message. */
static ew_status get_tensor(ew_model *m, const char *name, int64_t ne0, int64_t ne1, bool optional,
                            ew_tensor *out) {
    int64_t i = gguf_find_tensor(m->f, name);
    if (i < 0) {
        if (optional) return EW_ERR_NOT_FOUND;
        return ew_error(EW_ERR_NOT_FOUND, "%s: tensor '%s' is missing", m->f->path, name);
    }
    const gguf_tensor *t = &m->f->tensors[i];
    int64_t want1 = ne1 ? ne1 : 1;
    if (t->ne[0] != ne0 || t->ne[1] != want1 || t->ne[2] != 1 || t->ne[3] != 1)
        return ew_error(EW_ERR_FORMAT, "%s: tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]",
                        m->f->path, name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                        (long long)t->ne[3], (long long)ne0, (long long)want1);
    const ew_type_traits *tt = ew_type_get(t->type);
    if (!tt || !tt->supported)
        return ew_error(EW_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which edgewatt cannot compute yet",
                        m->f->path, name, ew_type_name(t->type));
    if (ne1 == 0 && t->type != EW_TYPE_F32)
        return ew_error(EW_ERR_UNSUPPORTED, "%s: norm tensor '%s' has type %s, expected F32", m->f->path, name,
                        ew_type_name(t->type));
    out->name = t->name.ptr; /* not NUL-terminated: names are for messages via the gguf */
    out->data = t->data;
    out->type = t->type;
    out->ne[0] = t->ne[0]; out->ne[1] = t->ne[1]; out->ne[2] = 1; out->ne[3] = 1;
    out->row_bytes = ew_row_size(t->type, t->ne[0]);
    return EW_OK;
}

/* Symbolic tensor dimensions, resolved from the hyperparameters. */
typedef enum dim { D_NONE, D_EMBD, D_Q, D_KV, D_FF } dim;

static int64_t dim_of(const ew_hparams *hp, dim d) {
    switch (d) {
    case D_EMBD: return hp->n_embd;
    case D_Q: return (int64_t)hp->n_head * hp->head_dim;
    case D_KV: return (int64_t)hp->n_head_kv * hp->head_dim;
    case D_FF: return hp->n_ff;
    case D_NONE: break;
    }
    return 0;
}

/* One per-layer tensor: "blk.N.<name>.weight" of shape [d0, d1] (d1 = D_NONE: 1-D). */
typedef struct layer_tensor { const char *name; size_t offset; dim d0, d1; } layer_tensor;

static const layer_tensor k_llama_layer[] = {
    {"attn_norm", offsetof(ew_layer, attn_norm), D_EMBD, D_NONE},
    {"attn_q", offsetof(ew_layer, wq), D_EMBD, D_Q},
    {"attn_k", offsetof(ew_layer, wk), D_EMBD, D_KV},
    {"attn_v", offsetof(ew_layer, wv), D_EMBD, D_KV},
    {"attn_output", offsetof(ew_layer, wo), D_Q, D_EMBD},
    {"ffn_norm", offsetof(ew_layer, ffn_norm), D_EMBD, D_NONE},
    {"ffn_gate", offsetof(ew_layer, ffn_gate), D_EMBD, D_FF},
    {"ffn_up", offsetof(ew_layer, ffn_up), D_EMBD, D_FF},
    {"ffn_down", offsetof(ew_layer, ffn_down), D_FF, D_EMBD},
};

/* Load the tensors of the llama layout. */
static ew_status load_tensors_llama(ew_model *m) {
    ew_hparams *hp = &m->hp;
    ew_status st;
    int64_t ti = gguf_find_tensor(m->f, "token_embd.weight");
    if (ti < 0) return ew_error(EW_ERR_NOT_FOUND, "%s: tensor 'token_embd.weight' is missing", m->f->path);
    int64_t nv = m->f->tensors[ti].ne[1];
    if (nv < 1 || nv > (1 << 24)) return ew_error(EW_ERR_FORMAT, "%s: vocabulary size %lld out of range", m->f->path, (long long)nv);
    hp->n_vocab = (int)nv;
    const int64_t E = hp->n_embd;
    if ((st = get_tensor(m, "token_embd.weight", E, hp->n_vocab, false, &m->tok_embd)) ||
        (st = get_tensor(m, "output_norm.weight", E, 0, false, &m->output_norm)))
        return st;
    st = get_tensor(m, "output.weight", E, hp->n_vocab, true, &m->output);
    if (st == EW_ERR_NOT_FOUND) m->output = m->tok_embd; /* tied */
    else if (st) return st;
    m->layers = ew_calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return ew_error(EW_ERR_NOMEM, "out of memory for %d layers", hp->n_layer);
    for (int l = 0; l < hp->n_layer; l++) {
        for (size_t i = 0; i < EW_ARRAY_LEN(k_llama_layer); i++) {
            const layer_tensor *lt = &k_llama_layer[i];
            char n[96];
            snprintf(n, sizeof n, "blk.%d.%s.weight", l, lt->name);
            ew_tensor *dst = (ew_tensor *)((char *)&m->layers[l] + lt->offset);
            if ((st = get_tensor(m, n, dim_of(hp, lt->d0), dim_of(hp, lt->d1), false, dst))) return st;
        }
    }
    return EW_OK;
}

/* Angles per position for each rotated pair, as ggml computes them: theta_scale^i by
 * repeated multiplication, times the linear freq_scale, divided by rope_freqs factors. */
static ew_status init_rope(ew_model *m) {
    const ew_hparams *hp = &m->hp;
    const int half = hp->n_rot / 2;
    m->rope_inv_freq = ew_calloc((size_t)half, sizeof(float));
    if (!m->rope_inv_freq) return ew_error(EW_ERR_NOMEM, "out of memory");
    ew_tensor ff;
    ew_status st = get_tensor(m, "rope_freqs.weight", half, 0, true, &ff);
    if (st && st != EW_ERR_NOT_FOUND) return st;
    const float theta_scale = powf(hp->rope_base, -2.0f / (float)hp->n_rot);
    float theta = hp->rope_freq_scale;
    for (int i = 0; i < half; i++) {
        float f = 1.0f;
        if (st == EW_OK) memcpy(&f, (const float *)ff.data + i, sizeof f);
        if (!(f > 0)) return ew_error(EW_ERR_FORMAT, "%s: rope_freqs.weight[%d] = %g must be > 0", m->f->path, i, f);
        m->rope_inv_freq[i] = theta / f;
        theta *= theta_scale;
    }
    return EW_OK;
}

/* Parameter count, weight bytes, dominant type. */
static void count_weights(ew_model *m) {
    uint64_t by_type[EW_TYPE_COUNT] = {0};
    for (uint64_t i = 0; i < m->f->n_tensors; i++) {
        const gguf_tensor *t = &m->f->tensors[i];
        m->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        m->weight_bytes += t->nbytes;
        if (t->type < EW_TYPE_COUNT && t->ne[1] > 1) by_type[t->type] += t->nbytes;
    }
    int best = 0;
    for (int i = 1; i < EW_TYPE_COUNT; i++) if (by_type[i] > by_type[best]) best = i;
    m->ftype_name = ew_type_name((uint32_t)best);
}

/* Everything after the GGUF is open. */
static ew_status model_init(ew_model *m, const ew_model_params *p) {
    gguf_str arch;
    ew_status st = gguf_get_str(m->f, "general.architecture", &arch);
    if (st) return ew_error_prefix(st, "%s", m->f->path);
    if (arch.len >= sizeof m->arch_name) arch.len = sizeof m->arch_name - 1;
    memcpy(m->arch_name, arch.ptr, arch.len);
    m->arch_name[arch.len] = 0;
    for (size_t i = 0; i < EW_ARRAY_LEN(k_archs); i++)
        if (strcmp(k_archs[i]->name, m->arch_name) == 0) m->arch = k_archs[i];
    if (!m->arch) return ew_error(EW_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported (supported: llama)",
                                  m->f->path, m->arch_name);
    gguf_str name;
    if (gguf_get_str(m->f, "general.name", &name) == EW_OK) {
        size_t n = EW_MIN(name.len, sizeof m->name - 1);
        memcpy(m->name, name.ptr, n);
        m->name[n] = 0;
    }
    ew_clear_error();
    if ((st = load_hparams(m)) || (st = load_tensors_llama(m)) || (st = init_rope(m))) return st;
    if ((st = ew_tokenizer_load(m->f, &m->tok))) return ew_error_prefix(st, "%s", m->f->path);
    if (ew_tokenizer_n_vocab(m->tok) != m->hp.n_vocab)
        return ew_error(EW_ERR_FORMAT, "%s: tokenizer has %d tokens but token_embd.weight has %d rows", m->f->path,
                        ew_tokenizer_n_vocab(m->tok), m->hp.n_vocab);
    count_weights(m);
    m->n_threads = p && p->n_threads > 0 ? p->n_threads : ew_cpu_physical_cores();
    if (m->n_threads < 1) m->n_threads = 1;
    if (m->n_threads > 256) m->n_threads = 256;
    return ew_pool_new(m->n_threads, &m->pool);
}

static ew_status finish_load(ew_model *m, const ew_model_params *p, ew_model **out) {
    ew_status st = model_init(m, p);
    if (st) { ew_model_free(m); return st; }
    *out = m;
    return EW_OK;
}

ew_status ew_model_load(const char *path, const ew_model_params *p, ew_model **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_model_load: out is NULL");
    *out = NULL;
    if (!path) return ew_error(EW_ERR_INVALID_ARG, "ew_model_load: path is NULL");
    ew_model *m = ew_calloc(1, sizeof *m);
    if (!m) return ew_error(EW_ERR_NOMEM, "out of memory");
    ew_status st = gguf_open(path, &m->f);
    if (st) { ew_free(m); return st; }
    return finish_load(m, p, out);
}

ew_status ew_model_load_memory(void *data, size_t size, bool take_ownership, const char *name,
                               const ew_model_params *p, ew_model **out) {
    if (!out) return ew_error(EW_ERR_INVALID_ARG, "ew_model_load_memory: out is NULL");
    *out = NULL;
    ew_model *m = ew_calloc(1, sizeof *m);
    if (!m) {
        if (take_ownership) ew_free(data);
        return ew_error(EW_ERR_NOMEM, "out of memory");
    }
    ew_status st = gguf_open_memory(data, size, take_ownership, name ? name : "<memory>", &m->f);
    if (st) { ew_free(m); return st; }
    return finish_load(m, p, out);
}

void ew_model_free(ew_model *m) {
    if (!m) return;
    ew_pool_free(m->pool);
    ew_tokenizer_free(m->tok);
    ew_free(m->layers);
    ew_free(m->rope_inv_freq);
    gguf_close(m->f);
    ew_free(m);
}

void ew_model_get_info(const ew_model *m, ew_model_info *info) {
    const ew_hparams *hp = &m->hp;
    info->arch = m->arch_name;
    info->name = m->name;
    info->n_vocab = hp->n_vocab;
    info->n_ctx_train = hp->n_ctx_train;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head_kv;
    info->n_ff = hp->n_ff;
    info->head_dim = hp->head_dim;
    info->n_params = m->n_params;
    info->weight_bytes = m->weight_bytes;
    info->ftype_name = m->ftype_name;
}

/* ---- the tokenizer through the model ---- */

ew_status ew_tokenize(const ew_model *m, const char *text, size_t len, bool add_special, bool parse_special,
                      int32_t *ids, size_t cap, size_t *n_out) {
    return ew_tokenizer_encode(m->tok, text, len, add_special, parse_special, ids, cap, n_out);
}

int ew_token_to_bytes(const ew_model *m, int32_t id, bool render_special, char *buf, size_t cap) {
    return ew_tokenizer_decode_token(m->tok, id, render_special, buf, cap);
}

int32_t ew_token_bos(const ew_model *m) { return ew_tokenizer_bos(m->tok); }
int32_t ew_token_eos(const ew_model *m) { return ew_tokenizer_eos(m->tok); }
bool ew_token_add_bos(const ew_model *m) { return ew_tokenizer_add_bos(m->tok); }
bool ew_token_is_eog(const ew_model *m, int32_t id) { return ew_tokenizer_is_eog(m->tok, id); }
int ew_n_vocab(const ew_model *m) { return m->hp.n_vocab; }
