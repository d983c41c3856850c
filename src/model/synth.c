/*
 * synth.c - planning and writing synthetic models (see synth.h). The plan lays the tensors
 * out as llama.cpp's GGUF for the architecture does, with llama-quantize's types; the
 * writer gets the metadata, the vocabulary and one fill callback per tensor that generates
 * and quantizes the tensor row by row on a thread pool when the writer asks for it.
 */
#include "model/synth_internal.h"
#include "model/ftype.h"
#include "quant/quant.h"
#include "text/tokenizer.h"
#include "core/threadpool.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYNTH_STD 0.02f         /* HF initializer_range of most Llama-family configs */
#define SYNTH_VOCAB_SEED 0x5EEDull
#define MAX_TENSORS_PER_LAYER 16

typedef struct fill_ctx {
    ew_synth *s;
    uint32_t idx;
} fill_ctx;

struct ew_synth {
    ew_synth_plan plan;
    synth_preset preset;
    char *vocab_file;
    gguf_writer *w;
    fill_ctx *fills;
    float *rope_factors;         /* head_dim/2 values when plan.rope_freqs */
    int n_threads;
    ew_pool *pool;               /* made on the first fill, n_threads wide */
};

/* True if synth can produce data of this type (float types, or a quantizer exists). */
static bool can_make(uint32_t type) {
    if (type == EW_TYPE_F32 || type == EW_TYPE_F16 || type == EW_TYPE_BF16) return true;
    const ew_type_traits *t = ew_type_get(type);
    return t && t->known && t->supported;
}

/* A file type synth can write: ported (ftype.h) and its base type can be quantized (its
 * other types are checked per tensor when planning). */
static bool ftype_ok(int ft) {
    return ew_ftype_name(ft) && can_make(ew_ftype_default_type((ew_ftype)ft));
}

/* "F32, F16, ..." - the file types synth accepts, built once. */
const char *ew_synth_type_names(void) {
    static char buf[256];
    if (!buf[0]) {
        size_t n, len = 0;
        const ew_ftype *all = ew_ftype_all(&n);
        for (size_t i = 0; i < n; i++) {
            if (!ftype_ok((int)all[i])) continue;
            int w = snprintf(buf + len, sizeof buf - len, "%s%s", len ? ", " : "", ew_ftype_name((int)all[i]));
            if (w < 0 || (size_t)w >= sizeof buf - len) break;
            len += (size_t)w;
        }
    }
    return buf;
}

/* ---- planning ------------------------------------------------------------------------- */

/* Read the hyper-parameters the tensor layout needs from the preset. */
static ew_status plan_hparams(ew_synth *s) {
    const synth_preset *p = &s->preset;
    ew_synth_plan *pl = &s->plan;
    uint32_t v[7];
    static const char *const need[7] = { "vocab_size", "context_length", "embedding_length",
                                         "block_count", "feed_forward_length",
                                         "attention.head_count", "rope.dimension_count" };
    for (int i = 0; i < 7; i++)
        if (!synth_preset_u32(p, need[i], &v[i]))
            return ew_error(EW_ERR_FORMAT, "preset '%s': hparams.\"%s\" is missing", p->name, need[i]);
    pl->n_vocab = (int)v[0]; pl->n_ctx_train = (int)v[1]; pl->n_embd = (int)v[2];
    pl->n_layer = (int)v[3]; pl->n_ff = (int)v[4]; pl->n_head = (int)v[5];
    uint32_t kv = v[5], hd = 0;
    synth_preset_u32(p, "attention.head_count_kv", &kv);
    if (!synth_preset_u32(p, "attention.key_length", &hd)) {
        if (v[2] % v[5] != 0)
            return ew_error(EW_ERR_FORMAT, "preset '%s': embedding_length %u is not a multiple of head_count %u "
                            "and there is no attention.key_length", p->name, v[2], v[5]);
        hd = v[2] / v[5];
    }
    if (v[5] % kv != 0)
        return ew_error(EW_ERR_FORMAT, "preset '%s': head_count %u is not a multiple of head_count_kv %u",
                        p->name, v[5], kv);
    pl->n_head_kv = (int)kv;
    pl->head_dim = (int)hd;
    if (v[6] > hd || v[6] % 2)
        return ew_error(EW_ERR_FORMAT, "preset '%s': rope.dimension_count %u must be even and <= head dim %u",
                        p->name, v[6], hd);
    if (v[1] > (1u << 30) || v[0] > (1u << 30) || v[2] > (1u << 20) || v[3] > 4096 || v[4] > (1u << 22))
        return ew_error(EW_ERR_RANGE, "preset '%s': hyper-parameters out of range", p->name);
    pl->tied_embeddings = p->tied;
    pl->rope_freqs = p->rope_llama3;
    return EW_OK;
}

