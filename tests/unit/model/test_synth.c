/*
 * test_synth.c - synthetic models: every preset's plan (shapes, parameter counts, the
 * llama-quantize type mixture per tensor for F16/Q8_0/Q4_0/Q4_K_M), a full write of
 * smollm2-135m to memory re-read with the GGUF reader (metadata, vocabulary from ../shared,
 * tensor infos, values), determinism (same seed -> same bytes, for any thread count;
 * different seed -> different bytes), a tiny preset from a temporary data dir (llama3
 * rope_freqs values, generated vocabulary), the ftype rules, error messages, and that our
 * own loader runs the result with finite logits.
 */
#include "test.h"
#include "model/synth.h"
#include "model/ftype.h"
#include "quant/quant.h"
#include "edgewatt.h"

#include <unistd.h>

static const char *const PRESETS[] = { "smollm2-135m", "smollm2-360m", "llama-3.2-1b", "tinyllama-1.1b" };
/* Parameter counts: HF config shapes (checked against safetensors sizes, see presets.json). */
static const uint64_t PARAMS[] = { 134515008ull, 361821120ull, 1235814400ull, 1100048384ull };
static const char *const TYPES[] = { "F16", "Q8_0", "Q4_0", "Q4_K_M" };

/* llama.cpp's use_more_bits, restated. */
static bool more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* The planned tensor called name, or NULL. */
static const ew_synth_tensor *find_t(const ew_synth_plan *pl, const char *name) {
    for (uint32_t i = 0; i < pl->n_tensors; i++)
        if (!strcmp(pl->tensors[i].name, name)) return &pl->tensors[i];
    return NULL;
}

/* Type of blk.<il>.<part>.weight (or of a top-level name when il < 0); -1 if absent. */
static int type_of(const ew_synth_plan *pl, int il, const char *part) {
    char name[96];
    if (il < 0) snprintf(name, sizeof name, "%s", part);
    else snprintf(name, sizeof name, "blk.%d.%s.weight", il, part);
    const ew_synth_tensor *t = find_t(pl, name);
    return t ? (int)t->type : -1;
}

/* ---- plans ---------------------------------------------------------------------------- */

/* Shapes and counts that hold for every preset and type. */
static void check_plan_common(const ew_synth_plan *pl, uint64_t params) {
    CHECKF(pl->n_params == params, "%s: %llu params, expected %llu", pl->preset,
           (unsigned long long)pl->n_params, (unsigned long long)params);
    CHECK(pl->n_params_preset == params);
    uint32_t n = 2 + 9u * (uint32_t)pl->n_layer + (pl->tied_embeddings ? 0 : 1) + (pl->rope_freqs ? 1 : 0);
    CHECKF(pl->n_tensors == n, "%s: %u tensors, expected %u", pl->preset, pl->n_tensors, n);
    const ew_synth_tensor *te = find_t(pl, "token_embd.weight");
    CHECK(te && te->n_dims == 2 && te->ne[0] == pl->n_embd && te->ne[1] == pl->n_vocab);
    CHECK((find_t(pl, "output.weight") == NULL) == pl->tied_embeddings);
    int64_t q = (int64_t)pl->n_head * pl->head_dim, kv = (int64_t)pl->n_head_kv * pl->head_dim;
    for (int il = 0; il < pl->n_layer; il++) {
        char nm[64];
        snprintf(nm, sizeof nm, "blk.%d.attn_k.weight", il);
        const ew_synth_tensor *k = find_t(pl, nm);
        CHECK(k && k->ne[0] == pl->n_embd && k->ne[1] == kv);
        snprintf(nm, sizeof nm, "blk.%d.attn_output.weight", il);
        const ew_synth_tensor *o = find_t(pl, nm);
        CHECK(o && o->ne[0] == q && o->ne[1] == pl->n_embd);
        snprintf(nm, sizeof nm, "blk.%d.ffn_down.weight", il);
        const ew_synth_tensor *d = find_t(pl, nm);
        CHECK(d && d->ne[0] == pl->n_ff && d->ne[1] == pl->n_embd);
        snprintf(nm, sizeof nm, "blk.%d.ffn_norm.weight", il);
        const ew_synth_tensor *fn = find_t(pl, nm);
        CHECK(fn && fn->n_dims == 1 && fn->type == EW_TYPE_F32 && fn->init == EW_SYNTH_INIT_ONES);
    }
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < pl->n_tensors; i++) bytes += pl->tensors[i].nbytes;
    CHECK(bytes == pl->data_bytes);
}

