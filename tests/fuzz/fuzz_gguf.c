/*
 * fuzz_gguf.c - libFuzzer target for the GGUF reader (and, by round trip, the writer).
 *
 * Each input is parsed with gguf_open_memory. On success every key, value, array element
 * and tensor is walked and every getter called; then the file is re-encoded with the writer
 * and parsed again, and the two must agree. Any invariant violation traps.
 *
 * Seeds: with EW_FUZZ_WRITE_SEEDS=<dir> the target writes a few valid images into <dir>
 * and exits (tests/fuzz/run.sh does this before fuzzing).
 */
#include "gguf/gguf.h"
#include "quant/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "fuzz_gguf: invariant failed: %s (line %d)\n", #c, __LINE__); __builtin_trap(); } } while (0)

static volatile uint64_t g_sink; /* keeps the reads from being optimised away */

/* True if p[0..n) lies inside the image of f. */
static bool inside(const gguf_file *f, const void *p, uint64_t n) {
    const uint8_t *b = p;
    return b >= f->base && (uint64_t)(b - f->base) <= f->size && n <= f->size - (uint64_t)(b - f->base);
}

/* Touch every byte a value refers to; check strings and arrays point into the image. */
static void walk_value(const gguf_file *f, const gguf_value *v, int depth) {
    REQUIRE(depth <= GGUF_MAX_NESTING);
    if (v->type == GGUF_TYPE_STRING) {
        REQUIRE(inside(f, v->v.str.ptr, v->v.str.len));
        for (uint64_t i = 0; i < v->v.str.len; i++) g_sink += (uint8_t)v->v.str.ptr[i];
        return;
    }
    if (v->type != GGUF_TYPE_ARRAY) {
        g_sink += v->v.u;
        return;
    }
    const uint64_t n = v->v.arr.n;
    if (v->v.arr.type == GGUF_TYPE_STRING) {
        for (uint64_t i = 0; i < n; i++) {
            REQUIRE(inside(f, v->v.arr.strs[i].ptr, v->v.arr.strs[i].len));
            if (v->v.arr.strs[i].len) g_sink += (uint8_t)v->v.arr.strs[i].ptr[v->v.arr.strs[i].len - 1];
        }
    } else if (v->v.arr.type == GGUF_TYPE_ARRAY) {
        for (uint64_t i = 0; i < n; i++) {
            REQUIRE(v->v.arr.vals[i].type == GGUF_TYPE_ARRAY);
            walk_value(f, &v->v.arr.vals[i], depth + 1);
        }
    } else {
        for (uint64_t i = 0; i < n; i++) {
            float x = gguf_arr_f32(v, i);
            g_sink += (uint64_t)gguf_arr_i64(v, i) + (x == x);
        }
        g_sink += (uint64_t)gguf_arr_i64(v, n); /* out of range: must be harmless */
    }
}

/* Call every getter on key k (a C string). */
static void call_getters(const gguf_file *f, const char *k) {
    uint32_t u32; int32_t i32; uint64_t u64; float f32; bool b; gguf_str s; const gguf_value *v;
    g_sink += gguf_get_u32(f, k, &u32) + gguf_get_i32(f, k, &i32) + gguf_get_u64(f, k, &u64) +
              gguf_get_f32(f, k, &f32) + gguf_get_bool(f, k, &b) + gguf_get_str(f, k, &s);
    for (int t = 0; t <= GGUF_TYPE_COUNT; t++) g_sink += gguf_get_arr(f, k, (gguf_type)t, &v);
}

