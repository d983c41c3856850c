/*
 * test_gemm.c - the tiled prefill path (kernels/gemm.h) against its definition, n_rows x
 * n_tok reference vec_dots (ew_gemm_vec_dot_ref):
 *  - the scalar tile kernel (ew_gemm_tile_ref) on panels of 16 and 32 rows: checks every
 *    packer and activation preparer on any machine;
 *  - every SIMD tile kernel of every level this machine runs (ew_kernels_for_level), on
 *    awkward shapes: rows 1, 2, 3, 5, 7, 31, 33, 255, 257 x tokens 1, 2, 3, 5, 7, 16, 33 x
 *    K of 1, 2, 3, 5 blocks (1, 2, 3 super-blocks for the K-quants), whole and split in two
 *    K chunks (the second accumulating), on quantized gaussian weights and on random bytes;
 *  - the fused activation quantize + prepare of each level: byte-identical to the reference
 *    quantizer followed by the preparer, on rows with zeros, halves, NaN, inf, subnormals;
 *  - the whole ew_matmul_with at each level against the scalar table, with 1 and 2 threads,
 *    token counts on both sides of min_tok and a K that needs several panel chunks.
 * Tolerance: |got - want| <= RTOL * sum_i |w_i * a_i| (dequantized); RTOL_FLOAT for the
 * float weight types (F16, BF16), whose reference sums in double. The kernels' integer
 * sums are exact; only the float scaling differs from the reference (per group S * d
 * applied to the integer sum, the K-quant mins as a separate float term, lanes summed in
 * another order), so errors are a few float ulps of the magnitudes involved. The worst
 * observed ratio is printed.
 * EW_BENCH=1 also prints GMAC/s of the tile path per level for SmolLM2-135M shapes at 512
 * tokens (not asserted).
 */
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "quant/quant_ref.h"
#include "test.h"
#include "unit/quant/quant_test_util.h"
#include <stddef.h>

#define RTOL 2e-6
/* Float weights: products summed in float instead of the reference's double, so the error
 * grows with K (bounded by ~K * 2^-24 of sum |w*a|, in practice far less). */
#define RTOL_FLOAT 1e-5

static const uint32_t k_types[] = {EW_TYPE_Q8_0, EW_TYPE_Q4_0, EW_TYPE_Q5_0, EW_TYPE_Q4_K, EW_TYPE_Q5_K,
                                   EW_TYPE_Q6_K, EW_TYPE_F16, EW_TYPE_BF16};
static const int k_rows[] = {1, 2, 3, 5, 7, 31, 33, 255, 257};
static const int k_toks[] = {1, 2, 3, 5, 7, 16, 33};
static const int k_blocks[] = {1, 2, 3, 5};

static double g_worst, g_worst_float;

static bool is_float_type(uint32_t t) {
    return t == EW_TYPE_F16 || t == EW_TYPE_BF16;
}

/* A test problem: N weight rows of type t, n_tok activation rows, K elements. */
typedef struct problem {
    uint32_t t, at;
    int N, n_tok;
    int64_t K;
    size_t w_row, a_row;
    uint8_t *w, *a;
    float *want, *scale; /* reference outputs, sum |w*a| per output */
} problem;

/* Random bytes for a weight row with every fp16 scale a sane random value. */
static void random_weight_row(uint32_t t, uint8_t *w, int64_t n, qt_rng *r) {
    const ew_type_traits *tt = ew_type_get(t);
    for (size_t i = 0; i < ew_row_size(t, n); i++) w[i] = (uint8_t)qt_next(r);
    for (int64_t b = 0; b < n / tt->blck_size; b++) {
        uint8_t *blk = w + (size_t)b * tt->type_size;
        for (int h = 0; h < 2; h++) {
            const ew_half s = ew_fp32_to_fp16((float)ldexp(1.0 + qt_uniform(r), -4 - (int)(qt_next(r) % 6)));
            const size_t at = t == EW_TYPE_Q6_K ? offsetof(ew_block_q6_K, d) : 2 * (size_t)h;
            if (h == 0 || t == EW_TYPE_Q4_K || t == EW_TYPE_Q5_K) memcpy(blk + at, &s, 2);
        }
    }
}

