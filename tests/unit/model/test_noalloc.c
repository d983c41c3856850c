/*
 * test_noalloc.c - the token loop does not allocate: with a counting allocator installed
 * after the session (and sampler) exist, ew_session_eval of one token and of a batch, and
 * ew_sampler_sample / ew_sampler_accept, make zero allocator calls (allocations, reallocs or
 * frees). Checked with the model's pool and with a session-owned pool, F16 and F32 caches,
 * at batch sizes that take the prefill tiles and the split-key decode path.
 */
#include "unit/model/tiny_llama.h"

static long g_calls;

/* The default allocator's behaviour, counting every call. */
static void *counting_alloc(void *user, void *ptr, size_t osize, size_t nsize) {
    (void)user, (void)osize;
    g_calls++;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

/* A session of model m (own pool when n_threads differs from the model's), then the
 * counting allocator around eval + sample. */
static void check_session(ew_model *m, int n_threads, ew_kv_type kv) {
    ew_session_params sp = ew_session_default_params();
    sp.n_ctx = 512;
    sp.n_batch = 64;
    sp.n_threads = n_threads;
    sp.kv_type = kv;
    ew_session *s = NULL;
    ew_sampler *smp = NULL;
    ew_sampler_params pp = ew_sampler_default_params();
    CHECK_OK(ew_session_new(m, &sp, &s));
    CHECK_OK(ew_sampler_new(ew_n_vocab(m), &pp, &smp));
    if (!s || !smp) goto out;
    int32_t prompt[200];
    for (int i = 0; i < 200; i++) prompt[i] = (int32_t)((i * 37 + 11) % 300);

    g_calls = 0;
    ew_set_allocator(counting_alloc, NULL);
    ew_status st1 = ew_session_eval(s, prompt, 1, false);              /* one token */
    ew_status st2 = ew_session_eval(s, prompt + 1, 150, false);        /* batches of 64 */
    int32_t tok = ew_sampler_sample(smp, ew_session_logits(s, -1));
    ew_sampler_accept(smp, tok);
    ew_status st3 = EW_OK;
    for (int i = 0; i < 4 && st3 == EW_OK; i++) {                     /* decode past 150 keys */
        st3 = ew_session_eval(s, &tok, 1, false);
        tok = ew_sampler_sample(smp, ew_session_logits(s, -1));
        ew_sampler_accept(smp, tok);
    }
    const long calls = g_calls;
    ew_set_allocator(NULL, NULL);
    CHECK_OK(st1);
    CHECK_OK(st2);
    CHECK_OK(st3);
    CHECK(tok >= 0);
    CHECKF(calls == 0, "%d threads, %s cache: %ld allocator calls in the token loop", n_threads,
           kv == EW_KV_F16 ? "F16" : "F32", calls);
out:
    ew_sampler_free(smp);
    ew_session_free(s);
}

int main(void) {
    const tiny_shape sh = {192, 384, 6, 2, 32, 2, 300, 512, EW_TYPE_Q8_0};
    ew_model *m = tiny_llama_load(&sh, 2);
    if (!m) return ew_test_end();
    check_session(m, 0, EW_KV_F16); /* the model's pool */
    check_session(m, 3, EW_KV_F32); /* a pool of the session's own */
    check_session(m, 1, EW_KV_F16);
    ew_model_free(m);
    return ew_test_end();
}
