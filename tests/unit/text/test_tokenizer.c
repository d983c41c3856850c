/*
 * test_tokenizer.c - tokenizers against llama.cpp: stories260K (SPM), llama.cpp's own vocab
 * test vectors (gpt-2, llama-bpe, qwen2), and tests/data/tokenizer/ texts whose expected ids
 * came from the reference llama-tokenize (see make-expected.sh) for five vocabularies;
 * special tokens, EOG sets, decoding and speed.
 */
#include "tok_util.h"

#include <pthread.h>
#include <string.h>

typedef struct vocab_case {
    const char *name;     /* prefix of the .ids files */
    const char *gguf;     /* under ../shared, or NULL */
    const char *import;   /* under ../shared, or NULL */
    bool byte_level;
} vocab_case;

static const vocab_case k_vocabs[] = {
    {"stories260k", "models/stories260K/stories260K.gguf", NULL, false},
    {"gpt2", "data/tokenizers/llamacpp-vocab-tests/ggml-vocab-gpt-2.gguf", NULL, true},
    {"smollm2", NULL, "data/tokenizers/smollm2-135m-instruct/tokenizer.json", true},
    {"llama3", NULL, "data/tokenizers/llama3/tokenizer.model", true},
    {"qwen3", NULL, "data/tokenizers/qwen3", true},
};

static ew_tokenizer *g_tok[EW_ARRAY_LEN(k_vocabs)];

static ew_tokenizer *load_case(const vocab_case *c) {
    if (c->gguf) {
        char *p = tu_shared(c->gguf);
        if (!p) return NULL;
        ew_tokenizer *t = tu_from_gguf(p);
        ew_free(p);
        return t;
    }
    return tu_from_import(c->import, NULL);
}

/* test 1: the stories260K GGUF. */
static void test_stories_hello(ew_tokenizer *t) {
    const int32_t exp[] = {1, 346, 306, 414, 263, 304, 341};
    int32_t ids[16];
    size_t n = 0;
    CHECK_OK(ew_tokenizer_encode(t, "Hello world", 11, true, false, ids, 16, &n));
    CHECK(tu_same_ids("stories260K 'Hello world'", ids, n, exp, EW_ARRAY_LEN(exp)));
    /* a too-small buffer: EW_ERR_RANGE, the count still reported, nothing past cap written */
    ids[2] = -7;
    CHECK(ew_tokenizer_encode(t, "Hello world", 11, true, false, ids, 2, &n) == EW_ERR_RANGE);
    CHECK(n == 7 && ids[0] == 1 && ids[1] == 346 && ids[2] == -7);
    CHECK(ew_tokenizer_bos(t) == 1 && ew_tokenizer_eos(t) == 2 && ew_tokenizer_is_eog(t, 2));
    CHECK(ew_tokenizer_add_space_prefix(t));
    char buf[32];
    int k = ew_tokenizer_decode_token(t, 346, false, buf, sizeof buf);
    CHECK(k > 0 && buf[0] == ' '); /* U+2581 decodes to a space, kept per token */
    CHECK(ew_tokenizer_decode_token(t, 1, false, buf, sizeof buf) == 0);
    CHECK(ew_tokenizer_decode_token(t, 1, true, buf, sizeof buf) == 3 && !memcmp(buf, "<s>", 3));
    CHECK(ew_tokenizer_decode_token(t, 3 + 0x41, false, buf, sizeof buf) == 1 && buf[0] == 'A'); /* <0x41> */
    CHECK(ew_tokenizer_decode_token(t, 512, false, buf, sizeof buf) == -1);
    CHECK(ew_tokenizer_decode_token(t, -1, false, buf, sizeof buf) == -1);
    /* special tokens in SPM text: each one restarts the space prefix (ids from llama-tokenize) */
    const int32_t exp2[] = {1, 346, 306, 414, 2, 263, 304, 341, 410, 1, 410, 410, 444, 2};
    const char *s2 = "Hello</s>world <s> x</s>";
    CHECK_OK(ew_tokenizer_encode(t, s2, strlen(s2), true, true, ids, 16, &n));
    CHECK(tu_same_ids("stories260K specials", ids, n, exp2, EW_ARRAY_LEN(exp2)));
    /* empty text: just BOS */
    CHECK_OK(ew_tokenizer_encode(t, "", 0, true, false, ids, 16, &n));
    CHECK(n == 1 && ids[0] == 1);
}

