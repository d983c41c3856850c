/*
 * test_layer_simd.c - every layer-kernel table this machine can run (ew_layer_kernels_for_level)
 * against the scalar references, on awkward lengths 1, 2, 3, 5, 7, 31, 33, 255, 257, 1023
 * with seeded random data. Limits (normalised mean squared error, sum (a-b)^2 / sum b^2):
 *  - rmsnorm, softmax, swiglu, rope: NMSE < 1e-10 (float lanes and fused multiply-adds
 *    against double sums, a 2-ulp vector exp: observed ~1e-14);
 *  - add and to_f16: bit-identical (to_f16 on normals, subnormals, ties, inf and huge values);
 *  - the attention tile: NMSE < 1e-10 of the outputs against the reference (online softmax
 *    over key blocks vs an exact two-pass one; observed ~1e-14), for head sizes 8 .. 128,
 *    1 and 3 heads per KV head, 1 .. 17 queries, F16 and F32 caches, whole and split key
 *    ranges (the split parts' max and sum too), and rows that see no key at all.
 * EW_BENCH=1 also times the attention of one SmolLM2-135M layer (3 KV heads x 3 query heads,
 * D = 64): prefill of 512 tokens and decode at position 640, per level, one thread.
 */
#include "core/cpu.h"
#include "kernels/layer.h"
#include "quant/quant.h"
#include "test.h"

#define NMSE_LIMIT 1e-10

static const int k_sizes[] = {1, 2, 3, 5, 7, 31, 33, 255, 257, 1023};
static double g_worst[8]; /* worst NMSE seen per op, printed at the end */
enum { OP_RMS, OP_SOFTMAX, OP_SWIGLU, OP_ROPE, OP_ATTN, OP_ATTN_ML };
static const char *k_op_names[] = {"rmsnorm", "softmax", "swiglu", "rope", "attn", "attn parts"};

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* n values uniform in [-a, a]. */
static void fill(float *x, size_t n, uint64_t seed, float a) {
    for (size_t i = 0; i < n; i++) x[i] = ((float)(rng_next(&seed) >> 40) / (float)(1 << 24) * 2 - 1) * a;
}

/* sum (a-b)^2 / sum b^2 (0 when both are all zero). */
static double nmse(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return den > 0 ? num / den : num;
}

/* Record and check one NMSE. */
static void check_nmse(int op, const ew_layer_kernels *k, double e, const char *what, int n) {
    if (e > g_worst[op] || e != e) g_worst[op] = e;
    CHECKF(e < NMSE_LIMIT, "%s %s %s n=%d: NMSE %g", ew_cpu_level_str(k->level), k_op_names[op], what, n, e);
}

static void test_rmsnorm_add(const ew_layer_kernels *k, const ew_layer_kernels *ref) {
    for (size_t si = 0; si < EW_ARRAY_LEN(k_sizes); si++) {
        const int n = k_sizes[si];
        float *x = malloc(n * sizeof *x), *w = malloc(n * sizeof *w), *got = malloc(n * sizeof *got),
              *want = malloc(n * sizeof *want);
        fill(x, n, 10 + n, 3.0f);
        fill(w, n, 20 + n, 1.5f);
        k->rmsnorm(got, x, w, n, 1e-5f);
        ref->rmsnorm(want, x, w, n, 1e-5f);
        check_nmse(OP_RMS, k, nmse(got, want, n), "", n);
        memcpy(got, x, n * sizeof *x); /* in place */
        k->rmsnorm(got, got, w, n, 1e-5f);
        check_nmse(OP_RMS, k, nmse(got, want, n), "in place", n);
        memcpy(got, x, n * sizeof *x);
        memcpy(want, x, n * sizeof *x);
        k->add(got, w, n);
        ref->add(want, w, n);
        CHECKF(memcmp(got, want, n * sizeof *got) == 0, "%s add n=%d differs", ew_cpu_level_str(k->level), n);
        free(x), free(w), free(got), free(want);
    }
}