/* Build weights (gaussian quantized, or random bytes), activations and the reference. */
static void problem_init(problem *p, uint32_t t, int N, int n_tok, int64_t K, bool random_bytes, uint64_t seed) {
    p->t = t;
    p->at = ew_type_get(t)->vec_dot_type;
    p->N = N;
    p->n_tok = n_tok;
    p->K = K;
    p->w_row = ew_row_size(t, K);
    p->a_row = ew_row_size(p->at, K);
    p->w = malloc(p->w_row * (size_t)N);
    p->a = malloc(p->a_row * (size_t)n_tok);
    float *x = malloc((size_t)K * sizeof *x), *fw = malloc((size_t)K * sizeof *fw);
    float *fa = malloc((size_t)K * n_tok * sizeof *fa);
    qt_rng r = {seed};
    for (int i = 0; i < N; i++) {
        if (random_bytes && !is_float_type(t)) {
            random_weight_row(t, p->w + (size_t)i * p->w_row, K, &r);
        } else {
            qt_fill_gauss(x, (size_t)K, seed + 100 + (uint64_t)i, 0.5);
            ew_quantize_row_ref(t, x, p->w + (size_t)i * p->w_row, K);
        }
    }
    for (int i = 0; i < n_tok; i++) {
        qt_fill_gauss(x, (size_t)K, seed + 7919 + (uint64_t)i, 2.0);
        ew_quantize_row_ref(p->at, x, p->a + (size_t)i * p->a_row, K);
        ew_dequantize_row_ref(p->at, p->a + (size_t)i * p->a_row, fa + (size_t)i * K, K);
    }
    p->want = malloc((size_t)N * n_tok * sizeof(float));
    p->scale = malloc((size_t)N * n_tok * sizeof(float));
    ew_gemm_vec_dot_ref(t, K, p->w, p->w_row, N, p->a, p->a_row, n_tok, p->want, (size_t)N);
    for (int i = 0; i < N; i++) {
        ew_dequantize_row_ref(t, p->w + (size_t)i * p->w_row, fw, K);
        for (int j = 0; j < n_tok; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) s += fabs((double)fw[k] * fa[(size_t)j * K + k]);
            p->scale[(size_t)j * N + i] = (float)s;
        }
    }
    free(x);
    free(fw);
    free(fa);
}

static void problem_free(problem *p) {
    free(p->w);
    free(p->a);
    free(p->want);
    free(p->scale);
}

/* Number of outputs of y (N x n_tok, row stride N) outside the tolerance; tracks the worst. */
static int count_bad(const problem *p, const float *y) {
    int bad = 0;
    const bool fl = is_float_type(p->t);
    double *worst = fl ? &g_worst_float : &g_worst;
    for (size_t i = 0; i < (size_t)p->N * p->n_tok; i++) {
        const double err = fabs((double)y[i] - p->want[i]), s = p->scale[i];
        if (s > 0 && err / s > *worst) *worst = err / s;
        if (!(err <= (fl ? RTOL_FLOAT : RTOL) * s)) bad++;
    }
    return bad;
}

/* A tile kernel: the SIMD ones, or the scalar one with its layout and width bound. */
typedef struct tile_kernel {
    ew_gemm_tile_fn fn;      /* NULL: ew_gemm_tile_ref */
    ew_gemm_layout layout;
    int W;
} tile_kernel;

static void run_tile(const tile_kernel *tk, int64_t kn, const void *panel, int nr, const void *a, size_t as,
                     int nt, float *y, size_t ys, bool acc) {
    if (tk->fn) tk->fn(kn, panel, nr, a, as, nt, y, ys, acc);
    else ew_gemm_tile_ref(&tk->layout, tk->W, kn, panel, nr, a, as, nt, y, ys, acc);
}

/* Run problem p through pack + prep + tile kernel, with K in `chunks` chunks (1 or 2, on
 * block boundaries); returns the outputs (malloc'd, N x n_tok). */