/* test 2: llama.cpp's tokenizer test vectors (inputs split by "\n__ggml_vocab_test__\n",
 * one line of ids per input, encoded without BOS and without parsing special tokens). */
static void test_vocab_vectors(ew_tokenizer *t, const char *label, const char *inp_rel, const char *out_rel) {
    char *ip = tu_shared(inp_rel), *op = tu_shared(out_rel);
    char *inp = NULL, *out = NULL;
    size_t ni = 0, no = 0;
    if (!ip || !op || ew_read_file(ip, &inp, &ni) || ew_read_file(op, &out, &no)) {
        printf("%s: test vectors absent, skipped\n", label);
        goto done;
    }
    const char *sep = "\n__ggml_vocab_test__\n";
    size_t sl = strlen(sep);
    int pass = 0, total = 0;
    char *p = inp, *q = out;
    for (char *e; (e = strstr(p, sep)) != NULL; p = e + sl) {
        char *qe = strchr(q, '\n');
        if (!qe) qe = q + strlen(q);
        int32_t exp[1024];
        size_t ne = tu_parse_ids(q, (size_t)(qe - q), exp, 1024), n = 0;
        int32_t *ids = tu_encode(t, p, (size_t)(e - p), false, false, &n);
        total++;
        char lab[128];
        snprintf(lab, sizeof lab, "%s case %d '%.20s'", label, total, p);
        bool ok = ids && tu_same_ids(lab, ids, n, exp, ne);
        CHECK(ok);
        pass += ok;
        ew_free(ids);
        q = *qe ? qe + 1 : qe;
    }
    CHECK(total == 46);
    printf("%s: %d/%d llama.cpp test vectors pass\n", label, pass, total);
done:
    ew_free(ip);
    ew_free(op);
    ew_free(inp);
    ew_free(out);
}

/* test 3: texts with ids from the reference llama-tokenize (defaults: BOS as the metadata
 * asks, special tokens parsed; *.nospecial.ids: --no-parse-special). */
static void test_expected(ew_tokenizer *t, const char *name, const char *input, const char *variant) {
    char path[4096 + 128], *text = NULL, *exp_s = NULL;
    size_t tl = 0, el = 0;
    const char *dir = ew_test_source("tests/data/tokenizer/");
    size_t pl = strlen(dir);
    if (pl >= 4096) return;
    memcpy(path, dir, pl + 1);
    snprintf(path + pl, sizeof path - pl, "%s", input);
    if (ew_read_file(path, &text, &tl) != EW_OK) {
        CHECKF(0, "cannot read %s", path);
        return;
    }
    char stem[64];
    snprintf(stem, sizeof stem, "%.*s", (int)strcspn(input, "."), input);
    snprintf(path + pl, sizeof path - pl, "%s.%s%s.ids", name, stem, variant);
    if (ew_read_file(path, &exp_s, &el) != EW_OK) {
        CHECKF(0, "cannot read %s", path);
        ew_free(text);
        return;
    }
    size_t ne = tu_parse_ids(exp_s, el, NULL, 0);
    int32_t *exp = ew_malloc((ne + 1) * sizeof *exp);
    tu_parse_ids(exp_s, el, exp, ne);
    size_t n = 0;
    int32_t *ids = tu_encode(t, text, tl, true, strcmp(variant, ".nospecial") != 0, &n);
    char lab[128];
    snprintf(lab, sizeof lab, "%s %s%s", name, input, variant);
    bool ok = ids && tu_same_ids(lab, ids, n, exp, ne);
    CHECKF(ok, "%s", lab);
    printf("%s: %zu ids %s\n", lab, n, ok ? "match llama.cpp" : "DIFFER");
    ew_free(ids);
    ew_free(exp);
    ew_free(exp_s);
    ew_free(text);
}

/* test 4: special tokens of ChatML vocabularies: one id each with parse_special, plain
 * text without. */
static void test_special(ew_tokenizer *t, const char *name, int32_t im_start, int32_t im_end) {
    const char *s = "<|im_start|>user\nhi<|im_end|>";
    size_t n = 0, n2 = 0;
    int32_t *a = tu_encode(t, s, strlen(s), false, true, &n);
    int32_t *b = tu_encode(t, s, strlen(s), false, false, &n2);
    CHECKF(a && n >= 3 && a[0] == im_start && a[n - 1] == im_end, "%s: markers are single ids", name);
    bool found = false;
    for (size_t i = 0; b && i < n2; i++) found |= b[i] == im_start || b[i] == im_end;
    CHECKF(b && !found && n2 > n, "%s: without parse_special the markers are plain text", name);
    CHECKF(ew_tokenizer_is_eog(t, im_end), "%s: <|im_end|> ends generation", name);
    CHECKF(!ew_tokenizer_is_eog(t, im_start), "%s: <|im_start|> does not", name);
    char buf[64];
    CHECK(ew_tokenizer_decode_token(t, im_end, false, buf, sizeof buf) == 0);
    CHECK(ew_tokenizer_decode_token(t, im_end, true, buf, sizeof buf) == 10 && !memcmp(buf, "<|im_end|>", 10));
    ew_free(a);
    ew_free(b);
}

