/*
 * test_tokenizer_hostile.c - malformed tokenizer metadata (made in-test with the GGUF writer)
 * gives clean errors naming the key; odd-but-legal metadata loads as llama.cpp would; random
 * and invalid text never crashes; out-of-memory at every allocation fails cleanly.
 */
#include "tok_util.h"

#include <string.h>

enum { NO_MODEL = 1, NO_TOKENS = 2, NO_MERGES = 4, NO_TYPES = 8 };

/* A small SPM vocabulary: <unk> <s> </s>, 256 byte tokens, a few pieces. */
static gguf_writer *spm_base(unsigned omit) {
    static char bytes[256][8];
    const char *toks[300];
    float scores[300];
    int32_t types[300];
    uint32_t n = 0;
    const char *head[3] = {"<unk>", "<s>", "</s>"};
    const int32_t head_ty[3] = {2, 3, 3};
    for (int i = 0; i < 3; i++) { toks[n] = head[i]; types[n] = head_ty[i]; scores[n++] = 0; }
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        toks[n] = bytes[b]; types[n] = 6; scores[n++] = 0;
    }
    const char *pieces[] = {"\xe2\x96\x81", "a", "b", "\xe2\x96\x81" "a", "ab", "\xe2\x96\x81" "ab"};
    for (int i = 0; i < 6; i++) { toks[n] = pieces[i]; types[n] = 1; scores[n] = -(float)i; n++; }
    gguf_writer *w = gguf_writer_new();
    if (!(omit & NO_MODEL)) gguf_set_str(w, "tokenizer.ggml.model", "llama");
    if (!(omit & NO_TOKENS)) gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, n);
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, n);
    if (!(omit & NO_TYPES)) gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, n);
    return w;
}

/* A small byte-level BPE vocabulary: the 256 byte characters, "Ġa", "ab", <|endoftext|>. */
static gguf_writer *bpe_base(unsigned omit) {
    static char chars[256][4];
    const char *toks[300];
    uint32_t n = 0;
    for (int b = 0; b < 256; b++) {
        extern int ew_bpe_byte_encode(uint8_t b, char out[2]);
        int l = ew_bpe_byte_encode((uint8_t)b, chars[b]);
        chars[b][l] = 0;
        toks[n++] = chars[b];
    }
    toks[n++] = "\xc4\xa0" "a";
    toks[n++] = "ab";
    toks[n++] = "<|endoftext|>";
    const char *merges[] = {"\xc4\xa0 a", "a b"};
    gguf_writer *w = gguf_writer_new();
    if (!(omit & NO_MODEL)) gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_set_str(w, "tokenizer.ggml.pre", "gpt-2");
    if (!(omit & NO_TOKENS)) gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, n);
    if (!(omit & NO_MERGES)) gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, 2);
    return w;
}

/* Writes w (freed) to memory and loads a tokenizer from it. */
static ew_status try_load(gguf_writer *w, ew_tokenizer **t) {
    void *buf = NULL;
    size_t size = 0;
    gguf_file *f = NULL;
    *t = NULL;
    ew_status st = gguf_writer_write_mem(w, &buf, &size);
    gguf_writer_free(w);
    if (st) return st;
    if ((st = gguf_open_memory(buf, size, true, "hostile.gguf", &f))) return st;
    st = ew_tokenizer_load(f, t);
    gguf_close(f);
    return st;
}

static void expect_err(const char *label, gguf_writer *w, ew_status want, const char *needle) {
    ew_tokenizer *t = NULL;
    ew_status st = try_load(w, &t);
    CHECKF(st == want, "%s: got %s (%s), want %s", label, ew_status_name(st), ew_last_error(), ew_status_name(want));
    CHECKF(st == EW_OK || strstr(ew_last_error(), needle), "%s: message '%s' lacks '%s'", label, ew_last_error(), needle);
    CHECK(st == EW_OK || t == NULL);
    ew_tokenizer_free(t);
}

static ew_tokenizer *expect_ok(const char *label, gguf_writer *w) {
    ew_tokenizer *t = NULL;
    ew_status st = try_load(w, &t);
    CHECKF(st == EW_OK, "%s: %s", label, ew_last_error());
    return t;
}