static void test_softmax_swiglu(const ew_layer_kernels *k, const ew_layer_kernels *ref) {
    const float scales[] = {1.0f, 30.0f};
    for (size_t si = 0; si < EW_ARRAY_LEN(k_sizes); si++) {
        for (size_t ai = 0; ai < EW_ARRAY_LEN(scales); ai++) {
            const int n = k_sizes[si];
            float *x = malloc(n * sizeof *x), *u = malloc(n * sizeof *u), *got = malloc(n * sizeof *got),
                  *want = malloc(n * sizeof *want);
            fill(x, n, 30 + n, scales[ai]);
            fill(u, n, 40 + n, 2.0f);
            memcpy(got, x, n * sizeof *x);
            memcpy(want, x, n * sizeof *x);
            k->softmax(got, n);
            ref->softmax(want, n);
            check_nmse(OP_SOFTMAX, k, nmse(got, want, n), scales[ai] > 1 ? "wide" : "", n);
            k->swiglu(got, x, u, n);
            ref->swiglu(want, x, u, n);
            check_nmse(OP_SWIGLU, k, nmse(got, want, n), scales[ai] > 1 ? "wide" : "", n);
            memcpy(got, x, n * sizeof *x); /* out aliases gate */
            k->swiglu(got, got, u, n);
            check_nmse(OP_SWIGLU, k, nmse(got, want, n), "in place", n);
            free(x), free(u), free(got), free(want);
        }
    }
}

/* RoPE on 1..3 heads of D floats, n_rot in {2, D/2 rounded even, D} and both pair kinds,
 * at a far position (large angles). */