/* Decoding the ids of text token by token gives the text back (byte-level vocabularies:
 * exactly; SPM: with the space prefix in front). */
static void test_roundtrip(ew_tokenizer *t, const char *name, bool byte_level) {
    char *text = NULL;
    size_t tl = 0, n = 0;
    if (ew_read_file(ew_test_source("tests/data/tokenizer/mixed.txt"), &text, &tl)) {
        CHECK(0);
        return;
    }
    int32_t *ids = tu_encode(t, text, tl, false, false, &n);
    char *out = ew_malloc(tl * 4 + 16);
    size_t o = 0;
    for (size_t i = 0; ids && i < n; i++) {
        int k = ew_tokenizer_decode_token(t, ids[i], false, out + o, tl * 4 + 16 - o);
        CHECK(k >= 0);
        if (k > 0) o += (size_t)k;
    }
    if (byte_level) CHECKF(o == tl && !memcmp(out, text, tl), "%s: decode(encode(text)) == text", name);
    else CHECKF(o == tl + 1 && out[0] == ' ' && !memcmp(out + 1, text, tl), "%s: decode(encode(text)) == ' ' + text", name);
    ew_free(out);
    ew_free(ids);
    ew_free(text);
}

/* EOG sets as llama.cpp builds them from ids and token texts. */
static void test_eog(void) {
    ew_tokenizer *q = g_tok[4], *l = g_tok[3], *s = g_tok[2], *g = g_tok[1];
    if (q) {
        CHECK(ew_tokenizer_is_eog(q, 151643) && ew_tokenizer_is_eog(q, 151645)); /* <|endoftext|>, <|im_end|> */
        CHECK(ew_tokenizer_is_eog(q, 151662) && ew_tokenizer_is_eog(q, 151663) && ew_tokenizer_is_eog(q, 151664));
        CHECK(!ew_tokenizer_is_eog(q, 151644) && !ew_tokenizer_is_eog(q, 100) && !ew_tokenizer_is_eog(q, -1));
        CHECK(ew_tokenizer_eos(q) == 151645);
        /* user-defined <think> is matched even without parse_special */
        size_t n = 0;
        int32_t *ids = tu_encode(q, "<think>x</think>", 16, false, false, &n);
        CHECK(ids && n == 3 && ids[0] == 151667 && ids[2] == 151668);
        ew_free(ids);
    }
    if (l) {
        CHECK(ew_tokenizer_is_eog(l, 128001) && ew_tokenizer_is_eog(l, 128008) && ew_tokenizer_is_eog(l, 128009));
        CHECK(!ew_tokenizer_is_eog(l, 128000) && !ew_tokenizer_is_eog(l, 128006));
        CHECK(ew_tokenizer_bos(l) == 128000);
        CHECK(!strcmp(ew_tokenizer_piece(l, 128006), "<|start_header_id|>"));
        CHECK(!strcmp(ew_tokenizer_piece(l, 128255), "<|reserved_special_token_247|>"));
    }
    if (s) CHECK(ew_tokenizer_is_eog(s, 0) && ew_tokenizer_is_eog(s, 2) && !ew_tokenizer_is_eog(s, 1));
    if (g) CHECK(ew_tokenizer_is_eog(g, 50256) && ew_tokenizer_bos(g) == 50256);
}

/* 1 MB through SmolLM2's 49k vocabulary in well under 2 s. */
static void test_speed(ew_tokenizer *t) {
    char *text = NULL;
    size_t tl = 0;
    if (ew_read_file(ew_test_source("tests/data/tokenizer/mixed.txt"), &text, &tl)) return;
    size_t big = 1 << 20, n = 0;
    char *buf = ew_malloc(big);
    for (size_t o = 0; o < big; o += tl) memcpy(buf + o, text, EW_MIN(tl, big - o));
    double t0 = ew_time_s();
    int32_t *ids = tu_encode(t, buf, big, true, false, &n);
    double dt = ew_time_s() - t0;
    printf("speed: 1 MiB -> %zu tokens in %.3f s (%.1f MB/s)\n", n, dt, 1.0 / dt);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    CHECKF(dt < 2.0, "1 MiB took %.2f s", dt);
#endif
    ew_free(ids);
    ew_free(buf);
    ew_free(text);
}