/* Walk everything in f; returns false if a key is not findable by name (cannot happen). */
static void walk_file(const gguf_file *f) {
    char *buf = malloc(65536 + 1);
    REQUIRE(buf);
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_kv *kv = &f->kv[i];
        REQUIRE(kv->key.len > 0 && kv->key.len <= 65535 && inside(f, kv->key.ptr, kv->key.len));
        REQUIRE(gguf_utf8_valid(kv->key.ptr, kv->key.len));
        memcpy(buf, kv->key.ptr, kv->key.len);
        buf[kv->key.len] = 0;
        REQUIRE(gguf_find_key(f, buf) == (int64_t)i);
        call_getters(f, buf);
        walk_value(f, &kv->val, 0);
    }
    REQUIRE(f->alignment && !(f->alignment & (f->alignment - 1)) && f->data_offset <= f->size);
    REQUIRE(f->n_tensors == 0 || f->data_offset % f->alignment == 0);
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        REQUIRE(t->n_dims >= 1 && t->n_dims <= GGUF_MAX_DIMS && t->offset % f->alignment == 0);
        REQUIRE(inside(f, t->data, t->nbytes) && ew_type_get(t->type) != NULL);
        if (t->nbytes) g_sink += ((const uint8_t *)t->data)[0] + ((const uint8_t *)t->data)[t->nbytes - 1];
        if (t->name.len <= 65536 && !memchr(t->name.ptr, 0, t->name.len)) {
            memcpy(buf, t->name.ptr, t->name.len);
            buf[t->name.len] = 0;
            REQUIRE(gguf_find_tensor(f, buf) == (int64_t)i);
        }
    }
    free(buf);
}

/* Copy f into a writer (false if the writer refuses something, e.g. a long tensor name). */
static bool copy_to_writer(const gguf_file *f, gguf_writer *w) {
    char key[65536 + 1];
    for (uint64_t i = 0; i < f->n_kv; i++) {
        memcpy(key, f->kv[i].key.ptr, f->kv[i].key.len);
        key[f->kv[i].key.len] = 0;
        if (gguf_set_value(w, key, &f->kv[i].val) != EW_OK) return false;
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        if (t->name.len >= 64 || memchr(t->name.ptr, 0, t->name.len)) return false;
        memcpy(key, t->name.ptr, t->name.len);
        key[t->name.len] = 0;
        if (gguf_add_tensor(w, key, t->type, t->n_dims, t->ne, t->data, NULL, NULL) != EW_OK) return false;
    }
    return true;
}

/* Re-encode f and parse the result: it must parse and hold the same keys and tensors.
 * Skipped for alignments above 1 MiB: the output is padded to the alignment, and a tiny input
 * can ask for 2^62 (valid, but not worth gigabytes per run). */
static void round_trip(const gguf_file *f) {
    if (f->alignment > (1u << 20)) return;
    gguf_writer *w = gguf_writer_new();
    void *img = NULL;
    size_t n = 0;
    if (w && copy_to_writer(f, w) && gguf_writer_write_mem(w, &img, &n) == EW_OK) {
        gguf_file *g = NULL;
        ew_status st = gguf_open_memory(img, n, true, "roundtrip.gguf", &g);
        if (st) fprintf(stderr, "re-read failed: %s\n", ew_last_error());
        REQUIRE(st == EW_OK);
        REQUIRE(g->n_kv == f->n_kv && g->n_tensors == f->n_tensors && g->alignment == f->alignment);
        for (uint64_t i = 0; i < f->n_kv; i++) {
            REQUIRE(g->kv[i].key.len == f->kv[i].key.len && g->kv[i].val.type == f->kv[i].val.type);
            REQUIRE(memcmp(g->kv[i].key.ptr, f->kv[i].key.ptr, f->kv[i].key.len) == 0);
        }
        for (uint64_t i = 0; i < f->n_tensors; i++)
            REQUIRE(g->tensors[i].nbytes == f->tensors[i].nbytes &&
                    memcmp(g->tensors[i].data, f->tensors[i].data, f->tensors[i].nbytes) == 0);
        gguf_close(g);
    }
    gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *f = NULL;
    ew_status st = gguf_open_memory(data, size, false, "fuzz.gguf", &f);
    if (st != EW_OK) {
        REQUIRE(f == NULL && ew_last_error()[0] != 0);
        return 0;
    }
    walk_file(f);
    round_trip(f);
    gguf_close(f);
    return 0;
}

/* ---- seed corpus ---------------------------------------------------------------------- */

static void save(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(p, 1, n, fp) != n) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
    fclose(fp);
}

