/*
 * test_tokenizer_detok.c - the streaming detokenizer: feeding the ids of a text one at a time
 * gives the text back byte for byte, every piece it returns is valid UTF-8 (a 4-byte emoji
 * split over byte-fallback tokens is never printed broken), invalid sequences become U+FFFD,
 * control tokens print nothing, a huge token grows the buffer.
 */
#include "tok_util.h"

#include <string.h>

/* Strict UTF-8 validity (no overlongs, surrogates, > U+10FFFF). */
static bool valid_utf8(const char *s, size_t n) { return gguf_utf8_valid(s, n); }

/* Streams ids through a detokenizer; returns the concatenated output (ew_free it) and
 * checks each piece is valid UTF-8. */
static char *stream(const ew_tokenizer *t, const int32_t *ids, size_t n, size_t *len) {
    ew_detok *d = NULL;
    CHECK_OK(ew_detok_new_from_tokenizer(t, &d));
    if (!d) return NULL;
    size_t cap = 1024, o = 0;
    char *out = ew_malloc(cap);
    int broken = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *p = i < n ? ew_detok_push(d, ids[i]) : ew_detok_flush(d);
        size_t pl = strlen(p);
        if (!valid_utf8(p, pl)) broken++;
        while (o + pl + 1 > cap) out = ew_realloc(out, cap *= 2);
        memcpy(out + o, p, pl);
        o += pl;
    }
    CHECKF(broken == 0, "%d pieces were not valid UTF-8", broken);
    out[o] = 0;
    *len = o;
    ew_detok_free(d);
    return out;
}

static void test_text_roundtrip(const ew_tokenizer *t, const char *name, bool spm) {
    char *text = NULL;
    size_t tl = 0, n = 0, ol = 0;
    if (ew_read_file(ew_test_source("tests/data/tokenizer/mixed.txt"), &text, &tl)) {
        CHECK(0);
        return;
    }
    int32_t *ids = tu_encode(t, text, tl, true, false, &n); /* with BOS: prints nothing */
    char *out = ids ? stream(t, ids, n, &ol) : NULL;
    if (spm) CHECKF(out && ol == tl + 1 && out[0] == ' ' && !memcmp(out + 1, text, tl), "%s: stream == ' ' + text", name);
    else CHECKF(out && ol == tl && !memcmp(out, text, tl), "%s: stream == text", name);
    ew_free(out);
    ew_free(ids);
    ew_free(text);
}

/* SPM byte fallback: an emoji arrives as four <0xNN> tokens; nothing prints until the last. */
static void test_emoji_bytes(const ew_tokenizer *t) {
    const char *emoji = "\xf0\x9f\xa6\x99"; /* U+1F999 llama: not in stories260K's vocab */
    size_t n = 0;
    int32_t *ids = tu_encode(t, emoji, 4, false, false, &n);
    /* "\xe2\x96\x81" prefix piece, then 4 byte tokens */
    CHECK(ids && n == 5);
    ew_detok *d = NULL;
    CHECK_OK(ew_detok_new_from_tokenizer(t, &d));
    if (ids && n == 5 && d) {
        CHECK(!strcmp(ew_detok_push(d, ids[0]), " "));
        CHECK(!strcmp(ew_detok_push(d, ids[1]), ""));
        CHECK(!strcmp(ew_detok_push(d, ids[2]), ""));
        CHECK(!strcmp(ew_detok_push(d, ids[3]), ""));
        CHECK(!strcmp(ew_detok_push(d, ids[4]), emoji));
        CHECK(!strcmp(ew_detok_flush(d), ""));
        /* a control token in the middle of a sequence prints nothing and keeps it pending */
        ew_detok_push(d, ids[1]);
        ew_detok_push(d, ids[2]);
        CHECK(!strcmp(ew_detok_push(d, 1), ""));
        ew_detok_push(d, ids[3]);
        CHECK(!strcmp(ew_detok_push(d, ids[4]), emoji));
    }
    ew_detok_free(d);
    ew_free(ids);
}

/* Byte tokens of stories260K: <0xNN> is id 3 + NN. */
static const char *feed(ew_detok *d, const unsigned char *bytes, size_t n, char *acc, size_t cap) {
    size_t o = 0;
    acc[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = ew_detok_push(d, 3 + bytes[i]);
        size_t pl = strlen(p);
        if (o + pl < cap) { memcpy(acc + o, p, pl); o += pl; }
    }
    const char *p = ew_detok_flush(d);
    size_t pl = strlen(p);
    if (o + pl < cap) { memcpy(acc + o, p, pl); o += pl; }
    acc[o] = 0;
    return acc;
}