/* The expected type of each 2-D weight in a plan, per llama-quantize. */
static void check_mixture(const ew_synth_plan *pl) {
    const char *ft = pl->ftype_name;
    bool smol = pl->n_embd % 256 != 0; /* SmolLM2's 576 / 960: K-quant rows fall back */
    int n = pl->n_layer;
    uint32_t base = !strcmp(ft, "F16") ? EW_TYPE_F16 : !strcmp(ft, "Q8_0") ? EW_TYPE_Q8_0
                  : !strcmp(ft, "Q4_0") ? EW_TYPE_Q4_0 : EW_TYPE_Q4_K;
    bool kq = base == EW_TYPE_Q4_K, plain = base == EW_TYPE_F16 || base == EW_TYPE_Q8_0;
    uint32_t fb = kq && smol ? EW_TYPE_Q5_0 : base; /* Q4_K -> Q5_0 fallback */
    /* output, or the tied token_embd: Q6_K (Q8_0 when the row does not fit) */
    uint32_t out_t = plain ? base : smol ? EW_TYPE_Q8_0 : EW_TYPE_Q6_K;
    if (pl->tied_embeddings) CHECKF(type_of(pl, -1, "token_embd.weight") == (int)out_t, "%s %s token_embd %s",
                                    pl->preset, ft, ew_type_name((uint32_t)type_of(pl, -1, "token_embd.weight")));
    else {
        CHECK(type_of(pl, -1, "output.weight") == (int)out_t);
        CHECK(type_of(pl, -1, "token_embd.weight") == (int)base);
    }
    CHECK(type_of(pl, -1, "output_norm.weight") == EW_TYPE_F32);
    for (int il = 0; il < n; il++) {
        bool mb = kq && more_bits(il, n);
        uint32_t v = mb ? (smol ? EW_TYPE_Q8_0 : EW_TYPE_Q6_K) : fb;
        uint32_t down = mb ? EW_TYPE_Q6_K : base; /* ffn_down rows (n_ff) fit 256 in every preset */
        CHECKF(type_of(pl, il, "attn_v") == (int)v, "%s %s blk.%d.attn_v: %s", pl->preset, ft, il,
               ew_type_name((uint32_t)type_of(pl, il, "attn_v")));
        CHECKF(type_of(pl, il, "ffn_down") == (int)down, "%s %s blk.%d.ffn_down: %s", pl->preset, ft, il,
               ew_type_name((uint32_t)type_of(pl, il, "ffn_down")));
        CHECK(type_of(pl, il, "attn_q") == (int)fb && type_of(pl, il, "attn_k") == (int)fb);
        CHECK(type_of(pl, il, "attn_output") == (int)fb && type_of(pl, il, "ffn_gate") == (int)fb);
        CHECK(type_of(pl, il, "ffn_up") == (int)fb && type_of(pl, il, "attn_norm") == EW_TYPE_F32);
    }
}

/* Every preset x type: plan only (no data). */
static void test_plans(void) {
    for (size_t p = 0; p < EW_ARRAY_LEN(PRESETS); p++)
        for (size_t t = 0; t < EW_ARRAY_LEN(TYPES); t++) {
            ew_synth *s = NULL;
            CHECK_OK(ew_synth_new(PRESETS[p], TYPES[t], 7, &s));
            if (!s) continue;
            const ew_synth_plan *pl = ew_synth_get_plan(s);
            check_plan_common(pl, PARAMS[p]);
            check_mixture(pl);
            ew_synth_free(s);
        }
}