static float *run_tiled(const problem *p, const tile_kernel *tk, ew_gemm_pack_fn pack, ew_gemm_prep_fn prep,
                        int chunks) {
    const ew_gemm_layout *L = &tk->layout;
    const size_t pr = ew_gemm_prep_row_bytes(L, p->K);
    uint8_t *pa = malloc(pr * (size_t)p->n_tok);
    for (int t = 0; t < p->n_tok; t++) prep(p->a + (size_t)t * p->a_row, p->K, L->off, pa + (size_t)t * pr);
    const int64_t blck = is_float_type(p->t) ? 16 : ew_type_get(p->t)->blck_size, nb = p->K / blck;
    const int64_t split = chunks > 1 && nb > 1 ? (nb / 2) * blck : p->K;
    uint8_t *panel = malloc(ew_gemm_panel_bytes(L, tk->W, p->K) + 64);
    float *y = malloc((size_t)p->N * p->n_tok * sizeof *y);
    for (int r0 = 0; r0 < p->N; r0 += tk->W) {
        const int nr = p->N - r0 < tk->W ? p->N - r0 : tk->W;
        for (int64_t k0 = 0; k0 < p->K; k0 = k0 ? p->K : split) {
            const int64_t kn = (k0 ? p->K : split) - k0;
            pack(p->w + (size_t)r0 * p->w_row, p->w_row, nr, k0, kn, tk->W, panel);
            run_tile(tk, kn, panel, nr, pa + (size_t)(k0 / L->sub) * ew_gemm_prep_group_bytes(L), pr, p->n_tok,
                     y + r0, (size_t)p->N, k0 > 0);
        }
    }
    free(pa);
    free(panel);
    return y;
}

/* One kernel against the reference on every shape; `name` for messages. */
static void check_kernel(const char *name, uint32_t t, const tile_kernel *tk, ew_gemm_pack_fn pack,
                         ew_gemm_prep_fn prep) {
    const int64_t blck = is_float_type(t) ? 16 : ew_type_get(t)->blck_size; /* float: the group */
    const int n_kb = blck == 256 ? 3 : 4;
    for (size_t ri = 0; ri < EW_ARRAY_LEN(k_rows); ri++)
        for (size_t ti = 0; ti < EW_ARRAY_LEN(k_toks); ti++)
            for (int ki = 0; ki < n_kb; ki++) {
                const int N = k_rows[ri], nt = k_toks[ti];
                const int64_t K = k_blocks[ki] * blck;
                const bool random_bytes = (ri + ti + (size_t)ki) % 2 == 1;
                problem p;
                problem_init(&p, t, N, nt, K, random_bytes, 1000 * ri + 10 * ti + (uint64_t)ki);
                for (int chunks = 1; chunks <= 2; chunks++) {
                    float *y = run_tiled(&p, tk, pack, prep, chunks);
                    const int bad = count_bad(&p, y);
                    CHECKF(bad == 0, "%s %s rows %d tokens %d K %lld (%s, %d chunk%s): %d outputs off", name,
                           ew_type_name(t), N, nt, (long long)K, random_bytes ? "random bytes" : "gaussian", chunks,
                           chunks > 1 ? "s" : "", bad);
                    free(y);
                }
                problem_free(&p);
            }
}

/* The scalar tile kernel on panels of 16 and 32 rows, for every type with a layout. */
static void test_scalar_tiles(void) {
    for (size_t i = 0; i < EW_ARRAY_LEN(k_types); i++) {
        tile_kernel tk = {NULL, {0}, 0};
        ew_gemm_pack_fn pack;
        ew_gemm_prep_fn prep;
        CHECK(ew_gemm_type_layout(k_types[i], &tk.layout, &pack, &prep));
        for (int W = 16; W <= 32; W += 16) {
            tk.W = W;
            check_kernel(W == 16 ? "scalar tile W16" : "scalar tile W32", k_types[i], &tk, pack, prep);
        }
    }
}

/* Every level's tile kernels. */
static void test_simd_tiles(void) {
    for (int l = EW_CPU_AVX2; l <= EW_CPU_NEON; l++) {
        for (size_t i = 0; i < EW_ARRAY_LEN(k_types); i++) {
            const ew_gemm_ops *go = ew_gemm_ops_for((ew_cpu_level)l, k_types[i]);
            if (!go) continue;
            const tile_kernel tk = {go->tile, go->layout, go->rows};
            check_kernel(ew_cpu_level_str((ew_cpu_level)l), k_types[i], &tk, go->pack, go->prep);
        }
    }
}