/* Append one tensor to the plan (shape given GGUF-order, ne0 first). */
static void add_tensor(ew_synth_plan *pl, const char *name, ew_synth_init init, uint32_t n_dims,
                       int64_t ne0, int64_t ne1) {
    ew_synth_tensor *t = &pl->tensors[pl->n_tensors++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = n_dims > 1 ? ne1 : 1;
    t->ne[2] = t->ne[3] = 1;
    t->init = init;
}

/* One transformer block of arch llama, in llama-quantize's order (sorted by name). */
static void add_llama_block(ew_synth_plan *pl, int il) {
    int64_t E = pl->n_embd, F = pl->n_ff, Q = (int64_t)pl->n_head * pl->head_dim,
            KV = (int64_t)pl->n_head_kv * pl->head_dim;
    static const struct { const char *n; int kind; } parts[] = {
        { "attn_k", 0 }, { "attn_norm", 1 }, { "attn_output", 2 }, { "attn_q", 3 }, { "attn_v", 4 },
        { "ffn_down", 5 }, { "ffn_gate", 6 }, { "ffn_norm", 1 }, { "ffn_up", 6 },
    };
    for (size_t i = 0; i < EW_ARRAY_LEN(parts); i++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.%s.weight", il, parts[i].n);
        switch (parts[i].kind) {
        case 0: case 4: add_tensor(pl, name, EW_SYNTH_INIT_NORMAL, 2, E, KV); break;
        case 1: add_tensor(pl, name, EW_SYNTH_INIT_ONES, 1, E, 1); break;
        case 2: add_tensor(pl, name, EW_SYNTH_INIT_NORMAL, 2, Q, E); break;
        case 3: add_tensor(pl, name, EW_SYNTH_INIT_NORMAL, 2, E, Q); break;
        case 5: add_tensor(pl, name, EW_SYNTH_INIT_NORMAL, 2, F, E); break;
        default: add_tensor(pl, name, EW_SYNTH_INIT_NORMAL, 2, E, F); break;
        }
    }
}

/* The tensors of arch llama, ordered as llama-quantize writes them (llama.cpp's
 * weight_name_comparer: tensors without a layer first, then by layer, each by name). */
static ew_status plan_llama_tensors(ew_synth_plan *pl) {
    size_t cap = 4 + (size_t)pl->n_layer * MAX_TENSORS_PER_LAYER;
    pl->tensors = ew_calloc(cap, sizeof *pl->tensors);
    if (!pl->tensors) return ew_error(EW_ERR_NOMEM, "out of memory");
    int64_t E = pl->n_embd, V = pl->n_vocab;
    if (!pl->tied_embeddings) add_tensor(pl, "output.weight", EW_SYNTH_INIT_NORMAL, 2, E, V);
    add_tensor(pl, "output_norm.weight", EW_SYNTH_INIT_ONES, 1, E, 1);
    if (pl->rope_freqs) add_tensor(pl, "rope_freqs.weight", EW_SYNTH_INIT_ROPE_FREQS, 1, pl->head_dim / 2, 1);
    add_tensor(pl, "token_embd.weight", EW_SYNTH_INIT_NORMAL, 2, E, V);
    for (int il = 0; il < pl->n_layer; il++) add_llama_block(pl, il);
    return EW_OK;
}

/* Give every tensor its type (llama-quantize's mixture) and size; sum params and bytes. */
static ew_status plan_types(ew_synth *s) {
    ew_synth_plan *pl = &s->plan;
    ew_ftype_model fm = { pl->arch, pl->n_layer, pl->n_head, pl->n_head_kv, 0, !pl->tied_embeddings };
    for (uint32_t i = 0; i < pl->n_tensors; i++) {
        ew_synth_tensor *t = &pl->tensors[i];
        t->type = ew_ftype_tensor_type((ew_ftype)pl->ftype, &fm, t->name, t->n_dims, t->ne, EW_TYPE_F32, &t->fallback);
        if (!can_make(t->type))
            return ew_error(EW_ERR_UNSUPPORTED, "%s needs type %s for %s, which cannot be quantized yet",
                            pl->ftype_name, ew_type_name(t->type), t->name);
        size_t row = ew_row_size(t->type, t->ne[0]);
        if (!row) return ew_error(EW_ERR_INTERNAL, "%s: row of %lld is not a multiple of %s's block",
                                  t->name, (long long)t->ne[0], ew_type_name(t->type));
        t->nbytes = (uint64_t)row * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
        pl->data_bytes += t->nbytes;
        pl->n_fallback += t->fallback;
        if (t->init != EW_SYNTH_INIT_ROPE_FREQS)
            pl->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
    }
    return EW_OK;
}

/* Decide where the vocabulary comes from: the preset's file under the shared data root
 * when readable, else a generated one. */
static ew_status plan_vocab(ew_synth *s) {
    ew_synth_plan *pl = &s->plan;
    pl->vocab_kind = s->preset.tok_generate;
    if (!s->preset.tok_file) return EW_OK;
    char dir[PATH_MAX], path[2 * PATH_MAX];
    ew_synth_shared_data_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, s->preset.tok_file);
    if (access(path, R_OK) != 0) {
        ew_log(EW_LOG_INFO, "synth: %s not found, using a generated %s vocabulary", path, pl->vocab_kind);
        return EW_OK;
    }
    char abs[PATH_MAX];
    s->vocab_file = ew_strdup(realpath(path, abs) ? abs : path);
    if (!s->vocab_file) return ew_error(EW_ERR_NOMEM, "out of memory");
    pl->vocab_file = s->vocab_file;
    return EW_OK;
}

