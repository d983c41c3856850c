/* test_sampler.c - ew_sampler: greedy, seeds, top-k, top-p, min-p (kept sets and sampled
 * frequencies), temperature, repetition penalty, no allocation while sampling, bad params. */
#include "text/sampler.h"
#include "test.h"
#include <stdint.h>

/* ---- a counting allocator (installed for the whole test) -------------------------------- */

static long g_alloc_calls;

static void *counting_alloc(void *user, void *ptr, size_t osize, size_t nsize) {
    (void)user; (void)osize;
    g_alloc_calls++;
    if (nsize == 0) { free(ptr); return NULL; }
    return realloc(ptr, nsize);
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* A small deterministic generator for test data (not the sampler's). */
static uint64_t g_lcg = 12345;
static double test_rand(void) {
    g_lcg = g_lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(g_lcg >> 11) * 0x1.0p-53;
}

static ew_sampler_params plain_params(float temp) {
    ew_sampler_params p = ew_sampler_default_params();
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.repeat_penalty = 1.0f;
    p.seed = 7;
    return p;
}

static ew_sampler *make(int n_vocab, const ew_sampler_params *p) {
    ew_sampler *s = NULL;
    CHECK_OK(ew_sampler_new(n_vocab, p, &s));
    return s;
}

/* ---- tests ------------------------------------------------------------------------------ */

/* Greedy picks the argmax, the lowest id among ties. */
static void test_greedy(void) {
    ew_sampler_params p = plain_params(0.0f);
    ew_sampler *s = make(6, &p);
    if (!s) return;
    float l1[6] = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f, 2.0f};
    CHECK(ew_sampler_sample(s, l1) == 1);
    float l2[6] = {-5, -4, -3, -2, -1, -0.5f};
    CHECK(ew_sampler_sample(s, l2) == 5);
    float l3[6] = {NAN, 1, NAN, 3, 3, 0};
    CHECK(ew_sampler_sample(s, l3) == 3);
    ew_sampler_free(s);
    p.temperature = -1.0f;
    s = make(6, &p);
    if (s) CHECK(ew_sampler_sample(s, l1) == 1);
    ew_sampler_free(s);
}

/* Random-ish logits of n tokens with spread `scale`. */
static void fill_logits(float *l, int n, double scale) {
    for (int i = 0; i < n; i++) l[i] = (float)((test_rand() - 0.5) * scale);
}

/* The same seed gives the same sequence (also after reset); another seed a different one. */
static void test_seed(void) {
    enum { N = 500, T = 200 };
    static float l[N];
    fill_logits(l, N, 6.0);
    ew_sampler_params p = plain_params(1.0f);
    p.seed = 99;
    ew_sampler *a = make(N, &p), *b = make(N, &p);
    p.seed = 100;
    ew_sampler *c = make(N, &p);
    if (!a || !b || !c) return;
    int32_t sa[T];
    int same_ab = 0, same_ac = 0, same_reset = 0;
    for (int t = 0; t < T; t++) {
        sa[t] = ew_sampler_sample(a, l);
        same_ab += sa[t] == ew_sampler_sample(b, l);
        same_ac += sa[t] == ew_sampler_sample(c, l);
    }
    ew_sampler_reset(a);
    for (int t = 0; t < T; t++) same_reset += sa[t] == ew_sampler_sample(a, l);
    CHECK(same_ab == T);
    CHECK(same_reset == T);
    CHECKF(same_ac < T / 2, "seeds 99 and 100 agree on %d of %d", same_ac, T);
    ew_sampler_free(a);
    ew_sampler_free(b);
    ew_sampler_free(c);
}

/* top-k = 1 at any temperature equals greedy (ties -> lowest id). */
static void test_top_k_1(void) {
    enum { N = 1000 };
    static float l[N];
    ew_sampler_params p = plain_params(1.5f);
    p.top_k = 1;
    ew_sampler *s = make(N, &p);
    if (!s) return;
    for (int t = 0; t < 50; t++) {
        fill_logits(l, N, 10.0);
        if (t % 5 == 0) l[N - 1] = l[t] = 20.0f; /* a tie: the lower id wins */
        int32_t best = 0;
        for (int i = 1; i < N; i++) if (l[i] > l[best]) best = i;
        CHECK(ew_sampler_sample(s, l) == best);
    }
    ew_sampler_free(s);
}

/* Sample `draws` tokens and count them; return how many fell outside `allowed`. */
static long sample_counts(ew_sampler *s, const float *l, int n, long draws, long *count,
                          const bool *allowed) {
    long outside = 0;
    memset(count, 0, sizeof *count * (size_t)n);
    for (long d = 0; d < draws; d++) {
        int32_t id = ew_sampler_sample(s, l);
        if (id < 0 || id >= n || !allowed[id]) { outside++; continue; }
        count[id]++;
    }
    return outside;
}

/* Check sampled frequencies against probs (renormalised over allowed) within 5 sigma. */
static void check_freqs(const long *count, const double *prob, const bool *allowed, int n,
                        long draws, const char *what) {
    double z = 0;
    for (int i = 0; i < n; i++) if (allowed[i]) z += prob[i];
    for (int i = 0; i < n; i++) {
        if (!allowed[i]) continue;
        double q = prob[i] / z, f = (double)count[i] / (double)draws;
        double tol = 5.0 * sqrt(q * (1 - q) / (double)draws) + 1e-9;
        CHECKF(fabs(f - q) <= tol, "%s: token %d frequency %.4f, expected %.4f (+-%.4f)", what,
               i, f, q, tol);
    }
}

/* A hand-made distribution over a larger vocabulary, placed at scattered ids. The rest of
 * the vocabulary gets a tiny share (logit -30 below). */
enum { HV = 3000, HK = 8 };
static const double hand_p[HK] = {0.35, 0.25, 0.15, 0.10, 0.07, 0.04, 0.03, 0.01};
static const int hand_id[HK] = {2321, 17, 2500, 999, 3, 2998, 1234, 777};

static void hand_logits(float *l, double *prob) {
    for (int i = 0; i < HV; i++) { l[i] = -40.0f; prob[i] = 0; }
    for (int k = 0; k < HK; k++) {
        l[hand_id[k]] = (float)log(hand_p[k]);
        prob[hand_id[k]] = hand_p[k];
    }
}

/* Run one filter configuration on the hand-made distribution: the candidate set is exactly
 * the first `keep` tokens of hand_p, and sampled frequencies follow the renormalised probs. */
static void check_hand(const ew_sampler_params *p, int keep, const char *what) {
    static float l[HV];
    static double prob[HV];
    static long count[HV];
    static bool allowed[HV];
    static int32_t ids[HV];
    hand_logits(l, prob);
    memset(allowed, 0, sizeof allowed);
    for (int k = 0; k < keep; k++) allowed[hand_id[k]] = true;
    ew_sampler *s = make(HV, p);
    if (!s) return;
    int n = ew_sampler_candidates(s, l, ids, HV);
    CHECKF(n == keep, "%s: %d candidates, expected %d", what, n, keep);
    for (int k = 0; k < n && k < keep; k++) /* min-p alone leaves id order: compare as sets */
        CHECKF(allowed[ids[k]], "%s: candidate %d is %d, not among the expected", what, k, ids[k]);
    const long draws = 20000;
    long outside = sample_counts(s, l, HV, draws, count, allowed);
    CHECKF(outside == 0, "%s: %ld draws outside the kept set", what, outside);
    check_freqs(count, prob, allowed, HV, draws, what);
    ew_sampler_free(s);
}

/* top-p, min-p and top-k keep exactly the expected sets on the hand-made distribution. */
static void test_filters_hand(void) {
    ew_sampler_params p = plain_params(1.0f);
    p.top_p = 0.70f; /* 0.35+0.25 = 0.60 < 0.70 <= 0.75 */
    check_hand(&p, 3, "top_p=0.70");
    p.top_p = 0.90f; /* cumulative: .35 .60 .75 .85 .92 */
    check_hand(&p, 5, "top_p=0.90");
    p.top_p = 0.0f;
    check_hand(&p, 1, "top_p=0");
    p.top_p = 1.0f;
    p.min_p = 0.2f;  /* p >= 0.07: five tokens */
    check_hand(&p, 5, "min_p=0.2");
    p.min_p = 0.5f;  /* p >= 0.175: two tokens */
    check_hand(&p, 2, "min_p=0.5");
    p.min_p = 0.0f;
    p.top_k = 4;
    check_hand(&p, 4, "top_k=4");
    p.top_p = 0.8f;  /* within the top 4 (mass .85): .35 .25 .15 -> 0.75/0.85 = .88 >= .8 */
    check_hand(&p, 3, "top_k=4 top_p=0.8");
    p.top_k = 0;
    p.top_p = 0.95f; /* cumulative .92 .95 -> 6 ... */
    p.min_p = 0.25f; /* ... then p >= 0.0875: four tokens */
    check_hand(&p, 4, "top_p=0.95 min_p=0.25");
}

typedef struct ref_cand { float v; int id; } ref_cand;

static int ref_cmp(const void *a, const void *b) {
    const ref_cand *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->id - y->id;
}

/* Reference top-k -> top-p -> min-p by a full sort (same float expressions as the sampler). */
static int ref_filter(const float *l, int n, int top_k, float top_p, float min_p, int *out,
                      ref_cand *c) {
    for (int i = 0; i < n; i++) c[i] = (ref_cand){l[i], i};
    qsort(c, (size_t)n, sizeof *c, ref_cmp);
    float m = c[0].v;
    int keep = n;
    if (top_k > 0 && top_k < n) keep = top_k;
    if (top_p < 1.0f) {
        double z = 0, cum = 0;
        if (keep < n) for (int i = 0; i < keep; i++) z += expf(c[i].v - m);
        else for (int id = 0; id < n; id++) z += expf(l[id] - m); /* id order, as the sampler */
        int cut = keep;
        for (int i = 0; i < keep; i++) {
            cum += expf(c[i].v - m);
            if (cum >= (double)top_p * z) { cut = i + 1; break; }
        }
        keep = cut;
    }
    if (min_p > 0) {
        float thr = m + logf(min_p);
        int i = 1;
        while (i < keep && c[i].v >= thr) i++;
        keep = i;
    }
    for (int i = 0; i < keep; i++) out[i] = c[i].id;
    return keep;
}

/* The fast paths (heap top-k, bucketed top-p) give exactly the full-sort result, ties and
 * coarse logits included. */
static void test_filters_vs_full_sort(void) {
    enum { N = 20000 };
    static float l[N];
    static int32_t ids[N];
    static int ref[N];
    static ref_cand rc[N];
    static const float tps[] = {0.0f, 0.1f, 0.5f, 0.9f, 0.95f, 0.999f, 0.99999f};
    int mismatches = 0, runs = 0;
    for (int dist = 0; dist < 4; dist++) {
        for (int t = 0; t < 6; t++) {
            double scale = dist == 0 ? 4.0 : dist == 1 ? 20.0 : dist == 2 ? 0.5 : 12.0;
            fill_logits(l, N, scale);
            if (dist == 3) for (int i = 0; i < N; i++) l[i] = floorf(l[i] * 4) / 4; /* many ties */
            for (size_t a = 0; a < EW_ARRAY_LEN(tps); a++) {
                for (int variant = 0; variant < 3; variant++) {
                    ew_sampler_params p = plain_params(1.0f);
                    p.top_p = tps[a];
                    p.top_k = variant == 1 ? 300 : 0;
                    p.min_p = variant == 2 ? 0.01f : 0.0f;
                    ew_sampler *s = make(N, &p);
                    if (!s) return;
                    int n = ew_sampler_candidates(s, l, ids, N);
                    int rn = ref_filter(l, N, p.top_k, p.top_p, p.min_p, ref, rc);
                    bool same = n == rn;
                    for (int i = 0; same && i < n; i++) same = ids[i] == ref[i];
                    if (!same && mismatches++ < 5)
                        fprintf(stderr, "dist %d top_p %g top_k %d min_p %g: %d vs ref %d\n", dist,
                                (double)p.top_p, p.top_k, (double)p.min_p, n, rn);
                    runs++;
                    ew_sampler_free(s);
                }
            }
        }
    }
    CHECKF(mismatches == 0, "%d of %d filter runs differ from the full sort", mismatches, runs);
}

/* As the temperature goes to 0, sampling becomes the argmax. */
static void test_temperature_limit(void) {
    enum { N = 300 };
    static float l[N];
    fill_logits(l, N, 2.0);
    l[123] = 1.05f; /* the max: others are below 1.0 */
    ew_sampler_params p = plain_params(1e-3f);
    ew_sampler *s = make(N, &p);
    if (!s) return;
    int hits = 0;
    for (int t = 0; t < 1000; t++) hits += ew_sampler_sample(s, l) == 123;
    CHECKF(hits == 1000, "temperature 1e-3: argmax drawn %d of 1000 times", hits);
    ew_sampler_free(s);
    /* a high temperature flattens: at T=1 on two tokens 1 nat apart p = 0.731, at T=100 ~0.5 */
    float two[2] = {1.0f, 0.0f};
    long count[2];
    bool allowed[2] = {true, true};
    double p1[2] = {exp(1.0), 1.0}, p100[2] = {exp(0.01), 1.0};
    p = plain_params(1.0f);
    s = make(2, &p);
    if (s) { sample_counts(s, two, 2, 20000, count, allowed); check_freqs(count, p1, allowed, 2, 20000, "T=1"); }
    ew_sampler_free(s);
    p = plain_params(100.0f);
    s = make(2, &p);
    if (s) { sample_counts(s, two, 2, 20000, count, allowed); check_freqs(count, p100, allowed, 2, 20000, "T=100"); }
    ew_sampler_free(s);
}

/* The repetition penalty changes the argmax in a crafted case and follows llama.cpp's rule. */
static void test_repetition_penalty(void) {
    ew_sampler_params p = plain_params(0.0f);
    p.repeat_penalty = 1.5f;
    p.repeat_last_n = 3;
    ew_sampler *s = make(5, &p);
    if (!s) return;
    float l[5] = {3.0f, 2.5f, -1.0f, 0.5f, -0.9f};
    CHECK(ew_sampler_sample(s, l) == 0);  /* recorded: window {0} -> 3.0/1.5 = 2.0 < 2.5 */
    CHECK(ew_sampler_sample(s, l) == 1);  /* window {0,1}: 2.0, 1.67 -> 0 again */
    CHECK(ew_sampler_sample(s, l) == 0);  /* window {0,1,0}: same, token 0 counted once */
    CHECK(ew_sampler_sample(s, l) == 0);
    ew_sampler_reset(s);
    CHECK(ew_sampler_sample(s, l) == 0);
    /* negative logits are multiplied: -0.9 * 1.5 = -1.35 < -1.0 */
    float neg[5] = {-5.0f, -5.0f, -1.0f, -5.0f, -0.9f};
    ew_sampler_reset(s);
    CHECK(ew_sampler_sample(s, neg) == 4);
    CHECK(ew_sampler_sample(s, neg) == 2);
    /* the window slides: after 3 other tokens token 0 is no longer penalised */
    ew_sampler_reset(s);
    ew_sampler_accept(s, 0);
    CHECK(ew_sampler_sample(s, l) == 1);
    ew_sampler_accept(s, 3);
    ew_sampler_accept(s, 4);
    ew_sampler_accept(s, 2);
    CHECK(ew_sampler_sample(s, l) == 0);
    ew_sampler_accept(s, 99);  /* out of range: ignored */
    ew_sampler_accept(s, -1);
    ew_sampler_free(s);
}

/* ew_sampler_sample allocates nothing, in every configuration. */
static void test_no_alloc(void) {
    enum { N = 32000 };
    static float l[N];
    fill_logits(l, N, 8.0);
    for (int cfg = 0; cfg < 6; cfg++) {
        ew_sampler_params p = plain_params(cfg == 0 ? 0.0f : 0.8f);
        p.top_k = cfg == 2 ? 40 : 0;
        p.top_p = cfg == 3 ? 0.95f : 1.0f;
        p.min_p = cfg == 4 ? 0.05f : 0.0f;
        if (cfg == 5) p = ew_sampler_default_params();
        p.repeat_penalty = 1.1f;
        ew_sampler *s = make(N, &p);
        if (!s) return;
        long before = g_alloc_calls;
        for (int t = 0; t < 50; t++) ew_sampler_sample(s, l);
        CHECKF(g_alloc_calls == before, "config %d: %ld allocations while sampling", cfg,
               g_alloc_calls - before);
        ew_sampler_free(s);
    }
}

/* Bad parameters give EW_ERR_INVALID_ARG, a message naming the field, and *out = NULL. */
static void test_invalid(void) {
    ew_sampler *s = (ew_sampler *)1;
    ew_sampler_params p = ew_sampler_default_params();
    CHECK(ew_sampler_new(0, &p, &s) == EW_ERR_INVALID_ARG);
    CHECK(s == NULL);
    CHECK(strstr(ew_last_error(), "n_vocab") != NULL);
    CHECK(ew_sampler_new(-5, &p, &s) == EW_ERR_INVALID_ARG);
    struct { const char *field; ew_sampler_params p; } bad[6];
    for (int i = 0; i < 6; i++) bad[i].p = p;
    bad[0].field = "top_p"; bad[0].p.top_p = -0.1f;
    bad[1].field = "top_p"; bad[1].p.top_p = NAN;
    bad[2].field = "min_p"; bad[2].p.min_p = 1.5f;
    bad[3].field = "repeat_penalty"; bad[3].p.repeat_penalty = 0.0f;
    bad[4].field = "repeat_last_n"; bad[4].p.repeat_last_n = -1;
    bad[5].field = "temperature"; bad[5].p.temperature = INFINITY;
    for (int i = 0; i < 6; i++) {
        s = (ew_sampler *)1;
        CHECKF(ew_sampler_new(10, &bad[i].p, &s) == EW_ERR_INVALID_ARG, "case %d", i);
        CHECK(s == NULL);
        CHECKF(strstr(ew_last_error(), bad[i].field) != NULL, "case %d: '%s'", i, ew_last_error());
    }
    CHECK(ew_sampler_new(10, NULL, &s) == EW_OK); /* NULL params = defaults */
    CHECK(ew_sampler_sample(s, NULL) == -1);
    ew_sampler_free(s);
    ew_sampler_free(NULL);
}

/* Time one sample over a 151936-token vocabulary per configuration (printed, not asserted). */
static void bench(void) {
    enum { N = 151936 };
    static float l[N];
    fill_logits(l, N, 12.0);
    static const char *names[] = {"greedy", "defaults", "top_p=0.95 only", "min_p=0.05 only", "plain T=0.8"};
    for (int cfg = 0; cfg < 5; cfg++) {
        ew_sampler_params p = plain_params(cfg == 0 ? 0.0f : 0.8f);
        if (cfg == 1) p = ew_sampler_default_params();
        if (cfg == 2) p.top_p = 0.95f;
        if (cfg == 3) p.min_p = 0.05f;
        p.repeat_penalty = 1.1f;
        ew_sampler *s = make(N, &p);
        if (!s) return;
        for (int i = 0; i < 64; i++) ew_sampler_accept(s, i * 7);
        double t0 = ew_time_s();
        for (int t = 0; t < 50; t++) ew_sampler_sample(s, l);
        printf("sample over %d tokens, %-16s: %.3f ms\n", N, names[cfg], (ew_time_s() - t0) / 50 * 1e3);
        ew_sampler_free(s);
    }
}

int main(void) {
    ew_set_allocator(counting_alloc, NULL);
    test_invalid();
    test_greedy();
    test_seed();
    test_top_k_1();
    test_filters_hand();
    test_filters_vs_full_sort();
    test_temperature_limit();
    test_repetition_penalty();
    test_no_alloc();
    bench();
    return ew_test_end();
}