/* Figures of the presets that the issue names, and llama3 rope for Llama 3.2. */
static void test_preset_figures(void) {
    ew_synth *s = NULL;
    CHECK_OK(ew_synth_new("smollm2-135m", "Q4_K_M", 1, &s));
    if (s) {
        const ew_synth_plan *pl = ew_synth_get_plan(s);
        CHECK(pl->n_embd == 576 && pl->n_layer == 30 && pl->n_head == 9 && pl->n_head_kv == 3);
        CHECK(pl->n_ff == 1536 && pl->n_vocab == 49152 && pl->tied_embeddings && pl->n_ctx_train == 8192);
        CHECK(pl->head_dim == 64 && !pl->rope_freqs && pl->ftype == 15);
        /* attn_q: 576 % 256 != 0 -> Q4_K falls back to Q5_0 */
        CHECK(type_of(pl, 0, "attn_q") == EW_TYPE_Q5_0);
        CHECK(find_t(pl, "blk.0.attn_q.weight")->fallback);
        ew_synth_free(s);
    }
    CHECK_OK(ew_synth_new("llama-3.2-1b", "Q8_0", 1, &s));
    if (s) {
        const ew_synth_plan *pl = ew_synth_get_plan(s);
        CHECK(pl->rope_freqs && pl->n_ctx_train == 131072 && pl->n_head_kv == 8 && pl->n_vocab == 128256);
        const ew_synth_tensor *rf = find_t(pl, "rope_freqs.weight");
        CHECK(rf && rf->n_dims == 1 && rf->ne[0] == 32 && rf->type == EW_TYPE_F32);
        CHECK(pl->ftype == 7);
        ew_synth_free(s);
    }
    CHECK_OK(ew_synth_new("tinyllama-1.1b", "F16", 1, &s));
    if (s) {
        const ew_synth_plan *pl = ew_synth_get_plan(s);
        CHECK(!pl->tied_embeddings && pl->n_layer == 22 && pl->n_head_kv == 4 && pl->n_ff == 5632);
        CHECK(pl->vocab_file == NULL && !strcmp(pl->vocab_kind, "llama") && pl->ftype == 1);
        ew_synth_free(s);
    }
}

/* ---- written files -------------------------------------------------------------------- */

/* Write a preset to memory; NULL on failure. */
static void *write_mem(const char *preset, const char *type, uint64_t seed, int threads, size_t *size) {
    ew_synth *s = NULL;
    void *data = NULL;
    *size = 0;
    CHECK_OK(ew_synth_new(preset, type, seed, &s));
    if (!s) return NULL;
    if (threads) ew_synth_set_threads(s, threads);
    CHECK_OK(ew_synth_write_mem(s, &data, size));
    ew_synth_free(s);
    return data;
}

/* Tensor infos of the file equal the plan. */
static void check_tensors(const gguf_file *f, const ew_synth_plan *pl) {
    CHECK(f->n_tensors == pl->n_tensors);
    for (uint32_t i = 0; i < pl->n_tensors && i < f->n_tensors; i++) {
        const ew_synth_tensor *t = &pl->tensors[i];
        const gguf_tensor *g = &f->tensors[i];
        CHECKF(gguf_str_eq(g->name, t->name), "tensor %u: %.*s vs %s", i, (int)g->name.len, g->name.ptr, t->name);
        CHECK(g->type == t->type && g->n_dims == t->n_dims && g->nbytes == t->nbytes);
        for (int d = 0; d < GGUF_MAX_DIMS; d++) CHECK(g->ne[d] == t->ne[d]);
    }
}

/* Mean and std of the first rows of a tensor (dequantized); all values finite. */
static void check_values(const gguf_file *f, const char *name, double want_mean, double want_std) {
    int64_t ti = gguf_find_tensor(f, name);
    CHECK(ti >= 0);
    if (ti < 0) return;
    const gguf_tensor *t = &f->tensors[ti];
    int64_t n = t->ne[0], rows = EW_MIN(t->ne[1], (int64_t)64);
    float *x = malloc((size_t)n * sizeof *x);
    double s = 0, s2 = 0;
    bool finite = true;
    size_t rs = ew_row_size(t->type, n);
    for (int64_t r = 0; r < rows; r++) {
        ew_dequantize_row_ref(t->type, (const uint8_t *)t->data + r * rs, x, n);
        for (int64_t i = 0; i < n; i++) { s += x[i]; s2 += (double)x[i] * x[i]; finite &= isfinite(x[i]) != 0; }
    }
    free(x);
    double cnt = (double)(n * rows), mean = s / cnt, sd = sqrt(s2 / cnt - mean * mean);
    CHECK(finite);
    CHECKF(fabs(mean - want_mean) < 0.002 + want_std * 0.05, "%s mean %g", name, mean);
    CHECKF(fabs(sd - want_std) < 0.002 + want_std * 0.05, "%s std %g (want %g)", name, sd, want_std);
}