/* A gaussian row with the values quantizers get wrong, one case per 32-element block: zeros,
 * exact halves, NaN, infinities, subnormals, huge values. */
static void special_row(float *x, int64_t n, uint64_t seed) {
    static const float halves[] = {127, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 0.49999997f};
    qt_fill_gauss(x, (size_t)n, seed, 2.0);
    for (int64_t i = 0; i < n; i++) {
        const int64_t j = i % 32;
        switch ((i / 32) % 10) {
        case 1: x[i] = 0; break;
        case 2: x[i] = j < (int64_t)EW_ARRAY_LEN(halves) ? halves[j] : (float)(j - 16); break;
        case 3: if (j == 5) x[i] = NAN; break;
        case 4: if (j == 7) x[i] = -INFINITY; break;
        case 5: x[i] = (float)(j - 16) * 1e-41f; break;
        case 6: x[i] *= 1e30f; break;
        case 7: x[i] = j == 3 ? NAN : 0; break;
        default: break;
        }
    }
}

/* Every fused quantize + prepare: byte-identical to the reference quantizer + preparer. */
static void test_quant_prep(void) {
    for (int l = EW_CPU_AVX2; l <= EW_CPU_NEON; l++)
        for (size_t i = 0; i < EW_ARRAY_LEN(k_types); i++) {
            const ew_gemm_ops *go = ew_gemm_ops_for((ew_cpu_level)l, k_types[i]);
            if (!go || !go->quant_prep) continue;
            const uint32_t at = ew_type_get(k_types[i])->vec_dot_type;
            for (int64_t K = 256; K <= 2560; K += 768) {
                const size_t pr = ew_gemm_prep_row_bytes(&go->layout, K);
                float *x = malloc((size_t)K * sizeof *x);
                uint8_t *a = malloc(ew_row_size(at, K)), *got = calloc(1, pr), *want = calloc(1, pr);
                special_row(x, K, (uint64_t)K);
                go->quant_prep(x, K, go->layout.off, got);
                ew_quantize_row_ref(at, x, a, K);
                go->prep(a, K, go->layout.off, want);
                CHECKF(memcmp(got, want, pr) == 0, "%s %s quant_prep K %lld differs from quantize + prep",
                       ew_cpu_level_str((ew_cpu_level)l), ew_type_name(k_types[i]), (long long)K);
                free(x);
                free(a);
                free(got);
                free(want);
            }
        }
}

/* ew_matmul_with at every level against the scalar table (vec_dot loops). */
static void check_matmul(const ew_kernels *k, const ew_kernels *ref, ew_pool *pool, uint32_t t, int N, int n_tok,
                         int64_t K) {
    problem p;
    problem_init(&p, t, N, 1, K, false, 4242);
    float *x = malloc((size_t)K * n_tok * sizeof *x);
    qt_fill_gauss(x, (size_t)K * n_tok, 77, 1.0);
    ew_tensor w = {"w", p.w, t, {K, N, 1, 1}, p.w_row};
    void *act = malloc(ew_matmul_act_bytes(&w, n_tok));
    float *y = malloc((size_t)N * n_tok * sizeof *y), *y_ref = malloc((size_t)N * n_tok * sizeof *y_ref);
    ew_matmul_with(k, pool, &w, x, y, n_tok, act);
    ew_matmul_with(ref, pool, &w, x, y_ref, n_tok, act);
    int bad = 0;
    for (size_t i = 0; i < (size_t)N * n_tok; i++)
        if (!(fabs((double)y[i] - y_ref[i]) <= 1e-4 * (fabs(y_ref[i]) + 1.0))) bad++;
    CHECKF(bad == 0, "%s matmul %s %dx%lld, n_tok %d, %d threads: %d outputs differ from scalar",
           ew_cpu_level_str(k->level), ew_type_name(t), N, (long long)K, n_tok, ew_pool_size(pool), bad);
    free(x);
    free(act);
    free(y);
    free(y_ref);
    problem_free(&p);
}