static void test_errors(void) {
    gguf_writer *w;
    expect_err("no model", spm_base(NO_MODEL), EW_ERR_FORMAT, "tokenizer.ggml.model");
    w = spm_base(0);
    gguf_set_str(w, "tokenizer.ggml.model", "bert");
    expect_err("bert", w, EW_ERR_UNSUPPORTED, "tokenizer.ggml.model");
    w = spm_base(0);
    gguf_set_u32(w, "tokenizer.ggml.model", 7);
    expect_err("model not a string", w, EW_ERR_FORMAT, "tokenizer.ggml.model");
    expect_err("no tokens", spm_base(NO_TOKENS), EW_ERR_FORMAT, "tokenizer.ggml.tokens");
    w = spm_base(NO_TOKENS);
    int32_t ints[3] = {1, 2, 3};
    gguf_set_arr(w, "tokenizer.ggml.tokens", GGUF_TYPE_INT32, ints, 3);
    expect_err("tokens not strings", w, EW_ERR_FORMAT, "tokenizer.ggml.tokens");
    w = spm_base(NO_TOKENS);
    gguf_set_str(w, "tokenizer.ggml.tokens", "a");
    expect_err("tokens not an array", w, EW_ERR_FORMAT, "tokenizer.ggml.tokens");
    w = spm_base(0);
    float sc[3] = {0, 0, 0};
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, sc, 3);
    expect_err("short scores", w, EW_ERR_FORMAT, "tokenizer.ggml.scores has 3 entries, tokens has 265");
    w = spm_base(0);
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_INT8, "abc", 3);
    expect_err("scores int8", w, EW_ERR_FORMAT, "tokenizer.ggml.scores");
    w = spm_base(0);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, ints, 3);
    expect_err("short token_type", w, EW_ERR_FORMAT, "tokenizer.ggml.token_type has 3 entries");
    w = spm_base(0);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_FLOAT32, sc, 3);
    expect_err("token_type floats", w, EW_ERR_FORMAT, "tokenizer.ggml.token_type");
    w = spm_base(0);
    gguf_set_str(w, "tokenizer.ggml.eos_token_id", "2");
    expect_err("eos id a string", w, EW_ERR_FORMAT, "tokenizer.ggml.eos_token_id");
    w = spm_base(0);
    gguf_set_u32(w, "tokenizer.ggml.add_bos_token", 1);
    expect_err("add_bos not bool", w, EW_ERR_FORMAT, "tokenizer.ggml.add_bos_token");
    expect_err("gpt2 without merges", bpe_base(NO_MERGES), EW_ERR_FORMAT, "tokenizer.ggml.merges");
    w = bpe_base(NO_MERGES);
    gguf_set_arr(w, "tokenizer.ggml.merges", GGUF_TYPE_INT32, ints, 3);
    expect_err("merges not strings", w, EW_ERR_FORMAT, "tokenizer.ggml.merges");
    w = bpe_base(0);
    gguf_set_str(w, "tokenizer.ggml.pre", "no-such-pre");
    expect_err("unknown pre", w, EW_ERR_UNSUPPORTED, "tokenizer.ggml.pre 'no-such-pre'");
    /* duplicate token text */
    w = bpe_base(NO_TOKENS);
    const char *dup[] = {"a", "b", "a"};
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", dup, 3);
    expect_err("duplicate token", w, EW_ERR_FORMAT, "duplicate token 'a' has ids 0 and 2");
    /* SPM with 1 token: no BOS id can exist, but SPM adds BOS by default */
    w = spm_base(NO_TOKENS | NO_TYPES);
    const char *one[] = {"<unk>"};
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", one, 1);
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, sc, 1);
    expect_err("add_bos without bos", w, EW_ERR_FORMAT, "tokenizer.ggml.add_bos_token is true");
}