/* Metadata of smollm2-135m: model keys, markers, vocabulary. */
static void check_metadata(const gguf_file *f, int ftype, uint64_t seed) {
    gguf_str s;
    uint32_t u;
    float fl;
    bool b;
    uint64_t u64;
    CHECK_OK(gguf_get_str(f, "general.architecture", &s));
    CHECK(gguf_str_eq(s, "llama"));
    CHECK_OK(gguf_get_str(f, "general.name", &s));
    CHECK(gguf_str_eq(s, "SmolLM2 135M (synthetic weights)"));
    CHECK(gguf_get_u32(f, "general.file_type", &u) == EW_OK && u == (uint32_t)ftype);
    CHECK(gguf_get_u32(f, "general.quantization_version", &u) == EW_OK && u == 2);
    CHECK(gguf_get_u32(f, "llama.embedding_length", &u) == EW_OK && u == 576);
    CHECK(gguf_get_u32(f, "llama.block_count", &u) == EW_OK && u == 30);
    CHECK(gguf_get_u32(f, "llama.context_length", &u) == EW_OK && u == 8192);
    CHECK(gguf_get_u32(f, "llama.attention.head_count_kv", &u) == EW_OK && u == 3);
    CHECK(gguf_get_u32(f, "llama.vocab_size", &u) == EW_OK && u == 49152);
    CHECK(gguf_get_f32(f, "llama.rope.freq_base", &fl) == EW_OK && fl == 100000.0f);
    CHECK(gguf_get_f32(f, "llama.attention.layer_norm_rms_epsilon", &fl) == EW_OK && fl == 1e-5f);
    CHECK(gguf_get_bool(f, "edgewatt.synthetic", &b) == EW_OK && b);
    CHECK(gguf_get_u64(f, "edgewatt.synth.seed", &u64) == EW_OK && u64 == seed);
    const gguf_value *toks = NULL;
    CHECK_OK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &toks));
    CHECK(toks && toks->v.arr.n == 49152);
    if (!ew_test_shared("data/tokenizers/smollm2-135m-instruct/tokenizer.json")) {
        printf("note: ../shared absent, vocabulary was generated\n");
        return;
    }
    /* the real SmolLM2 vocabulary from ../shared */
    CHECK_OK(gguf_get_str(f, "edgewatt.synth.vocab", &s));
    CHECK(gguf_str_eq(s, "tokenizers/smollm2-135m-instruct/tokenizer.json"));
    CHECK(gguf_get_str(f, "tokenizer.ggml.model", &s) == EW_OK && gguf_str_eq(s, "gpt2"));
    CHECK(gguf_get_str(f, "tokenizer.ggml.pre", &s) == EW_OK && gguf_str_eq(s, "smollm"));
    if (toks && toks->v.arr.n > 2) {
        CHECK(gguf_str_eq(toks->v.arr.strs[0], "<|endoftext|>"));
        CHECK(gguf_str_eq(toks->v.arr.strs[1], "<|im_start|>"));
        CHECK(gguf_str_eq(toks->v.arr.strs[2], "<|im_end|>"));
    }
    CHECK(gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &u) == EW_OK && u == 1);
    CHECK(gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &u) == EW_OK && u == 2);
    CHECK(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) == EW_OK && !b);
    CHECK(gguf_get_str(f, "tokenizer.chat_template", &s) == EW_OK && s.len > 50);
}