/* One tokenizer, several threads encoding at once: the same ids as alone. */
typedef struct job { const ew_tokenizer *t; const char *text; size_t len; const int32_t *want; size_t n_want; int bad; } job;

static void *encode_job(void *arg) {
    job *j = arg;
    for (int r = 0; r < 20; r++) {
        size_t n = 0;
        int32_t *ids = tu_encode(j->t, j->text, j->len, true, true, &n);
        if (!ids || n != j->n_want || memcmp(ids, j->want, n * sizeof *ids)) j->bad++;
        ew_free(ids);
    }
    return NULL;
}

static void test_threads(const ew_tokenizer *t) {
    char *text = NULL;
    size_t tl = 0, n = 0;
    if (ew_read_file(ew_test_source("tests/data/tokenizer/mixed.txt"), &text, &tl)) return;
    int32_t *want = tu_encode(t, text, tl, true, true, &n);
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){t, text, tl, want, n, 0};
        pthread_create(&th[i], NULL, encode_job, &jobs[i]);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        bad += jobs[i].bad;
    }
    CHECKF(bad == 0, "%d concurrent encodings differed", bad);
    ew_free(want);
    ew_free(text);
}

int main(void) {
    int loaded = 0;
    for (size_t i = 0; i < EW_ARRAY_LEN(k_vocabs); i++) {
        g_tok[i] = load_case(&k_vocabs[i]);
        if (g_tok[i]) loaded++;
        else printf("%s: not available\n", k_vocabs[i].name);
    }
    if (!loaded) EW_TEST_SKIP("no tokenizer data under ../shared");

    if (g_tok[0]) test_stories_hello(g_tok[0]);
    const char *V = "data/tokenizers/llamacpp-vocab-tests/";
    char a[256], b[256];
    struct { int idx; const char *vec; } vv[] = {{1, "gpt-2"}, {3, "llama-bpe"}, {4, "qwen2"}};
    for (int i = 0; i < 3; i++) {
        if (!g_tok[vv[i].idx]) continue;
        snprintf(a, sizeof a, "%sggml-vocab-%s.gguf.inp", V, vv[i].vec);
        snprintf(b, sizeof b, "%sggml-vocab-%s.gguf.out", V, vv[i].vec);
        test_vocab_vectors(g_tok[vv[i].idx], k_vocabs[vv[i].idx].name, a, b);
    }
    /* GPT-2 from vocab.json + merges.txt must agree with llama.cpp's GPT-2 GGUF */
    ew_tokenizer *g2 = tu_from_import("data/tokenizers/gpt2", NULL);
    if (g2) {
        snprintf(a, sizeof a, "%sggml-vocab-gpt-2.gguf.inp", V);
        snprintf(b, sizeof b, "%sggml-vocab-gpt-2.gguf.out", V);
        test_vocab_vectors(g2, "gpt2 (vocab.json)", a, b);
        ew_tokenizer_free(g2);
    }
    for (size_t i = 0; i < EW_ARRAY_LEN(k_vocabs); i++) {
        if (!g_tok[i]) continue;
        test_expected(g_tok[i], k_vocabs[i].name, "mixed.txt", "");
        test_expected(g_tok[i], k_vocabs[i].name, "invalid-utf8.dat", "");
        test_expected(g_tok[i], k_vocabs[i].name, "special.txt", "");
        test_expected(g_tok[i], k_vocabs[i].name, "special.txt", ".nospecial");
        test_roundtrip(g_tok[i], k_vocabs[i].name, k_vocabs[i].byte_level);
    }
    if (g_tok[2]) test_special(g_tok[2], "smollm2", 1, 2);
    if (g_tok[4]) test_special(g_tok[4], "qwen3", 151644, 151645);
    test_eog();
    if (g_tok[2]) test_speed(g_tok[2]);
    if (g_tok[3]) test_threads(g_tok[3]);
    if (g_tok[0]) test_threads(g_tok[0]);
    for (size_t i = 0; i < EW_ARRAY_LEN(k_vocabs); i++) ew_tokenizer_free(g_tok[i]);
    return ew_test_end();
}
