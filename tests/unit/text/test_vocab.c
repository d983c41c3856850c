/*
 * test_vocab.c - vocabulary import (tokenizer.json, vocab.json + merges.txt, tiktoken),
 * generation (deterministic, usable) and the tokenizer.ggml.* keys written to GGUF.
 */
#include "tok_util.h"
#include "text/tokenizer_internal.h" /* ew_tokenizer_from_vocab */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int32_t find(const ew_vocab_data *v, const char *s) {
    for (uint32_t i = 0; i < v->n_tokens; i++)
        if (!strcmp(v->tokens[i], s)) return (int32_t)i;
    return -1;
}

static void test_import_smollm2(void) {
    char *p = tu_shared("data/tokenizers/smollm2-135m-instruct/tokenizer.json");
    if (!p) return;
    ew_vocab_data *v = NULL;
    CHECK_OK(ew_vocab_import(p, NULL, &v));
    if (v) {
        CHECK(!strcmp(v->model, "gpt2") && !strcmp(v->pre, "smollm"));
        CHECK(v->n_tokens == 49152 && v->n_merges == 48900);
        CHECK(v->bos == 1 && v->eos == 2 && v->pad == 2 && !v->add_bos && !v->add_eos);
        for (int i = 0; i <= 16; i++) CHECK(v->token_type[i] == 3); /* added, special */
        CHECK(v->token_type[17] == 1 && !strcmp(v->merges[0], "\xc4\xa0 t"));
        CHECK(!strcmp(v->tokens[1], "<|im_start|>"));
    }
    ew_vocab_data_free(v);
    ew_free(p);
}

static void test_import_qwen3(void) {
    char *p = tu_shared("data/tokenizers/qwen3/vocab.derived.json");
    if (!p) return;
    *strrchr(p, '/') = 0;
    ew_vocab_data *v = NULL;
    CHECK_OK(ew_vocab_import(p, NULL, &v));
    if (v) {
        CHECK(!strcmp(v->pre, "qwen2") && v->n_tokens == 151669 && v->n_merges == 151387);
        CHECK(v->eos == 151645 && v->pad == 151643 && v->bos == 151643 && !v->add_bos);
        CHECK(v->token_type[151644] == 3 && v->token_type[151659] == 3); /* special; looks special */
        CHECK(v->token_type[151667] == 4 && !strcmp(v->tokens[151667], "<think>")); /* user-defined */
        CHECK(v->chat_template && strstr(v->chat_template, "<|im_start|>"));
    }
    ew_vocab_data_free(v);
    ew_free(p);
}

static void test_import_llama3(void) {
    char *p = tu_shared("data/tokenizers/llama3/tokenizer.model");
    if (!p) return;
    ew_vocab_data *v = NULL;
    CHECK_OK(ew_vocab_import(p, NULL, &v));
    if (v) {
        CHECK(!strcmp(v->pre, "llama-bpe") && v->n_tokens == 128256);
        CHECK(v->n_merges == 280147); /* as Llama 3's HF tokenizer.json */
        CHECK(v->bos == 128000 && v->eos == 128009 && v->add_bos);
        CHECK(find(v, "<|eot_id|>") == 128009 && find(v, "<|start_header_id|>") == 128006);
        CHECK(find(v, "<|reserved_special_token_2|>") == 128005 && find(v, "<|reserved_special_token_3|>") == 128011);
        CHECK(v->token_type[128000] == 3 && v->token_type[0] == 1);
        CHECK(!strcmp(v->tokens[0], "!") && !strcmp(v->merges[0], "\xc4\xa0 \xc4\xa0"));
    }
    ew_vocab_data_free(v);
    ew_free(p);
}