/* Serialise w into dir/name (and a version-2 twin if v2) and free w. */
static void emit(gguf_writer *w, const char *dir, const char *name, bool v2) {
    void *img;
    size_t n;
    if (gguf_writer_write_mem(w, &img, &n) != EW_OK) { fprintf(stderr, "%s\n", ew_last_error()); exit(1); }
    save(dir, name, img, n);
    if (v2) {
        char nm[256];
        ((uint8_t *)img)[4] = 2;
        snprintf(nm, sizeof nm, "v2-%s", name);
        save(dir, nm, img, n);
    }
    ew_free(img);
    gguf_writer_free(w);
}

static void write_seeds(const char *dir) {
    static const float f[16] = {1, -2, 3.5f, 0, 1e-3f, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    static const char *const toks[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81the", "a", "b", ""};
    static const int32_t tt[] = {2, 3, 3, 1, 1, 1, 1};
    gguf_writer *w = gguf_writer_new();
    gguf_set_str(w, "general.architecture", "llama");
    gguf_set_u32(w, "llama.block_count", 1);
    gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_set_bool(w, "x.bool", true);
    gguf_set_u64(w, "x.u64", 1ull << 40);
    gguf_set_i32(w, "x.i32", -3);
    gguf_set_value(w, "x.f64", &(gguf_value){.type = GGUF_TYPE_FLOAT64, .v.f = 0.5});
    gguf_set_value(w, "x.i8", &(gguf_value){.type = GGUF_TYPE_INT8, .v.i = -1});
    gguf_set_value(w, "x.u16", &(gguf_value){.type = GGUF_TYPE_UINT16, .v.u = 7});
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 7);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, tt, 7);
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, f, 7);
    gguf_value inner[2] = {{.type = GGUF_TYPE_ARRAY}, {.type = GGUF_TYPE_ARRAY}};
    inner[0].v.arr.type = GGUF_TYPE_UINT8; inner[0].v.arr.n = 3; inner[0].v.arr.data = (const void *)"abc";
    inner[1].v.arr.type = GGUF_TYPE_STRING; inner[1].v.arr.n = 1; inner[1].v.arr.strs = &(gguf_str){"q", 1};
    gguf_value nested = {.type = GGUF_TYPE_ARRAY};
    nested.v.arr.type = GGUF_TYPE_ARRAY; nested.v.arr.n = 2; nested.v.arr.vals = inner;
    gguf_set_value(w, "x.nested", &nested);
    gguf_add_tensor(w, "token_embd.weight", EW_TYPE_F32, 2, (const int64_t[]){4, 4}, f, NULL, NULL);
    gguf_add_tensor(w, "blk.0.attn_q.weight", EW_TYPE_Q8_0, 2, (const int64_t[]){32, 2}, NULL, NULL, NULL);
    gguf_add_tensor(w, "blk.0.ffn.weight", EW_TYPE_F16, 3, (const int64_t[]){2, 3, 2}, NULL, NULL, NULL);
    emit(w, dir, "model.gguf", true);

    w = gguf_writer_new();
    gguf_set_u32(w, "general.alignment", 64);
    gguf_set_str(w, "general.name", "aligned");
    gguf_add_tensor(w, "a", EW_TYPE_F32, 1, (const int64_t[]){3}, f, NULL, NULL);
    gguf_add_tensor(w, "b", EW_TYPE_Q4_K, 1, (const int64_t[]){256}, NULL, NULL, NULL);
    gguf_add_tensor(w, "c", EW_TYPE_I8, 4, (const int64_t[]){1, 2, 1, 2}, NULL, NULL, NULL);
    emit(w, dir, "aligned64.gguf", false);

    w = gguf_writer_new();
    gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_set_arr_str(w, "tokenizer.ggml.merges", toks + 3, 3);
    emit(w, dir, "vocab.gguf", false);

    w = gguf_writer_new();
    emit(w, dir, "empty.gguf", false);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *dir = getenv("EW_FUZZ_WRITE_SEEDS");
    if (dir) {
        write_seeds(dir);
        printf("fuzz_gguf: seeds written to %s\n", dir);
        exit(0);
    }
    return 0;
}