/* Load with our own loader and run a few tokens: logits finite. */
static void check_runs(void *data, size_t size, const char *name) {
    ew_model *m = NULL;
    ew_model_params mp = ew_model_default_params();
    mp.n_threads = 4;
    CHECK_OK(ew_model_load_memory(data, size, false, name, &mp, &m));
    if (!m) return;
    ew_session *ss = NULL;
    ew_session_params sp = ew_session_default_params();
    sp.n_ctx = 64;
    CHECK_OK(ew_session_new(m, &sp, &ss));
    int32_t ids[128];
    size_t n = 0;
    const char *text = "The quick brown fox jumps over the lazy dog.";
    CHECK_OK(ew_tokenize(m, text, strlen(text), true, false, ids, 128, &n));
    if (ss && n > 0 && n <= 128) {
        CHECK_OK(ew_session_eval(ss, ids, (int)n, false));
        const float *lg = ew_session_logits(ss, -1);
        bool finite = lg != NULL;
        for (int i = 0; lg && i < ew_n_vocab(m); i++) finite &= isfinite(lg[i]) != 0;
        CHECKF(finite, "%s: logits not finite", name);
    }
    ew_session_free(ss);
    ew_model_free(m);
}

/* smollm2-135m in four types: re-read, compare with the plan, metadata, values, run. */
static void test_write_smollm(void) {
    for (size_t t = 0; t < EW_ARRAY_LEN(TYPES); t++) {
        ew_synth *s = NULL;
        CHECK_OK(ew_synth_new("smollm2-135m", TYPES[t], 42, &s));
        if (!s) continue;
        void *data = NULL;
        size_t size = 0;
        CHECK_OK(ew_synth_write_mem(s, &data, &size));
        gguf_file *f = NULL;
        if (data) CHECK_OK(gguf_open_memory(data, size, false, "synth", &f));
        if (f) {
            const ew_synth_plan *pl = ew_synth_get_plan(s);
            CHECK(size > pl->data_bytes && size < pl->data_bytes + 8u * 1024 * 1024);
            check_tensors(f, pl);
            check_metadata(f, pl->ftype, 42);
            check_values(f, "token_embd.weight", 0.0, 0.02);
            check_values(f, "blk.7.ffn_down.weight", 0.0, 0.02);
            check_values(f, "output_norm.weight", 1.0, 0.0);
            gguf_close(f);
            if (t == 1) check_runs(data, size, "smollm2-135m Q8_0");
        }
        ew_free(data);
        ew_synth_free(s);
    }
}

/* Same seed -> same bytes (any thread count); another seed -> other weights. */
static void test_determinism(void) {
    size_t n1, n2, n3;
    void *a = write_mem("smollm2-135m", "Q4_0", 5, 1, &n1);
    void *b = write_mem("smollm2-135m", "Q4_0", 5, 6, &n2);
    void *c = write_mem("smollm2-135m", "Q4_0", 6, 0, &n3);
    CHECK(a && b && c);
    if (a && b) CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
    if (a && c) {
        CHECK(n1 == n3);
        CHECK(n1 != n3 || memcmp(a, c, n1) != 0);
        /* only the seed key and the weights differ: the first tensor bytes must differ */
        gguf_file *fa = NULL, *fc = NULL;
        CHECK_OK(gguf_open_memory(a, n1, false, "a", &fa));
        CHECK_OK(gguf_open_memory(c, n3, false, "c", &fc));
        if (fa && fc) {
            int64_t ia = gguf_find_tensor(fa, "blk.0.attn_q.weight"), ic = gguf_find_tensor(fc, "blk.0.attn_q.weight");
            CHECK(ia >= 0 && ic >= 0);
            if (ia >= 0 && ic >= 0)
                CHECK(memcmp(fa->tensors[ia].data, fc->tensors[ic].data, fa->tensors[ia].nbytes) != 0);
        }
        gguf_close(fa);
        gguf_close(fc);
    }
    ew_free(a);
    ew_free(b);
    ew_free(c);
}

/* ---- a tiny preset in a temporary data dir -------------------------------------------- */