static void test_import_errors(void) {
    ew_vocab_data *v = (ew_vocab_data *)1;
    CHECK(ew_vocab_import("/nonexistent/tokenizer.json", NULL, &v) != EW_OK && v == NULL);
    char dir[] = "/tmp/ew-vocab-test-XXXXXX";
    if (!mkdtemp(dir)) return;
    char path[256];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}}}", f);
    fclose(f);
    CHECK(ew_vocab_import(path, NULL, &v) == EW_ERR_FORMAT && strstr(ew_last_error(), "bad.json:1:"));
    f = fopen(path, "w");
    fputs("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", f);
    fclose(f);
    CHECK(ew_vocab_import(path, NULL, &v) == EW_ERR_UNSUPPORTED);
    f = fopen(path, "w");
    fputs("{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {}, \"merges\": []}}", f);
    fclose(f);
    CHECK(ew_vocab_import(path, NULL, &v) == EW_ERR_UNSUPPORTED && strstr(ew_last_error(), "byte_fallback"));
    f = fopen(path, "w");
    fputs("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 7}, \"merges\": [\"a b\"]}}", f);
    fclose(f);
    CHECK_OK(ew_vocab_import(path, "gpt-2", &v));
    if (v) CHECK(v->n_tokens == 8 && !strcmp(v->tokens[3], "[PAD3]") && v->token_type[3] == 5);
    ew_vocab_data_free(v);
    snprintf(path, sizeof path, "%s/ranks.tiktoken", dir);
    f = fopen(path, "w");
    fputs("YQ== 0\nYg== 2\n", f);
    fclose(f);
    CHECK(ew_vocab_import(path, NULL, &v) == EW_ERR_FORMAT && strstr(ew_last_error(), "ranks.tiktoken:2"));
    unlink(path);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    unlink(path);
    rmdir(dir);
}

/* Generated vocabularies: deterministic, loadable, and they round-trip text. */
static void test_generate(void) {
    ew_vocab_data *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(ew_vocab_generate("llama", 32000, 42, &a));
    CHECK_OK(ew_vocab_generate("llama", 32000, 42, &b));
    CHECK_OK(ew_vocab_generate("llama", 32000, 43, &c));
    if (a && b && c) {
        bool same = a->n_tokens == b->n_tokens, diff = false;
        for (uint32_t i = 0; same && i < a->n_tokens; i++) same = !strcmp(a->tokens[i], b->tokens[i]);
        for (uint32_t i = 0; i < a->n_tokens; i++) diff |= strcmp(a->tokens[i], c->tokens[i]) != 0;
        CHECK(same && diff && a->n_tokens == 32000);
        CHECK(!strcmp(a->tokens[1], "<s>") && !strcmp(a->tokens[3 + 0x0A], "<0x0A>") && a->token_type[3] == 6);
    }
    ew_vocab_data *g = NULL;
    CHECK_OK(ew_vocab_generate("gpt2", 50257, 7, &g));
    if (g) CHECK(g->n_tokens == 50257 && g->n_merges == 50257 - 257 && !strcmp(g->tokens[50256], "<|endoftext|>"));
    char *text = NULL;
    size_t tl = 0;
    CHECK_OK(ew_read_file(ew_test_source("tests/data/tokenizer/mixed.txt"), &text, &tl));
    ew_vocab_data *vs[2] = {a, g};
    for (int k = 0; k < 2 && text; k++) {
        ew_tokenizer *t = vs[k] ? tu_from_vocab(vs[k]) : NULL;
        CHECK(t != NULL);
        if (!t) continue;
        size_t n = 0, o = 0;
        int32_t *ids = tu_encode(t, text, tl, true, false, &n);
        char *out = ew_malloc(tl * 2 + 16);
        for (size_t i = 0; ids && i < n; i++) {
            int m = ew_tokenizer_decode_token(t, ids[i], false, out + o, tl * 2 + 16 - o);
            if (m > 0) o += (size_t)m;
        }
        /* built directly from the vocabulary (no GGUF round trip): the same ids */
        ew_tokenizer *t2 = NULL;
        CHECK_OK(ew_tokenizer_from_vocab(vs[k], &t2));
        size_t n2 = 0;
        int32_t *ids2 = t2 ? tu_encode(t2, text, tl, true, false, &n2) : NULL;
        CHECK(ids && ids2 && tu_same_ids("from_vocab", ids2, n2, ids, n));
        ew_free(ids2);
        ew_tokenizer_free(t2);
        if (k == 0) CHECK(ids && ids[0] == 1 && o == tl + 1 && !memcmp(out + 1, text, tl));
        else CHECK(ids && o == tl && !memcmp(out, text, tl));
        printf("generated %s vocab: mixed.txt -> %zu tokens\n", vs[k]->model, n);
        CHECK(n < tl); /* the merges do merge */
        ew_free(out);
        ew_free(ids);
        ew_tokenizer_free(t);
    }
    ew_free(text);
    ew_vocab_data *x = (ew_vocab_data *)1;
    CHECK(ew_vocab_generate("llama", 100, 1, &x) == EW_ERR_INVALID_ARG && x == NULL);
    CHECK(ew_vocab_generate("t5", 1000, 1, &x) == EW_ERR_INVALID_ARG);
    CHECK(ew_vocab_generate(NULL, 1000, 1, &x) == EW_ERR_INVALID_ARG);
    ew_vocab_data_free(a);
    ew_vocab_data_free(b);
    ew_vocab_data_free(c);
    ew_vocab_data_free(g);
}