/* Parse the preset and plan every tensor. */
ew_status ew_synth_new(const char *preset, const char *type_name, uint64_t seed, ew_synth **out) {
    *out = NULL;
    int ft = ew_ftype_from_name(type_name);
    if (ft >= 0 && !ftype_ok(ft))
        return ew_error(EW_ERR_UNSUPPORTED, "type %s cannot be written yet: no %s quantizer (valid: %s)",
                        ew_ftype_name(ft), ew_type_name(ew_ftype_default_type((ew_ftype)ft)), ew_synth_type_names());
    if (ft < 0)
        return ew_error(EW_ERR_INVALID_ARG, "unknown type '%s' (valid: %s)", type_name ? type_name : "",
                        ew_synth_type_names());
    ew_synth *s = ew_calloc(1, sizeof *s);
    if (!s) return ew_error(EW_ERR_NOMEM, "out of memory");
    s->n_threads = EW_MAX(ew_cpu_physical_cores(), 1);
    ew_status st = synth_preset_load(preset, &s->preset);
    if (st) { ew_free(s); return st; }
    ew_synth_plan *pl = &s->plan;
    pl->preset = s->preset.name;
    pl->display_name = s->preset.display_name;
    pl->arch = s->preset.arch;
    pl->ftype = ft;
    pl->ftype_name = ew_ftype_name(ft);
    pl->seed = seed;
    pl->n_params_preset = s->preset.n_params;
    if (strcmp(pl->arch, "llama") != 0)
        st = ew_error(EW_ERR_UNSUPPORTED, "preset '%s': arch '%s' is not supported by synth yet", pl->preset, pl->arch);
    if (!st) st = plan_hparams(s);
    if (!st) st = plan_llama_tensors(pl);
    if (!st) st = plan_types(s);
    if (!st) st = plan_vocab(s);
    if (st) { ew_synth_free(s); return st; }
    *out = s;
    return EW_OK;
}