static const char TINY_JSON[] =
    "{\"presets\": [{\"name\": \"tiny\", \"display_name\": \"Tiny\", \"arch\": \"llama\",\n"
    " \"hparams\": {\"source\": \"test\", \"context_length\": 256, \"embedding_length\": 64,\n"
    "   \"block_count\": 3, \"feed_forward_length\": 128, \"attention.head_count\": 4,\n"
    "   \"attention.head_count_kv\": 2, \"rope.dimension_count\": 16, \"rope.freq_base\": 10000,\n"
    "   \"attention.layer_norm_rms_epsilon\": 1e-5, \"vocab_size\": 300},\n"
    " \"rope_scaling\": {\"source\": \"test\", \"type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1,\n"
    "   \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64},\n"
    " \"weights\": {\"source\": \"test\", \"tie_word_embeddings\": true},\n"
    " \"tokenizer\": {\"source\": \"test\", \"generate\": \"gpt2\", \"add_bos\": true,\n"
    "   \"chat_template_file\": \"no/such/template.jinja\"}},\n"
    " {\"name\": \"nosource\", \"display_name\": \"X\", \"arch\": \"llama\", \"hparams\": {\"vocab_size\": 3}}]}\n";

/* llama3 rope factors, restated from convert_hf_to_gguf.py. */
static double rope_factor(int i, int dim, double base, double factor, double lo, double hi, double old) {
    double freq = 1.0 / pow(base, 2.0 * i / dim), wl = 2 * M_PI / freq;
    if (wl < old / hi) return 1;
    if (wl > old / lo) return factor;
    double sm = (old / wl - lo) / (hi - lo);
    return 1 / ((1 - sm) / factor + sm);
}

static void test_tiny_preset(void) {
    char dir[] = "/tmp/ew_synth_test_XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0); return; }
    char path[256];
    snprintf(path, sizeof path, "%s/presets.json", dir);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(TINY_JSON, fp);
    fclose(fp);
    const char *old = getenv("EW_DATA_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("EW_DATA_DIR", dir, 1);

    ew_synth *s = NULL;
    CHECK(ew_synth_new("nosource", "Q8_0", 1, &s) == EW_ERR_FORMAT);
    CHECKF(strstr(ew_last_error(), "source") != NULL, "%s", ew_last_error());
    CHECK_OK(ew_synth_new("tiny", "Q4_K_M", 3, &s));
    if (s) {
        const ew_synth_plan *pl = ew_synth_get_plan(s);
        CHECK(pl->rope_freqs && pl->head_dim == 16 && pl->n_fallback > 0 && pl->vocab_file == NULL);
        CHECK(type_of(pl, 1, "attn_q") == EW_TYPE_Q5_0);
        void *data = NULL;
        size_t size = 0;
        CHECK_OK(ew_synth_write_mem(s, &data, &size));
        gguf_file *f = NULL;
        if (data) CHECK_OK(gguf_open_memory(data, size, false, "tiny", &f));
        if (f) {
            int64_t ti = gguf_find_tensor(f, "rope_freqs.weight");
            CHECK(ti >= 0 && f->tensors[ti].ne[0] == 8);
            for (int i = 0; ti >= 0 && i < 8; i++) {
                float got;
                memcpy(&got, (const uint8_t *)f->tensors[ti].data + 4 * i, 4);
                CHECK_NEAR(got, rope_factor(i, 16, 10000, 8, 1, 4, 64), 1e-5);
            }
            const gguf_value *toks = NULL;
            CHECK_OK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &toks));
            CHECK(toks && toks->v.arr.n == 300);
            gguf_str vs;
            CHECK(gguf_get_str(f, "edgewatt.synth.vocab", &vs) == EW_OK && gguf_str_eq(vs, "generated:gpt2"));
            CHECK(gguf_find_key(f, "tokenizer.chat_template") < 0);
            gguf_close(f);
            check_runs(data, size, "tiny");
        }
        ew_free(data);
        /* straight into a model, as bench --like does */
        ew_model *m = NULL;
        ew_model_params mp = ew_model_default_params();
        mp.n_threads = 2;
        CHECK_OK(ew_synth_load(s, &mp, &m));
        if (m) {
            ew_model_info info;
            ew_model_get_info(m, &info);
            CHECK(info.n_layer == 3 && info.n_embd == 64 && info.n_vocab == 300 && info.head_dim == 16);
            CHECK(!strcmp(info.arch, "llama"));
            ew_model_free(m);
        }
        ew_synth_free(s);
    }
    if (saved) { setenv("EW_DATA_DIR", saved, 1); free(saved); }
    else unsetenv("EW_DATA_DIR");
    unlink(path);
    rmdir(dir);
}