static void test_rope(const ew_layer_kernels *k, const ew_layer_kernels *ref) {
    const int dims[] = {2, 4, 6, 10, 14, 32, 62, 64, 66, 128, 256};
    float inv_freq[128], cs[256];
    for (size_t di = 0; di < EW_ARRAY_LEN(dims); di++) {
        const int D = dims[di];
        const int rots[] = {2, (D / 2) & ~1, D};
        for (size_t ri = 0; ri < EW_ARRAY_LEN(rots); ri++) {
            const int n_rot = rots[ri] < 2 ? 2 : rots[ri];
            for (int i = 0; i < n_rot / 2; i++) inv_freq[i] = powf(10000.0f, -2.0f * i / n_rot);
            ew_rope_table(cs, 1234, n_rot, inv_freq);
            for (int neox = 0; neox < 2; neox++) {
                const int nh = 1 + (int)(di + ri) % 3, n = nh * D;
                float *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
                fill(got, n, 50 + n, 2.0f);
                memcpy(want, got, n * sizeof *got);
                k->rope(got, nh, D, n_rot, cs, neox);
                ref->rope(want, nh, D, n_rot, cs, neox);
                check_nmse(OP_ROPE, k, nmse(got, want, n), neox ? "neox" : "adjacent", n);
                free(got), free(want);
            }
        }
    }
    /* the table gives ew_rope's angles */
    float a[64], b[64];
    for (int i = 0; i < 32; i++) inv_freq[i] = powf(10000.0f, -2.0f * i / 64);
    fill(a, 64, 77, 1.0f);
    memcpy(b, a, sizeof a);
    ew_rope_table(cs, 99, 64, inv_freq);
    ref->rope(a, 1, 64, 64, cs, false);
    ew_rope(b, 64, 64, 99, inv_freq, false);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

static void test_to_f16(const ew_layer_kernels *k) {
    static const float special[] = {0.0f, -0.0f, 1.0f, 65504.0f, 65520.0f, 1e6f, -1e30f, INFINITY, -INFINITY,
                                    6e-8f, 3e-8f, 2.9e-8f, 1e-10f, 1.00048828125f, 1.000732421875f, -2.5e-5f};
    for (size_t si = 0; si < EW_ARRAY_LEN(k_sizes); si++) {
        const int n = k_sizes[si];
        float *x = malloc(n * sizeof *x);
        uint16_t *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
        fill(x, n, 60 + n, 4.0f);
        for (int i = 0; i < n; i++)
            if (i % 3 == 1) x[i] = special[(i / 3) % EW_ARRAY_LEN(special)];
        k->to_f16(got, x, n);
        ew_to_f16_ref(want, x, n);
        int bad = -1;
        for (int i = 0; i < n && bad < 0; i++) if (got[i] != want[i]) bad = i;
        CHECKF(bad < 0, "%s to_f16 n=%d: element %d (%g) gives %04x, ref %04x", ew_cpu_level_str(k->level), n, bad,
               bad >= 0 ? x[bad] : 0.0, bad >= 0 ? got[bad] : 0, bad >= 0 ? want[bad] : 0);
        free(x), free(got), free(want);
    }
}

/* ---- attention -------------------------------------------------------------------------- */

typedef struct attn_case {
    int D, G, n_q, n_keys;  /* keys [0, n_keys): the last query sees them all */
    int key0, key1;         /* range the tile covers */
    bool f16, parts;        /* F16 cache; unnormalised parts (ml) */
} attn_case;

/* One tile at level k and at the reference; NMSE of the outputs (and the parts' sums). */
static void run_attn_case(const ew_layer_kernels *k, const attn_case *c) {
    const int R = c->n_q * c->G, kvd = c->D * 2; /* the cache holds 2 KV heads; we use head 1 */
    const size_t qn = (size_t)R * c->D, cn = (size_t)c->n_keys * kvd;
    const size_t kn = ((size_t)c->n_keys + EW_KV_BLOCK - 1) / EW_KV_BLOCK * EW_KV_BLOCK * kvd;
    float *q = malloc(qn * sizeof *q), *kf = malloc(kn * sizeof *kf), *vf = malloc(cn * sizeof *vf);
    float *got = malloc(qn * sizeof *got), *want = malloc(qn * sizeof *want);
    uint16_t *kh = malloc(kn * sizeof *kh), *vh = malloc(cn * sizeof *vh);
    float ml_got[2 * 64 * 17], ml_want[2 * 64 * 17];
    const size_t sn = ew_attn_scratch_floats(c->D, R, c->key1 - c->key0);
    float *scratch = malloc(sn * sizeof *scratch);
    fill(q, qn, 100 + qn, 1.0f);
    fill(kf, kn, 200 + cn, 1.0f);
    fill(vf, cn, 300 + cn, 1.0f);
    for (size_t i = 0; i < kn; i++) {
        /* K is blocked (layer.h): lanes of positions >= n_keys hold NaN, which must never
         * reach an output */
        if (i / ((size_t)kvd * EW_KV_BLOCK) * EW_KV_BLOCK + i % EW_KV_BLOCK >= (size_t)c->n_keys) kf[i] = NAN;
        kh[i] = ew_fp32_to_fp16(kf[i]);
    }
    for (size_t i = 0; i < cn; i++) vh[i] = ew_fp32_to_fp16(vf[i]);
    ew_attn_tile t = {0};
    t.n_q = c->n_q, t.G = c->G, t.D = c->D, t.scale = 2.0f / sqrtf((float)c->D);
    t.q = q, t.q_stride = (size_t)c->G * c->D, t.o_stride = t.q_stride;
    t.k = c->f16 ? (const void *)(kh + c->D * EW_KV_BLOCK) : (const void *)(kf + c->D * EW_KV_BLOCK);
    t.v = c->f16 ? (const void *)(vh + c->D) : (const void *)(vf + c->D);
    t.k_block_stride = (size_t)kvd * EW_KV_BLOCK, t.v_stride = (size_t)kvd, t.kv_f16 = c->f16;
    t.key0 = c->key0, t.key1 = c->key1, t.pos0 = c->n_keys - c->n_q;
    t.scratch = scratch, t.scratch_floats = sn;
    for (size_t i = 0; i < qn; i++) got[i] = want[i] = NAN; /* every row must be written */
    t.o = want, t.ml = c->parts ? ml_want : NULL;
    ew_attn_ref(&t);
    t.o = got, t.ml = c->parts ? ml_got : NULL;
    k->attn(&t);
    char what[96];
    snprintf(what, sizeof what, "D=%d G=%d n_q=%d keys [%d,%d) of %d %s", c->D, c->G, c->n_q, c->key0, c->key1,
             c->n_keys, c->f16 ? "f16" : "f32");
    check_nmse(c->parts ? OP_ATTN_ML : OP_ATTN, k, nmse(got, want, qn), what, c->n_keys);
    if (c->parts) {
        for (int r = 0; r < R; r++) {
            const bool empty = ml_want[2 * r + 1] == 0;
            CHECKF(empty ? ml_got[2 * r + 1] == 0 && isinf(ml_got[2 * r]) : fabsf(ml_got[2 * r] - ml_want[2 * r]) < 1e-5f,
                   "%s: row %d max %g vs %g", what, r, ml_got[2 * r], ml_want[2 * r]);
            const double rel = empty ? 0 : fabs((double)ml_got[2 * r + 1] - ml_want[2 * r + 1]) / ml_want[2 * r + 1];
            CHECKF(rel < 1e-5, "%s: row %d sum %g vs %g", what, r, ml_got[2 * r + 1], ml_want[2 * r + 1]);
        }
    }
    free(q), free(kf), free(vf), free(got), free(want), free(kh), free(vh), free(scratch);
}

static void test_attention(const ew_layer_kernels *k) {
    const int dims[] = {8, 16, 24, 64, 80, 128};
    const int gs[] = {1, 3}, nqs[] = {1, 5, 17};
    int i = 0;
    for (size_t si = 0; si < EW_ARRAY_LEN(k_sizes); si++) {
        const int nk = k_sizes[si];
        for (size_t di = 0; di < EW_ARRAY_LEN(dims); di++) {
            for (size_t gi = 0; gi < EW_ARRAY_LEN(gs); gi++) {
                for (size_t qi = 0; qi < EW_ARRAY_LEN(nqs); qi++, i++) {
                    if (nqs[qi] > nk) continue;
                    attn_case c = {dims[di], gs[gi], nqs[qi], nk, 0, nk, i % 2 == 0, false};
                    run_attn_case(k, &c);
                    /* a split part in the middle of the range (some rows see none of it) */
                    c.parts = true;
                    c.key0 = nk / 3;
                    c.key1 = nk - nk / 4;
                    if (c.key1 > c.key0) run_attn_case(k, &c);
                }
            }
        }
    }
    /* the SmolLM2 shape: 16 queries x 3 heads, a long cache */
    attn_case c = {64, 3, 16, 700, 0, 700, true, false};
    run_attn_case(k, &c);
}

/* ---- benchmark -------------------------------------------------------------------------- */

/* One layer of SmolLM2-135M attention on one thread: prefill of 512 tokens in the session's
 * tiles (16 queries x 3 heads), and decode of one token at position 640. */
static void bench_attention(const ew_layer_kernels *k) {
    enum { D = 64, G = 3, KH = 3, N = 640, QB = 16 };
    const size_t kvd = (size_t)KH * D, qd = (size_t)KH * G * D;
    uint16_t *kc = malloc(N * kvd * 2), *vc = malloc(N * kvd * 2);
    float *q = malloc(N * qd * sizeof *q), *o = malloc(N * qd * sizeof *o);
    float *tmp = malloc(N * kvd * sizeof *tmp);
    const size_t sn = ew_attn_scratch_floats(D, QB * G, N);
    float *scratch = malloc(sn * sizeof *scratch);
    fill(q, N * qd, 1, 1.0f);
    fill(tmp, N * kvd, 2, 1.0f);
    ew_to_f16_ref(kc, tmp, (int)(N * kvd));
    fill(tmp, N * kvd, 3, 1.0f);
    ew_to_f16_ref(vc, tmp, (int)(N * kvd));
    ew_attn_tile t = {0};
    t.G = G, t.D = D, t.scale = 0.125f, t.q_stride = t.o_stride = qd, t.kv_f16 = true;
    t.k_block_stride = kvd * EW_KV_BLOCK, t.v_stride = kvd;
    t.scratch = scratch, t.scratch_floats = sn;
    double t0 = ew_time_s();
    for (int qb = 0; qb < 512 / QB; qb++) {
        for (int h = 0; h < KH; h++) {
            t.n_q = QB, t.q = q + (size_t)qb * QB * qd + (size_t)h * G * D, t.o = o + (size_t)qb * QB * qd + (size_t)h * G * D;
            t.k = kc + h * D * EW_KV_BLOCK, t.v = vc + h * D, t.key0 = 0, t.pos0 = qb * QB, t.key1 = t.pos0 + QB;
            k->attn(&t);
        }
    }
    const double prefill = ew_time_s() - t0;
    const int reps = 200;
    t0 = ew_time_s();
    for (int r = 0; r < reps; r++) {
        for (int h = 0; h < KH; h++) {
            t.n_q = 1, t.q = q + (size_t)h * G * D, t.o = o + (size_t)h * G * D;
            t.k = kc + h * D * EW_KV_BLOCK, t.v = vc + h * D, t.key0 = 0, t.pos0 = N - 1, t.key1 = N;
            k->attn(&t);
        }
    }
    const double decode = (ew_time_s() - t0) / reps;
    printf("bench %-6s attention of one layer: prefill 512 tok %.2f ms, decode at 640 %.1f us\n",
           ew_cpu_level_str(k->level), prefill * 1e3, decode * 1e6);
    free(kc), free(vc), free(q), free(o), free(tmp), free(scratch);
}

int main(void) {
    const ew_layer_kernels *ref = ew_layer_kernels_for_level(EW_CPU_SCALAR);
    CHECK(ref != NULL && ew_layer_kernels_get() != NULL);
    const bool bench = getenv("EW_BENCH") && atoi(getenv("EW_BENCH")) > 0;
    for (int l = 0; l < 4; l++) {
        const ew_layer_kernels *k = ew_layer_kernels_for_level((ew_cpu_level)l);
        if (!k) continue;
        CHECK(k->level == (ew_cpu_level)l);
        test_rmsnorm_add(k, ref);
        test_softmax_swiglu(k, ref);
        test_rope(k, ref);
        test_to_f16(k);
        test_attention(k);
        if (bench) bench_attention(k);
    }
    for (size_t op = 0; op < EW_ARRAY_LEN(k_op_names); op++)
        printf("worst NMSE %-10s %.3g\n", k_op_names[op], g_worst[op]);
    return ew_test_end();
}
