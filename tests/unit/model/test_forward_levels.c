/*
 * test_forward_levels.c - whole-model logits with each CPU level's layer kernels
 * (ew_layer_kernels_for_level, set per session) against the scalar references', on tiny
 * random Llamas whose head sizes take every attention path (D = 64 and 32: the AVX-512
 * tiles; D = 24: AVX2 tiles under every SIMD level; D = 6: the reference), F16 and F32
 * caches, a 150-token prompt in batches of 64 (prefill tiles) and 20 decoded tokens (the
 * split-key decode path beyond 128 keys). Limits, relative RMS difference of the logits:
 *  - level vs scalar, F32 cache: < 1e-5 (observed < 1e-6: float-lane sums, FMA, a 2-ulp exp);
 *  - level vs scalar, F16 cache: < 1e-4 (observed 3.5e-5: those tiny differences flip the
 *    rounding of some cached values, each a relative 2^-11 step);
 *  - at every level, the last prompt token's logits from batches vs token by token: < 1e-5
 *    (observed 2e-6).
 * The weight products use the level in force for both (their own test is
 * test_kernels_simd).
 */
#include "kernels/layer.h"
#include "model/model_internal.h"
#include "unit/model/tiny_llama.h"

enum { N_PROMPT = 150, N_GEN = 20, N_VOCAB = 300 };
#define LIMIT_F32 1e-5
#define LIMIT_F16 1e-4
#define LIMIT_BATCH 1e-5

static double g_worst_level[2], g_worst_batch; /* [0]: F16 cache, [1]: F32 */

/* sqrt(sum (a-b)^2 / sum b^2). */
static double rel_diff(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

/* Logits of the last prompt token and of N_GEN decode steps (fixed tokens, no sampling) into
 * out ((1 + N_GEN) x N_VOCAB), with the layer kernels lk; batch = tokens per eval call of
 * the prompt. */
static void run(ew_model *m, const ew_layer_kernels *lk, ew_kv_type kv, int batch, float *out) {
    ew_session_params sp = ew_session_default_params();
    sp.n_ctx = 256;
    sp.n_batch = 64;
    sp.kv_type = kv;
    ew_session *s = NULL;
    CHECK_OK(ew_session_new(m, &sp, &s));
    if (!s) return;
    ew_session_set_layer_kernels(s, lk);
    int32_t toks[N_PROMPT + N_GEN];
    for (int i = 0; i < N_PROMPT + N_GEN; i++) toks[i] = (int32_t)((i * 131 + 7) % N_VOCAB);
    for (int i = 0; i < N_PROMPT; i += batch) CHECK_OK(ew_session_eval(s, toks + i, EW_MIN(batch, N_PROMPT - i), false));
    memcpy(out, ew_session_logits(s, -1), N_VOCAB * sizeof(float));
    for (int i = 0; i < N_GEN; i++) {
        CHECK_OK(ew_session_eval(s, toks + N_PROMPT + i, 1, false));
        memcpy(out + (size_t)(1 + i) * N_VOCAB, ew_session_logits(s, -1), N_VOCAB * sizeof(float));
    }
    ew_session_free(s);
}

static void check_shape(const tiny_shape *sh) {
    ew_model *m = tiny_llama_load(sh, 2);
    if (!m) return;
    static float ref[(1 + N_GEN) * N_VOCAB], got[(1 + N_GEN) * N_VOCAB], one[(1 + N_GEN) * N_VOCAB];
    const ew_layer_kernels *scalar = ew_layer_kernels_for_level(EW_CPU_SCALAR);
    for (int kv = 0; kv < 2; kv++) {
        const ew_kv_type kt = kv ? EW_KV_F32 : EW_KV_F16;
        run(m, scalar, kt, 64, ref);
        for (int l = 0; l < 4; l++) {
            const ew_layer_kernels *lk = ew_layer_kernels_for_level((ew_cpu_level)l);
            if (!lk) continue;
            run(m, lk, kt, 64, got);
            for (int i = 0; i <= N_GEN; i++) {
                const double d = rel_diff(got + (size_t)i * N_VOCAB, ref + (size_t)i * N_VOCAB, N_VOCAB);
                if (d > g_worst_level[kv]) g_worst_level[kv] = d;
                CHECKF(d < (kv ? LIMIT_F32 : LIMIT_F16), "D=%d %s cache, %s vs scalar, step %d: logits rel diff %g", sh->head_dim,
                       kv ? "F32" : "F16", ew_cpu_level_str((ew_cpu_level)l), i, d);
            }
            run(m, lk, kt, 1, one);
            const double d = rel_diff(one, got, N_VOCAB);
            if (d > g_worst_batch) g_worst_batch = d;
            CHECKF(d < LIMIT_BATCH, "D=%d %s cache, %s: batched vs token by token rel diff %g", sh->head_dim,
                   kv ? "F32" : "F16", ew_cpu_level_str((ew_cpu_level)l), d);
        }
    }
    ew_model_free(m);
}

int main(void) {
    const tiny_shape shapes[] = {
        {192, 384, 3, 1, 64, 2, N_VOCAB, 256, EW_TYPE_F32}, /* 3 query heads per KV head, D 64 */
        {192, 384, 6, 2, 32, 2, N_VOCAB, 256, EW_TYPE_F32}, /* GQA 3, D 32 */
        {96, 256, 4, 2, 24, 2, N_VOCAB, 256, EW_TYPE_F32},  /* D 24: AVX2 tile only */
        {48, 128, 8, 8, 6, 1, N_VOCAB, 256, EW_TYPE_F32},   /* MHA, D 6: reference tile */
    };
    for (size_t i = 0; i < EW_ARRAY_LEN(shapes); i++) check_shape(&shapes[i]);
    printf("worst logits rel diff: level vs scalar %.3g (F16 cache), %.3g (F32 cache); batched vs token by "
           "token %.3g\n", g_worst_level[0], g_worst_level[1], g_worst_batch);
    return ew_test_end();
}