static void test_odd_but_legal(void) {
    gguf_writer *w;
    ew_tokenizer *t;
    int32_t ids[64];
    size_t n = 0;
    char buf[64];
    /* special ids out of range (or "none") keep the defaults, like llama.cpp */
    w = spm_base(0);
    gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 99999);
    gguf_set_i32(w, "tokenizer.ggml.eos_token_id", -5);
    gguf_set_u32(w, "tokenizer.ggml.padding_token_id", 0xFFFFFFFFu);
    gguf_set_u64(w, "tokenizer.ggml.unknown_token_id", ~0ull);
    if ((t = expect_ok("ids out of range", w))) {
        CHECK(ew_tokenizer_bos(t) == 1 && ew_tokenizer_eos(t) == 2);
        ew_tokenizer_free(t);
    }
    /* merges without a space, merges of unknown tokens: ignored / harmless */
    w = bpe_base(NO_MERGES);
    const char *merges[] = {"nospace", "x", "", "zz_unknown qq_unknown", "\xc4\xa0 a", "a b", "a b"};
    gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, 7);
    if ((t = expect_ok("odd merges", w))) {
        CHECK_OK(ew_tokenizer_encode(t, "ab ab", 5, false, false, ids, 64, &n));
        /* "ab" -> ab; " ab" -> Ġ a b -> (rank 4) Ġa + b: "a b" comes later, its duplicate is ignored */
        CHECK(n == 3 && ids[0] == 257 && ids[1] == 256 && ids[2] == 'b');
        ew_tokenizer_free(t);
    }
    /* empty token text, unknown token types, a byte-typed token that is not <0xNN> */
    w = spm_base(NO_TOKENS | NO_TYPES);
    const char *toks[] = {"<unk>", "<s>", "</s>", "", "<0x", "x", "\xe2\x96\x81"};
    int32_t types[] = {2, 3, 3, 1, 6, 99, -5};
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 7);
    float sc[7] = {0};
    gguf_set_arr(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, sc, 7);
    gguf_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, 7);
    if ((t = expect_ok("odd tokens", w))) {
        CHECK(!strcmp(ew_tokenizer_piece(t, 3), "[EMPTY_3]"));
        CHECK(ew_tokenizer_decode_token(t, 4, true, buf, sizeof buf) == 0);
        CHECK(ew_tokenizer_decode_token(t, 5, true, buf, sizeof buf) == 0); /* undefined type */
        /* no byte tokens: unknown bytes fall back to <unk> */
        CHECK_OK(ew_tokenizer_encode(t, "x\xff", 2, true, false, ids, 64, &n));
        CHECK(n >= 2 && ids[0] == 1 && ids[n - 1] == 0);
        ew_tokenizer_free(t);
    }
    /* gpt2 vocab with no tokens at all */
    w = bpe_base(NO_TOKENS);
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 0);
    if ((t = expect_ok("empty gpt2 vocab", w))) {
        CHECK_OK(ew_tokenizer_encode(t, "hello", 5, true, true, ids, 64, &n));
        CHECK(n == 0);
        CHECK(ew_tokenizer_bos(t) == -1 && !ew_tokenizer_is_eog(t, 0));
        ew_tokenizer_free(t);
    }
    /* missing pre: the 'default' pre-tokenizer, with a warning */
    w = gguf_writer_new();
    gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    const char *bt[] = {"a", "b", "ab"};
    const char *bm[] = {"a b"};
    gguf_set_arr_str(w, "tokenizer.ggml.tokens", bt, 3);
    gguf_set_arr_str(w, "tokenizer.ggml.merges", bm, 1);
    if ((t = expect_ok("no pre", w))) {
        CHECK_OK(ew_tokenizer_encode(t, "abab", 4, false, false, ids, 64, &n));
        CHECK(n == 2 && ids[0] == 2 && ids[1] == 2);
        ew_tokenizer_free(t);
    }
    /* API misuse */
    CHECK(ew_tokenizer_load(NULL, &t) == EW_ERR_INVALID_ARG && t == NULL);
    CHECK(ew_tokenizer_encode(NULL, "a", 1, false, false, ids, 4, &n) == EW_ERR_INVALID_ARG);
    CHECK(ew_tokenizer_decode_token(NULL, 0, true, buf, 4) == -1);
    CHECK(ew_tokenizer_piece(NULL, 0) == NULL && ew_tokenizer_n_vocab(NULL) == 0);
}

/* Random text: no crash; SPM with byte fallback decodes back to ' ' + text exactly, byte-level
 * BPE decodes back to the text when it is valid UTF-8. */