static void test_invalid(const ew_tokenizer *t) {
    ew_detok *d = NULL;
    CHECK_OK(ew_detok_new_from_tokenizer(t, &d));
    if (!d) return;
    char acc[256];
#define FFFD "\xef\xbf\xbd"
    struct { const char *in; size_t n; const char *out; } cases[] = {
        {"\xc3(", 2, FFFD "("},
        {"\xff", 1, FFFD},
        {"a\xf0\x9f", 3, "a" FFFD},                 /* truncated at the end: flush */
        {"\xe2\x82" "a", 3, FFFD "a"},
        {"\xc0\xaf", 2, FFFD FFFD},                  /* overlong */
        {"\xed\xa0\x80", 3, FFFD FFFD FFFD},         /* surrogate */
        {"\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD}, /* > U+10FFFF */
        {"\xc3\xa9\xe2\x82\xac", 5, "\xc3\xa9\xe2\x82\xac"},
        {"\x80", 1, FFFD},
    };
    for (size_t i = 0; i < EW_ARRAY_LEN(cases); i++) {
        feed(d, (const unsigned char *)cases[i].in, cases[i].n, acc, sizeof acc);
        CHECKF(!strcmp(acc, cases[i].out), "invalid case %zu: got '%s'", i, acc);
    }
    ew_detok_free(d);
}

/* A token far longer than the initial buffer, and control tokens. */
static void test_huge_token(void) {
    ew_vocab_data *v = NULL;
    CHECK_OK(ew_vocab_generate("llama", 400, 1, &v));
    if (!v) return;
    size_t big = 100000; /* "abcé" x 20000 */
    char *s = ew_malloc(big + 1);
    for (size_t i = 0; i < big; i += 5) memcpy(s + i, "abc\xc3\xa9", 5);
    s[big] = 0;
    /* the last piece becomes a user-defined token with that text */
    ew_free(v->tokens[v->n_tokens - 1]);
    v->tokens[v->n_tokens - 1] = s;
    v->token_type[v->n_tokens - 1] = 4;
    ew_tokenizer *t = tu_from_vocab(v);
    CHECK(t != NULL);
    if (t) {
        ew_detok *d = NULL;
        CHECK_OK(ew_detok_new_from_tokenizer(t, &d));
        const char *p = ew_detok_push(d, (int32_t)v->n_tokens - 1);
        CHECK(strlen(p) == big && !memcmp(p, s, big));
        CHECK(!strcmp(ew_detok_push(d, 1), "")); /* <s> */
        CHECK(!strcmp(ew_detok_push(d, 2), "")); /* </s> */
        CHECK(!strcmp(ew_detok_push(d, -5), ""));
        CHECK(!strcmp(ew_detok_push(d, 1 << 30), ""));
        ew_detok_free(d);
        ew_tokenizer_free(t);
    }
    ew_vocab_data_free(v);
    ew_detok *d = NULL;
    CHECK(ew_detok_new(NULL, &d) == EW_ERR_INVALID_ARG && d == NULL);
    CHECK(ew_detok_new_from_tokenizer(NULL, &d) == EW_ERR_INVALID_ARG);
    CHECK(!strcmp(ew_detok_push(NULL, 1), "") && !strcmp(ew_detok_flush(NULL), ""));
    ew_detok_free(NULL);
}

int main(void) {
    char *p = tu_shared("models/stories260K/stories260K.gguf");
    ew_tokenizer *spm = p ? tu_from_gguf(p) : NULL;
    ew_free(p);
    ew_tokenizer *smol = tu_from_import("data/tokenizers/smollm2-135m-instruct/tokenizer.json", NULL);
    p = tu_shared("data/tokenizers/llamacpp-vocab-tests/ggml-vocab-gpt-2.gguf");
    ew_tokenizer *gpt2 = p ? tu_from_gguf(p) : NULL;
    ew_free(p);

    test_huge_token();
    if (smol) test_text_roundtrip(smol, "smollm2", false);
    if (gpt2) test_text_roundtrip(gpt2, "gpt2", false);
    if (spm) {
        test_text_roundtrip(spm, "stories260K", true);
        test_emoji_bytes(spm);
        test_invalid(spm);
    }
    if (!spm && !smol && !gpt2) printf("shared tokenizer data absent: only the generated-vocab checks ran\n");
    ew_tokenizer_free(spm);
    ew_tokenizer_free(smol);
    ew_tokenizer_free(gpt2);
    return ew_test_end();
}