/* ---- ftype rules and errors ----------------------------------------------------------- */

static void test_ftype_rules(void) {
    CHECK(ew_ftype_from_name("q4_k_m") == EW_FTYPE_MOSTLY_Q4_K_M && ew_ftype_from_name("Q4_K") < 0);
    CHECK(!strcmp(ew_ftype_name(EW_FTYPE_MOSTLY_Q8_0), "Q8_0") && ew_ftype_name(4) == NULL);
    int64_t ne[2] = { 8192, 1024 }, ne_odd[2] = { 8192 + 32, 1024 };
    /* a Llama-2-70B-like model: attn_v gets Q5_K in Q4_K_M layers without more bits */
    ew_ftype_model m70 = { "llama", 80, 64, 8, 0, true };
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q4_K_M, &m70, "blk.20.attn_v.weight", 2, ne, EW_TYPE_F16, NULL) == EW_TYPE_Q5_K);
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q4_K_M, &m70, "blk.0.attn_v.weight", 2, ne, EW_TYPE_F16, NULL) == EW_TYPE_Q6_K);
    ew_ftype_model m = { "llama", 32, 32, 8, 0, true };
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q3_K_M, &m, "blk.1.attn_v.weight", 2, ne, EW_TYPE_F16, NULL) == EW_TYPE_Q5_K);
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q3_K_M, &m, "blk.9.attn_output.weight", 2, ne, EW_TYPE_F16, NULL) == EW_TYPE_Q4_K);
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q4_K_S, &m, "blk.3.attn_v.weight", 2, ne, EW_TYPE_F16, NULL) == EW_TYPE_Q5_K);
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q5_K_M, &m, "output.weight", 2, ne, EW_TYPE_F16, NULL) == EW_TYPE_Q6_K);
    bool fb = false;
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q5_K_M, &m, "blk.9.ffn_up.weight", 2, ne_odd, EW_TYPE_F16, &fb) == EW_TYPE_Q5_1 && fb);
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q4_K_M, &m, "blk.9.ffn_norm.weight", 1, ne, EW_TYPE_F32, NULL) == EW_TYPE_F32);
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_Q8_0, &m, "token_embd.weight", 2, ne, EW_TYPE_F16, NULL) == EW_TYPE_Q8_0);
    CHECK(ew_ftype_tensor_type(EW_FTYPE_MOSTLY_BF16, &m, "blk.0.attn_q.weight", 2, ne, EW_TYPE_F32, NULL) == EW_TYPE_BF16);
}

static void test_errors(void) {
    ew_synth *s = NULL;
    CHECK(ew_synth_new("gpt-5", "Q8_0", 1, &s) == EW_ERR_NOT_FOUND && s == NULL);
    CHECKF(strstr(ew_last_error(), "smollm2-135m") && strstr(ew_last_error(), "tinyllama-1.1b"), "%s", ew_last_error());
    CHECK(ew_synth_new("smollm2-135m", "Q4_K_XL", 1, &s) == EW_ERR_INVALID_ARG && s == NULL);
    CHECKF(strstr(ew_last_error(), "Q4_K_M") != NULL, "%s", ew_last_error());
    ew_synth_preset_info *list = NULL;
    size_t n = 0;
    CHECK_OK(ew_synth_list(&list, &n));
    CHECK(n >= 4);
    for (size_t i = 0; i < n && i < EW_ARRAY_LEN(PRESETS); i++) CHECK(!strcmp(list[i].name, PRESETS[i]));
    ew_synth_list_free(list, n);
}

int main(void) {
    char path[4096];
    if (ew_synth_presets_path(path, sizeof path) != EW_OK) EW_TEST_SKIP("data/presets.json not found");
    test_ftype_rules();
    test_errors();
    test_plans();
    test_preset_figures();
    test_tiny_preset();
    test_write_smollm();
    test_determinism();
    return ew_test_end();
}