static void test_random_text(void) {
    ew_vocab_data *vs = NULL, *vb = NULL;
    CHECK_OK(ew_vocab_generate("llama", 2000, 3, &vs));
    CHECK_OK(ew_vocab_generate("gpt2", 3000, 4, &vb));
    ew_tokenizer *ts = vs ? tu_from_vocab(vs) : NULL, *tb = vb ? tu_from_vocab(vb) : NULL;
    ew_vocab_data_free(vs);
    ew_vocab_data_free(vb);
    CHECK(ts && tb);
    if (!ts || !tb) goto out;
    static const char *const alpha[] = {"a", "e", "t", " ", "  ", "\n", "\t", "1", "23", ".", "'s", "\xc3\xa9",
                                        "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "<s>", "</s>", "<|endoftext|>", "\r\n",
                                        "\xc2\xa0", "\xcc\x81"};
    uint64_t seed = 12345;
    char text[512], out[4096];
    int bad_s = 0, bad_b = 0;
    for (int iter = 0; iter < 1500; iter++) {
        size_t tl = 0;
        bool raw = iter % 5 == 4; /* every fifth text: raw random bytes */
        size_t parts = 1 + (size_t)(iter % 40);
        for (size_t k = 0; k < parts; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            if (raw) text[tl++] = (char)(seed >> 56);
            else {
                const char *a = alpha[(seed >> 33) % EW_ARRAY_LEN(alpha)];
                memcpy(text + tl, a, strlen(a));
                tl += strlen(a);
            }
        }
        for (int which = 0; which < 2; which++) {
            ew_tokenizer *t = which ? tb : ts;
            size_t n = 0;
            int32_t *ids = tu_encode(t, text, tl, false, iter % 2 == 0, &n);
            CHECK(ids != NULL);
            size_t o = 0;
            for (size_t i = 0; ids && i < n; i++) {
                int k = ew_tokenizer_decode_token(t, ids[i], true, out + o, sizeof out - o);
                CHECK(k >= 0 && (size_t)k <= sizeof out - o);
                if (k > 0) o += (size_t)k;
            }
            /* special tokens re-start the SPM space prefix; and invalid UTF-8 need not round-trip
             * through SPM (llama.cpp cuts "\xf0 " as one 4-byte character, whose byte tokens
             * then carry the escaped space) */
            bool parsed = iter % 2 == 0;
            if (which == 0 && !parsed && gguf_utf8_valid(text, tl) && !(o == tl + 1 && out[0] == ' ' && !memcmp(out + 1, text, tl))) {
                if (!bad_s) {
                    fprintf(stderr, "SPM round trip of %zu bytes:", tl);
                    for (size_t i = 0; i < tl; i++) fprintf(stderr, " %02x", (unsigned char)text[i]);
                    fprintf(stderr, "\n  gave %zu bytes:", o);
                    for (size_t i = 0; i < o; i++) fprintf(stderr, " %02x", (unsigned char)out[i]);
                    fprintf(stderr, "\n");
                }
                bad_s++;
            }
            if (which == 1 && gguf_utf8_valid(text, tl) && !(o == tl && !memcmp(out, text, tl))) bad_b++;
            ew_free(ids);
        }
    }
    CHECKF(bad_s == 0, "%d SPM texts did not round-trip", bad_s);
    CHECKF(bad_b == 0, "%d BPE texts did not round-trip", bad_b);
out:
    ew_tokenizer_free(ts);
    ew_tokenizer_free(tb);
}

/* ---- out of memory at every allocation ---- */

static long g_left;
static void *failing_alloc(void *user, void *ptr, size_t osize, size_t nsize) {
    (void)user; (void)osize;
    if (nsize == 0) { free(ptr); return NULL; }
    if (g_left-- <= 0) return NULL;
    return realloc(ptr, nsize);
}

static void test_oom(const char *model, uint32_t n_vocab) {
    ew_vocab_data *v = NULL;
    CHECK_OK(ew_vocab_generate(model, n_vocab, 9, &v));
    if (!v) return;
    gguf_writer *w = gguf_writer_new();
    void *buf = NULL;
    size_t size = 0;
    CHECK_OK(ew_vocab_write_gguf(v, w));
    CHECK_OK(gguf_writer_write_mem(w, &buf, &size));
    gguf_writer_free(w);
    ew_vocab_data_free(v);
    const char *text = "Hello world, it's 2024! \xf0\x9f\x98\x80 caf\xc3\xa9 <s>x</s>";
    int failures = 0, bad = 0;
    long limit;
    for (limit = 0; limit < 100000; limit++) {
        g_left = limit;
        ew_set_allocator(failing_alloc, NULL);
        gguf_file *f = NULL;
        ew_tokenizer *t = NULL;
        int32_t ids[256];
        size_t n = 0;
        ew_status st = gguf_open_memory(buf, size, false, "oom.gguf", &f);
        if (!st) st = ew_tokenizer_load(f, &t);
        if (!st) st = ew_tokenizer_encode(t, text, strlen(text), true, true, ids, 256, &n);
        ew_tokenizer_free(t);
        gguf_close(f);
        ew_set_allocator(NULL, NULL);
        if (st == EW_OK) break;
        failures++;
        if (st != EW_ERR_NOMEM) {
            bad++;
            fprintf(stderr, "oom at %ld: %s: %s\n", limit, ew_status_name(st), ew_last_error());
        }
    }
    printf("oom %s: %d injected failures, all clean until success at allocation %ld\n", model, failures, limit);
    CHECK(bad == 0 && limit < 100000);
    ew_free(buf);
}

int main(void) {
    test_errors();
    test_odd_but_legal();
    test_random_text();
    test_oom("llama", 400);
    test_oom("gpt2", 400);
    return ew_test_end();
}