/* Free the synth, its writer and its plan. */
void ew_synth_free(ew_synth *s) {
    if (!s) return;
    gguf_writer_free(s->w);
    if (s->pool) ew_pool_free(s->pool);
    ew_free(s->fills);
    ew_free(s->rope_factors);
    ew_free(s->plan.tensors);
    ew_free(s->vocab_file);
    synth_preset_clear(&s->preset);
    ew_free(s);
}

/* The plan (valid until ew_synth_free). */
const ew_synth_plan *ew_synth_get_plan(const ew_synth *s) { return &s->plan; }

/* Takes effect for pools made later (the pool is made on the first fill). */
void ew_synth_set_threads(ew_synth *s, int n_threads) { s->n_threads = n_threads > 0 ? n_threads : 1; }

/* ---- random numbers ------------------------------------------------------------------- */

/* splitmix64: a good 64-bit mix, used to seed and to hash. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct rng { uint64_t s[4]; } rng;

/* Rotate left by k (0 < k < 64). */
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256**. */
static inline uint64_t rng_next(rng *r) {
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* A generator for one row of one tensor: depends only on (seed, name, row). */
static void rng_seed_row(rng *r, uint64_t seed, uint64_t tensor_hash, uint64_t row) {
    uint64_t x = seed ^ (tensor_hash * 0xD6E8FEB86659FD93ull) ^ (row * 0x9E3779B97F4A7C15ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

/* FNV-1a of a tensor name. */
static uint64_t name_hash(const char *s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001B3ull;
    return h;
}

/* n values ~ N(0, std^2), approximated by a sum of four 16-bit uniforms (Irwin-Hall,
 * |z| < 3.47): integer arithmetic then one multiply, so identical on every platform. */
static void gen_normal(rng *r, float *x, int64_t n, float std) {
    const float scale = std / 37837.23f; /* sqrt(4 * (65536^2 - 1) / 12) */
    for (int64_t i = 0; i < n; i++) {
        uint64_t v = rng_next(r);
        int32_t s = (int32_t)(v & 0xFFFF) + (int32_t)((v >> 16) & 0xFFFF) +
                    (int32_t)((v >> 32) & 0xFFFF) + (int32_t)(v >> 48) - 131070;
        x[i] = (float)s * scale;
    }
}

/* ---- tensor data ---------------------------------------------------------------------- */

/* llama.cpp's llama3 rope factors (convert_hf_to_gguf.py LlamaModel.generate_extra_tensors):
 * 1 for short wavelengths, factor for long ones, smooth in between. */
static ew_status make_rope_factors(ew_synth *s) {
    const synth_preset *p = &s->preset;
    int dim = s->plan.head_dim, n = dim / 2;
    float base = 10000.0f;
    synth_preset_f32(p, "rope.freq_base", &base);
    s->rope_factors = ew_malloc((size_t)n * sizeof(float));
    if (!s->rope_factors) return ew_error(EW_ERR_NOMEM, "out of memory");
    double lo_wl = p->rope_orig_ctx / p->rope_low, hi_wl = p->rope_orig_ctx / p->rope_high;
    for (int i = 0; i < n; i++) {
        double freq = 1.0 / pow((double)base, (double)(2 * i) / dim);
        double wl = 2 * M_PI / freq, f;
        if (wl < hi_wl) f = 1.0;
        else if (wl > lo_wl) f = p->rope_factor;
        else {
            double smooth = (p->rope_orig_ctx / wl - p->rope_low) / (p->rope_high - p->rope_low);
            f = 1.0 / ((1 - smooth) / p->rope_factor + smooth);
        }
        s->rope_factors[i] = (float)f;
    }
    return EW_OK;
}

/* Convert a float row into dst in the given type. */
static void store_row(uint32_t type, const float *x, void *dst, int64_t n) {
    if (type == EW_TYPE_F32) {
        memcpy(dst, x, (size_t)n * sizeof(float));
    } else if (type == EW_TYPE_F16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = ew_fp32_to_fp16(x[i]);
    } else if (type == EW_TYPE_BF16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = ew_fp32_to_bf16(x[i]);
    } else {
        ew_quantize_row_ref(type, x, dst, n);
    }
}

typedef struct row_job {
    const ew_synth *s;
    const ew_synth_tensor *t;
    uint64_t hash;
    uint8_t *dst;
    size_t row_size;
    float **bufs;              /* one ne[0]-float row per thread */
} row_job;

/* Generate and store rows [start, end) of the job's tensor. */
static void fill_rows(void *ctx, int64_t start, int64_t end, int ith) {
    const row_job *j = ctx;
    const ew_synth_tensor *t = j->t;
    float *x = j->bufs[ith];
    for (int64_t r = start; r < end; r++) {
        if (t->init == EW_SYNTH_INIT_NORMAL) {
            rng g;
            rng_seed_row(&g, j->s->plan.seed, j->hash, (uint64_t)r);
            gen_normal(&g, x, t->ne[0], SYNTH_STD);
        } else if (t->init == EW_SYNTH_INIT_ONES) {
            for (int64_t i = 0; i < t->ne[0]; i++) x[i] = 1.0f;
        } else {
            memcpy(x, j->s->rope_factors, (size_t)t->ne[0] * sizeof(float));
        }
        store_row(t->type, x, j->dst + (size_t)r * j->row_size, t->ne[0]);
    }
}

/* gguf fill callback: the whole tensor, rows spread over the synth's thread pool. */
static ew_status fill_tensor(void *user, void *dst, uint64_t nbytes) {
    const fill_ctx *fc = user;
    ew_synth *s = fc->s;
    const ew_synth_tensor *t = &s->plan.tensors[fc->idx];
    if (nbytes != t->nbytes)
        return ew_error(EW_ERR_INTERNAL, "%s: writer asks for %llu bytes, plan says %llu", t->name,
                        (unsigned long long)nbytes, (unsigned long long)t->nbytes);
    ew_status st = EW_OK;
    if (!s->pool && (st = ew_pool_new(EW_MIN(s->n_threads, 256), &s->pool))) return st;
    float *bufs[256];
    int nth = EW_MIN(ew_pool_size(s->pool), (int)EW_ARRAY_LEN(bufs));
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < nth && !st; i++)
        if (!(bufs[i] = ew_malloc((size_t)t->ne[0] * sizeof(float)))) st = ew_error(EW_ERR_NOMEM, "out of memory");
    if (!st) {
        row_job job = { s, t, name_hash(t->name), dst, ew_row_size(t->type, t->ne[0]), bufs };
        int64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
        int64_t chunk = EW_MAX((int64_t)1, (int64_t)(65536 / t->ne[0]));
        ew_pool_for(s->pool, rows, chunk, fill_rows, &job);
    }
    for (int i = 0; i < nth; i++) ew_free(bufs[i]);
    return st;
}

/* ---- metadata ------------------------------------------------------------------------- */

/* general.* keys, the preset's hparams as <arch>.* keys, and edgewatt.* markers. */
static ew_status write_model_keys(ew_synth *s, gguf_writer *w) {
    const ew_synth_plan *pl = &s->plan;
    const synth_preset *p = &s->preset;
    char name[256], key[160];
    snprintf(name, sizeof name, "%s (synthetic weights)", pl->display_name);
    ew_status st;
    if ((st = gguf_set_str(w, "general.architecture", pl->arch)) || (st = gguf_set_str(w, "general.type", "model")) ||
        (st = gguf_set_str(w, "general.name", name)) ||
        (p->license && (st = gguf_set_str(w, "general.license", p->license))))
        return st;
    for (size_t i = 0; i < p->n_kv; i++) {
        snprintf(key, sizeof key, "%s.%s", pl->arch, p->kv[i].key);
        st = p->kv[i].is_float ? gguf_set_f32(w, key, p->kv[i].f) : gguf_set_u32(w, key, p->kv[i].u);
        if (st) return st;
    }
    char vocab[PATH_MAX];
    if (pl->vocab_file) snprintf(vocab, sizeof vocab, "%s", p->tok_file);
    else snprintf(vocab, sizeof vocab, "generated:%s", pl->vocab_kind);
    if ((st = gguf_set_u32(w, "general.file_type", (uint32_t)pl->ftype)) ||
        (st = gguf_set_bool(w, "edgewatt.synthetic", true)) ||
        (st = gguf_set_str(w, "edgewatt.synth.preset", pl->preset)) ||
        (st = gguf_set_u64(w, "edgewatt.synth.seed", pl->seed)) ||
        (st = gguf_set_str(w, "edgewatt.synth.vocab", vocab)))
        return st;
    return EW_OK;
}

/* Replace *dst (ew_malloc'ed, may be NULL) with a copy of src. */
static ew_status replace_str(char **dst, const char *src) {
    char *c = ew_strdup(src);
    if (!c) return ew_error(EW_ERR_NOMEM, "out of memory");
    ew_free(*dst);
    *dst = c;
    return EW_OK;
}

/* The preset's chat template: inline, or a file under the shared data root (skipped with
 * a note when absent). *out is NULL when there is none. */
static ew_status load_chat_template(const synth_preset *p, char **out) {
    *out = NULL;
    if (p->chat_template) return (*out = ew_strdup(p->chat_template)) ? EW_OK : ew_error(EW_ERR_NOMEM, "out of memory");
    if (!p->chat_template_file) return EW_OK;
    char dir[PATH_MAX], path[2 * PATH_MAX];
    ew_synth_shared_data_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, p->chat_template_file);
    if (access(path, R_OK) != 0) {
        ew_log(EW_LOG_INFO, "synth: %s not found, no chat template", path);
        return EW_OK;
    }
    size_t n;
    return ew_read_file(path, out, &n);
}

/* Set the preset's special tokens and flags on an imported vocabulary (a generated one
 * keeps its own ids, only the add_bos/add_eos flags and the template apply). */
static ew_status apply_specials(const ew_synth *s, ew_vocab_data *v) {
    const synth_preset *p = &s->preset;
    if (s->plan.vocab_file) {
        const int32_t ids[3] = { p->bos, p->eos, p->pad };
        for (int i = 0; i < 3; i++)
            if (ids[i] >= (int32_t)v->n_tokens)
                return ew_error(EW_ERR_FORMAT, "preset '%s': special token id %d is beyond the %u tokens of %s",
                                p->name, ids[i], v->n_tokens, s->plan.vocab_file);
        if (p->bos >= 0) v->bos = p->bos;
        if (p->eos >= 0) v->eos = p->eos;
        if (p->pad >= 0) v->pad = p->pad;
    }
    if (p->add_bos >= 0) v->add_bos = p->add_bos;
    if (p->add_eos >= 0) v->add_eos = p->add_eos;
    char *tmpl;
    ew_status st = load_chat_template(p, &tmpl);
    if (st || !tmpl) return st;
    st = replace_str(&v->chat_template, tmpl);
    ew_free(tmpl);
    return st;
}

/* Import or generate the vocabulary, check its size, write tokenizer.ggml.* keys. */
static ew_status write_vocab(ew_synth *s, gguf_writer *w) {
    const ew_synth_plan *pl = &s->plan;
    ew_vocab_data *v = NULL;
    ew_status st = pl->vocab_file ? ew_vocab_import(pl->vocab_file, s->preset.tok_pre, &v)
                                  : ew_vocab_generate(pl->vocab_kind, (uint32_t)pl->n_vocab, SYNTH_VOCAB_SEED, &v);
    if (st) return ew_error_prefix(st, "preset '%s': vocabulary", pl->preset);
    if (v->n_tokens != (uint32_t)pl->n_vocab)
        st = ew_error(EW_ERR_FORMAT, "preset '%s': vocabulary %s has %u tokens, vocab_size is %d", pl->preset,
                      pl->vocab_file ? pl->vocab_file : "(generated)", v->n_tokens, pl->n_vocab);
    if (!st) st = apply_specials(s, v);
    if (!st) st = ew_vocab_write_gguf(v, w);
    ew_vocab_data_free(v);
    return st;
}

/* Add every planned tensor with its fill callback. */
static ew_status add_tensors(ew_synth *s, gguf_writer *w) {
    const ew_synth_plan *pl = &s->plan;
    s->fills = ew_calloc(pl->n_tensors, sizeof *s->fills);
    if (!s->fills) return ew_error(EW_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < pl->n_tensors; i++) {
        const ew_synth_tensor *t = &pl->tensors[i];
        s->fills[i] = (fill_ctx){ s, i };
        ew_status st = gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, NULL, fill_tensor, &s->fills[i]);
        if (st) return st;
    }
    return EW_OK;
}