/* The keys and their types as llama.cpp's converter writes them. */
static void test_write_keys(void) {
    ew_vocab_data *v = NULL;
    CHECK_OK(ew_vocab_generate("gpt2", 1000, 1, &v));
    if (!v) return;
    v->chat_template = ew_strdup("{{ messages }}");
    gguf_writer *w = gguf_writer_new();
    void *buf = NULL;
    size_t size = 0;
    gguf_file *f = NULL;
    CHECK_OK(ew_vocab_write_gguf(v, w));
    CHECK_OK(gguf_writer_write_mem(w, &buf, &size));
    gguf_writer_free(w);
    CHECK_OK(gguf_open_memory(buf, size, true, "keys.gguf", &f));
    if (f) {
        gguf_str s;
        const gguf_value *a;
        uint32_t u;
        bool b;
        CHECK(gguf_get_str(f, "tokenizer.ggml.model", &s) == EW_OK && gguf_str_eq(s, "gpt2"));
        CHECK(gguf_get_str(f, "tokenizer.ggml.pre", &s) == EW_OK && gguf_str_eq(s, "gpt-2"));
        CHECK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &a) == EW_OK && a->v.arr.n == 1000);
        CHECK(gguf_get_arr(f, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, &a) == EW_OK && a->v.arr.n == 1000);
        CHECK(gguf_get_arr(f, "tokenizer.ggml.merges", GGUF_TYPE_STRING, &a) == EW_OK && a->v.arr.n == v->n_merges);
        CHECK(gguf_find_key(f, "tokenizer.ggml.scores") < 0);
        CHECK(gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &u) == EW_OK && u == 999);
        CHECK(gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &u) == EW_OK && u == 999);
        CHECK(gguf_find_key(f, "tokenizer.ggml.unknown_token_id") < 0);
        CHECK(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) == EW_OK && !b);
        CHECK(gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &b) == EW_OK && !b);
        CHECK(gguf_get_str(f, "tokenizer.chat_template", &s) == EW_OK && gguf_str_eq(s, "{{ messages }}"));
        gguf_close(f);
    }
    ew_vocab_data_free(v);
    CHECK(ew_vocab_write_gguf(NULL, NULL) == EW_ERR_INVALID_ARG);
}

int main(void) {
    test_import_smollm2();
    test_import_qwen3();
    test_import_llama3();
    test_import_errors();
    test_generate();
    test_write_keys();
    return ew_test_end();
}