static void test_matmul(void) {
    const ew_kernels *ref = ew_kernels_for_level(EW_CPU_SCALAR);
    static const int toks[] = {7, 8, 9, 33, 100};
    static const int rows[] = {1, 7, 33, 100, 257};
    for (int nth = 1; nth <= 2; nth++) {
        ew_pool *pool;
        CHECK_OK(ew_pool_new(nth, &pool));
        for (int l = EW_CPU_AVX2; l <= EW_CPU_NEON; l++) {
            const ew_kernels *k = ew_kernels_for_level((ew_cpu_level)l);
            if (!k) continue;
            for (size_t i = 0; i < EW_ARRAY_LEN(k_types); i++) {
                for (size_t a = 0; a < EW_ARRAY_LEN(toks); a++)
                    check_matmul(k, ref, pool, k_types[i], rows[a], toks[a], 512);
                check_matmul(k, ref, pool, k_types[i], 33, 9, 4096); /* several panel chunks */
            }
        }
        ew_pool_free(pool);
    }
}

/* EW_BENCH=1: GMAC/s of ew_matmul at each level over the matrices of one SmolLM2-135M layer
 * (576 -> 576, 192, 192, 576; 576 -> 1536 x 2; 1536 -> 576; the K-quants only the last, as
 * 576 is no multiple of 256) at 512 tokens, 2 threads. */
static void bench(void) {
    static const int shapes[][2] = {{576, 576}, {576, 192}, {576, 192}, {576, 576}, {576, 1536}, {576, 1536}, {1536, 576}};
    const int n_tok = 512;
    ew_pool *pool;
    CHECK_OK(ew_pool_new(2, &pool));
    for (int l = EW_CPU_AVX2; l <= EW_CPU_NEON; l++) {
        const ew_kernels *k = ew_kernels_for_level((ew_cpu_level)l);
        if (!k) continue;
        for (size_t i = 0; i < EW_ARRAY_LEN(k_types); i++) {
            double best = 1e30, macs = 0;
            for (int rep = 0; rep < 3; rep++) {
                double sec = 0;
                macs = 0;
                for (size_t s = 0; s < EW_ARRAY_LEN(shapes); s++) {
                    const int64_t K = shapes[s][0], N = shapes[s][1];
                    if (K % ew_type_get(k_types[i])->blck_size) continue; /* K-quants: 1536 only */
                    problem p;
                    problem_init(&p, k_types[i], (int)N, 1, K, true, 5);
                    float *x = malloc((size_t)K * n_tok * sizeof *x), *y = malloc((size_t)N * n_tok * sizeof *y);
                    qt_fill_gauss(x, (size_t)K * n_tok, 3, 1.0);
                    ew_tensor w = {"w", p.w, k_types[i], {K, N, 1, 1}, p.w_row};
                    void *act = malloc(ew_matmul_act_bytes(&w, n_tok));
                    const uint64_t t0 = ew_time_ns();
                    ew_matmul_with(k, pool, &w, x, y, n_tok, act);
                    sec += (double)(ew_time_ns() - t0) * 1e-9;
                    macs += (double)K * (double)N * n_tok;
                    free(x);
                    free(y);
                    free(act);
                    problem_free(&p);
                }
                if (sec < best) best = sec;
            }
            printf("bench %-6s %-5s one layer x 512 tokens: %7.2f ms, %6.1f GMAC/s\n", ew_cpu_level_str(k->level),
                   ew_type_name(k_types[i]), best * 1e3, macs / best * 1e-9);
        }
    }
    ew_pool_free(pool);
}

int main(void) {
    if (getenv("EW_BENCH")) {
        bench();
        return 0;
    }
    test_scalar_tiles();
    test_simd_tiles();
    test_quant_prep();
    test_matmul();
    printf("worst |tile - ref| / sum|w*a| = %.3g (limit %.1g); float weights %.3g (limit %.1g)\n", g_worst, RTOL,
           g_worst_float, RTOL_FLOAT);
    return ew_test_end();
}