/* Build the writer once: metadata, vocabulary, quantization version, tensors. */
ew_status ew_synth_writer(ew_synth *s, gguf_writer **out) {
    *out = NULL;
    if (!s->w) {
        gguf_writer *w = gguf_writer_new();
        if (!w) return ew_error(EW_ERR_NOMEM, "out of memory");
        ew_status st = write_model_keys(s, w);
        if (!st) st = write_vocab(s, w);
        if (!st) st = gguf_set_u32(w, "general.quantization_version", 2);
        if (!st && s->plan.rope_freqs) st = make_rope_factors(s);
        if (!st) st = add_tensors(s, w);
        if (st) {
            gguf_writer_free(w);
            ew_free(s->fills);
            s->fills = NULL;
            return st;
        }
        s->w = w;
    }
    *out = s->w;
    return EW_OK;
}

/* Write the synthetic model to a GGUF file. */
ew_status ew_synth_write_file(ew_synth *s, const char *path) {
    gguf_writer *w;
    ew_status st = ew_synth_writer(s, &w);
    return st ? st : gguf_writer_write(w, path);
}

/* Write the synthetic model to a fresh buffer. */
ew_status ew_synth_write_mem(ew_synth *s, void **data, size_t *size) {
    gguf_writer *w;
    *data = NULL;
    *size = 0;
    ew_status st = ew_synth_writer(s, &w);
    return st ? st : gguf_writer_write_mem(w, data, size);
}

/* Write to memory and hand the image to the model loader (which then owns it). */
ew_status ew_synth_load(ew_synth *s, const ew_model_params *params, ew_model **out) {
    void *data;
    size_t size;
    *out = NULL;
    ew_status st = ew_synth_write_mem(s, &data, &size);
    if (st) return st;
    char name[160];
    snprintf(name, sizeof name, "synth:%s:%s", s->plan.preset, s->plan.ftype_name);
    return ew_model_load_memory(data, size, true, name, params, out);
}
