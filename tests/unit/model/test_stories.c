/*
 * test_stories.c - the real stories260K model end to end: greedy output byte-identical to
 * llama2.c's (../shared/models/stories260K/expected-*.txt), with F16 and F32 KV caches.
 */
#include "edgewatt.h"
#include "core/core.h"
#include "test.h"

typedef struct sink { char buf[8192]; size_t len; } sink;

static bool collect(const char *text, size_t len, void *user) {
    sink *s = user;
    if (s->len + len < sizeof s->buf) { memcpy(s->buf + s->len, text, len); s->len += len; s->buf[s->len] = 0; }
    return true;
}

/* Greedy generation of n tokens after prompt; returns prompt + output in out. */
static void greedy(ew_model *m, ew_kv_type kv, const char *prompt, int n, sink *out) {
    ew_session_params sp = ew_session_default_params();
    sp.kv_type = kv;
    ew_session *s = NULL;
    ew_sampler *smp = NULL;
    ew_sampler_params p = ew_sampler_default_params();
    p.temperature = 0;
    CHECK_OK(ew_session_new(m, &sp, &s));
    CHECK_OK(ew_sampler_new(ew_n_vocab(m), &p, &smp));
    memset(out, 0, sizeof *out);
    collect(prompt, strlen(prompt), out);
    ew_gen_params gp = ew_gen_default_params();
    gp.n_predict = n;
    ew_gen_stats gs;
    if (s && smp) {
        CHECK_OK(ew_generate(s, smp, prompt, &gp, collect, out, &gs));
        CHECKF(gs.n_gen == n, "generated %d tokens, wanted %d", gs.n_gen, n);
    }
    collect("\n", 1, out); /* llama2.c ends its output with a newline */
    ew_sampler_free(smp);
    ew_session_free(s);
}

static void expect_file(const char *rel, const sink *got) {
    const char *path = ew_test_shared(rel);
    char *want = NULL;
    size_t wlen = 0;
    CHECK_OK(ew_read_file(path, &want, &wlen));
    if (!want) return;
    CHECKF(got->len == wlen && memcmp(got->buf, want, wlen) == 0, "%s differs:\n--- got\n%s\n--- want\n%s", rel, got->buf, want);
    ew_free(want);
}

/* User stop strings: the output ends right before the first occurrence (even when the
 * string spans tokens), the stop string itself is not emitted, and the reason says so. */
static void test_stop_strings(ew_model *m) {
    const struct { const char *stop; const char *want_end; } cases[] = {
        {"Lily", "a little girl named "},       /* a whole token */
        {"ily. She lo", "a little girl named L"}, /* spans several tokens, starts mid-token */
        {"park.", "play outside in the "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ew_session *s = NULL;
        ew_sampler *smp = NULL;
        ew_sampler_params p = ew_sampler_default_params();
        p.temperature = 0;
        CHECK_OK(ew_session_new(m, NULL, &s));
        CHECK_OK(ew_sampler_new(ew_n_vocab(m), &p, &smp));
        if (!s || !smp) { ew_session_free(s); ew_sampler_free(smp); return; }
        const char *stops[] = {"never appears", cases[i].stop};
        ew_gen_params gp = ew_gen_default_params();
        gp.n_predict = 200;
        gp.stop = stops;
        gp.n_stop = 2;
        sink out;
        memset(&out, 0, sizeof out);
        ew_gen_stats gs;
        CHECK_OK(ew_generate(s, smp, "", &gp, collect, &out, &gs));
        size_t wl = strlen(cases[i].want_end);
        CHECKF(gs.stop == EW_STOP_STRING, "stop '%s': reason %s", cases[i].stop, ew_stop_reason_name(gs.stop));
        CHECKF(out.len >= wl && memcmp(out.buf + out.len - wl, cases[i].want_end, wl) == 0,
               "stop '%s': output ends '%s'", cases[i].stop, out.buf);
        CHECK(strstr(out.buf, cases[i].stop) == NULL);
        ew_sampler_free(smp);
        ew_session_free(s);
    }
}

int main(void) {
    const char *path = ew_test_shared("models/stories260K/stories260K.gguf");
    if (!path) EW_TEST_SKIP("../shared/models/stories260K absent");
    ew_model *m = NULL;
    ew_model_params mp = ew_model_default_params();
    mp.n_threads = 2;
    CHECK_OK(ew_model_load(path, &mp, &m));
    if (!m) return ew_test_end();
    ew_model_info info;
    ew_model_get_info(m, &info);
    CHECK(info.n_layer == 5 && info.n_embd == 64 && info.n_head == 8 && info.n_head_kv == 4 && info.n_vocab == 512);

    /* "Once upon a time": 120 positions in total, as llama2.c counts steps. */
    const char *prompt = "Once upon a time";
    int32_t ids[64];
    size_t n = 0;
    CHECK_OK(ew_tokenize(m, prompt, strlen(prompt), true, false, ids, 64, &n));
    const ew_kv_type kvs[] = {EW_KV_F32, EW_KV_F16};
    for (size_t k = 0; k < 2; k++) {
        sink out;
        greedy(m, kvs[k], "", 200, &out);
        expect_file("models/stories260K/expected-greedy-200.txt", &out);
        greedy(m, kvs[k], prompt, 120 - ((int)n - 1), &out);
        expect_file("models/stories260K/expected-greedy-prompt-once-upon-a-time-120.txt", &out);
    }
    test_stop_strings(m);
    ew_model_free(m);
    return ew_test_end();
}
