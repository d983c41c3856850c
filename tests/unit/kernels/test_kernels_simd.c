/*
 * test_kernels_simd.c - every kernel table this machine can run (ew_kernels_for_level)
 * against the scalar references, on awkward lengths (1, 2, 3, 5, 7, 31, 33, 255, 257 blocks;
 * 1, 3, 7, ... 1023 elements for the float types) with seeded random data:
 *  - activation quantizers: byte-identical to the reference, including rows with zeros,
 *    exact halves (rounding ties), NaN, infinities, subnormals and huge values;
 *  - dots: K-quant dots bit-identical; the others within DOT_RTOL * sum |w_i * a_i| (float
 *    reassociation only), on weights from the reference quantizer and on random bytes;
 *  - the whole ew_matmul_with at each level against the scalar table (rows 1, 7, 33;
 *    n_tok 1, 3).
 * On a machine without SIMD only the scalar table runs (and must equal the references).
 * EW_BENCH=1 also prints dot throughput per level, in L2, in a 4096 x 4096 matrix and in a
 * >= 64 MiB one (not asserted).
 */
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/dispatch.h"
#include "kernels/kernels.h"
#include "quant/quant_ref.h"
#include "test.h"
#include "unit/quant/quant_test_util.h"

/* Tolerance of a non-exact dot, relative to sum |w_i * a_i| of the dequantized rows. The
 * observed worst case is printed; it is below 1e-7 (float rounding of block partial sums). */
#define DOT_RTOL 1e-6

static const int k_blocks[] = {1, 2, 3, 5, 7, 31, 33, 255, 257};
static const int k_floats[] = {1, 3, 7, 8, 9, 31, 33, 255, 257, 1023, 1024};

/* The weight types with kernels; activation types too (their dots exist). */
static const uint32_t k_types[] = {
    EW_TYPE_F32, EW_TYPE_F16, EW_TYPE_BF16, EW_TYPE_Q4_0, EW_TYPE_Q4_1, EW_TYPE_Q5_0,
    EW_TYPE_Q5_1, EW_TYPE_Q8_0, EW_TYPE_Q8_1, EW_TYPE_Q4_K, EW_TYPE_Q5_K, EW_TYPE_Q6_K,
    EW_TYPE_Q8_K,
};

static double g_worst_rel; /* largest |simd - ref| / sum|w*a| seen among non-exact dots */

/* Dots promised bit-identical to the reference at every level (quant_simd.h). */
static bool dot_is_exact(uint32_t t) {
    return t == EW_TYPE_Q4_K || t == EW_TYPE_Q5_K || t == EW_TYPE_Q6_K || t == EW_TYPE_Q8_K;
}

static bool is_float_type(uint32_t t) {
    return t == EW_TYPE_F32 || t == EW_TYPE_F16 || t == EW_TYPE_BF16;
}

/* Element counts to test for type t: k_floats for float types, k_blocks blocks otherwise. */
static int lengths(uint32_t t, int64_t out[16]) {
    const ew_type_traits *tt = ew_type_get(t);
    int n = 0;
    if (is_float_type(t)) {
        for (size_t i = 0; i < EW_ARRAY_LEN(k_floats); i++) out[n++] = k_floats[i];
    } else {
        for (size_t i = 0; i < EW_ARRAY_LEN(k_blocks); i++) out[n++] = (int64_t)k_blocks[i] * tt->blck_size;
    }
    return n;
}

/* ---- quantizers ------------------------------------------------------------------------- */

/* Overwrite parts of a gaussian row with the cases quantizers get wrong: a zero block,
 * exact halves (absmax 127 makes d = 1 for Q8_0 and iscale = -1 for Q8_K), NaN, +-inf,
 * subnormals only, huge values. Each case sits in its own 32-element block when it fits. */
static void add_special_values(float *x, int64_t n) {
    static const float halves[] = {127, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.5f};
    for (int64_t i = 0; i < n; i++) {
        const int64_t blk = i / 32, j = i % 32;
        switch (blk % 16) {
        case 1: x[i] = 0; break;
        case 2: x[i] = j < (int64_t)EW_ARRAY_LEN(halves) ? halves[j] : (float)(j - 16); break;
        case 3: if (j == 5) x[i] = NAN; break;
        case 5: if (j == 7) x[i] = -INFINITY; break;
        case 7: x[i] = (float)(j - 16) * 1e-41f; break;
        case 9: x[i] *= 1e30f; break;
        case 11: x[i] = j == 3 ? -2e-39f : 0; break;
        default: break;
        }
        /* whole 256-element super-blocks too (Q8_K): only subnormals (its scale overflows),
         * a single subnormal among zeros */
        if ((i / 256) % 8 == 6) x[i] = (float)(i % 7 - 3) * 1e-40f;
        if ((i / 256) % 8 == 7) x[i] = i % 256 == 100 ? 3e-39f : 0;
    }
}

/* Quantizer of act type `at` in table k vs the reference, byte for byte, at every length. */
static void check_quantizer(const ew_kernels *k, uint32_t weight_type, bool special) {
    const uint32_t at = k->type[weight_type].act_type;
    int64_t lens[16];
    const int nl = lengths(at, lens);
    for (int li = 0; li < nl; li++) {
        const int64_t n = lens[li];
        const size_t bytes = ew_row_size(at, n);
        float *x = malloc((size_t)n * sizeof *x);
        uint8_t *got = malloc(bytes), *want = malloc(bytes);
        qt_fill_gauss(x, (size_t)n, 1000 + (uint64_t)n, 2.0);
        if (special) add_special_values(x, n);
        memset(got, 0xA5, bytes);
        memset(want, 0x5A, bytes);
        k->type[weight_type].quantize(x, got, n);
        ew_quantize_row_ref(at, x, want, n);
        size_t first = bytes;
        for (size_t i = 0; i < bytes && first == bytes; i++)
            if (got[i] != want[i]) first = i;
        CHECKF(first == bytes, "%s quantize to %s, n=%lld%s: byte %zu differs (%02x vs ref %02x)",
               ew_cpu_level_str(k->level), ew_type_name(at), (long long)n,
               special ? " (special values)" : "", first, first < bytes ? got[first] : 0,
               first < bytes ? want[first] : 0);
        free(x);
        free(got);
        free(want);
    }
}

/* ---- dots ------------------------------------------------------------------------------- */

/* A random finite fp16 scale of magnitude 2^-12 .. 2^-2 with a random sign. */
static ew_half random_scale(qt_rng *r) {
    float v = (float)ldexp(1.0 + qt_uniform(r), -2 - (int)(qt_next(r) % 11));
    return ew_fp32_to_fp16(qt_next(r) & 1 ? -v : v);
}

/* Random bytes for a weight row of t with every fp16/float scale field made a sane value
 * (so any quant bit pattern is exercised, -128 in Q8_0 included, without NaN scales). */
static void random_weights(uint32_t t, uint8_t *w, int64_t n, uint64_t seed) {
    qt_rng r = {seed};
    const size_t bytes = ew_row_size(t, n);
    for (size_t i = 0; i < bytes; i++) w[i] = (uint8_t)qt_next(&r);
    const ew_type_traits *tt = ew_type_get(t);
    for (int64_t b = 0; b < n / tt->blck_size; b++) {
        uint8_t *blk = w + (size_t)b * tt->type_size;
        ew_half h[2] = {random_scale(&r), random_scale(&r)};
        switch (t) {
        case EW_TYPE_Q4_0: case EW_TYPE_Q5_0: case EW_TYPE_Q8_0: memcpy(blk, h, 2); break;
        case EW_TYPE_Q4_1: case EW_TYPE_Q5_1: case EW_TYPE_Q4_K: case EW_TYPE_Q5_K: memcpy(blk, h, 4); break;
        case EW_TYPE_Q6_K: memcpy(blk + offsetof(ew_block_q6_K, d), h, 2); break;
        case EW_TYPE_Q8_1: memcpy(blk, h, 4); break;
        case EW_TYPE_Q8_K: {
            const float d = ew_fp16_to_fp32(h[0]);
            memcpy(blk, &d, sizeof d);
            break;
        }
        default: break;
        }
    }
}

/* sum |w_i * a_i| over the dequantized rows (the scale of the dot's rounding error). */
static double abs_dot(uint32_t wt, uint32_t at, const void *w, const void *a, int64_t n) {
    float *fw = malloc((size_t)n * sizeof *fw), *fa = malloc((size_t)n * sizeof *fa);
    ew_dequantize_row_ref(wt, w, fw, n);
    ew_dequantize_row_ref(at, a, fa, n);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += fabs((double)fw[i] * fa[i]);
    free(fw);
    free(fa);
    return s;
}

/* Compare table k's dot for weight type t against the reference on one weight row. */
static void check_dot_row(const ew_kernels *k, uint32_t t, const uint8_t *w, const uint8_t *a, int64_t n,
                          const char *what) {
    const uint32_t at = k->type[t].act_type;
    const float got = k->type[t].vec_dot(n, w, a);
    const float want = ew_vec_dot_ref(t, n, w, a);
    if (dot_is_exact(t) || k->level == EW_CPU_SCALAR) {
        CHECKF(memcmp(&got, &want, sizeof got) == 0, "%s dot %s n=%lld (%s): %.9g vs ref %.9g (must be identical)",
               ew_cpu_level_str(k->level), ew_type_name(t), (long long)n, what, got, want);
        return;
    }
    const double scale = abs_dot(t, at, w, a, n);
    const double err = fabs((double)got - (double)want);
    if (scale > 0 && err / scale > g_worst_rel) g_worst_rel = err / scale;
    CHECKF(err <= DOT_RTOL * scale, "%s dot %s n=%lld (%s): %.9g vs ref %.9g (err %.3g, sum|wa| %.3g)",
           ew_cpu_level_str(k->level), ew_type_name(t), (long long)n, what, got, want, err, scale);
}

/* Dots of type t at every length: reference-quantized gaussian weights and random-byte
 * weights, against activations from the reference quantizer. */
static void check_dot(const ew_kernels *k, uint32_t t) {
    const uint32_t at = k->type[t].act_type;
    int64_t lens[16];
    const int nl = lengths(t, lens);
    for (int li = 0; li < nl; li++) {
        const int64_t n = lens[li];
        float *xw = malloc((size_t)n * sizeof *xw), *xa = malloc((size_t)n * sizeof *xa);
        uint8_t *w = malloc(ew_row_size(t, n)), *a = malloc(ew_row_size(at, n));
        qt_fill_gauss(xw, (size_t)n, 7 + (uint64_t)n, 1.0);
        qt_fill_gauss(xa, (size_t)n, 99 + (uint64_t)n, 3.0);
        ew_quantize_row_ref(t, xw, w, n);
        ew_quantize_row_ref(at, xa, a, n);
        check_dot_row(k, t, w, a, n, "quantized gaussian");
        if (!is_float_type(t)) {
            random_weights(t, w, n, 31 + (uint64_t)n);
            check_dot_row(k, t, w, a, n, "random bytes");
        }
        free(xw);
        free(xa);
        free(w);
        free(a);
    }
}

/* ---- matmul ------------------------------------------------------------------------------ */

/* ew_matmul_with table k vs the scalar table for weight type t, N rows, n_tok tokens. */
static void check_matmul(const ew_kernels *k, const ew_kernels *ref, ew_pool *pool, uint32_t t, int N,
                         int n_tok) {
    const int64_t K = 768; /* three K-quant super-blocks, 24 legacy blocks */
    const size_t row_bytes = ew_row_size(t, K);
    float *xw = malloc((size_t)K * sizeof *xw), *x = malloc((size_t)K * n_tok * sizeof *x);
    uint8_t *wdata = malloc(row_bytes * (size_t)N);
    float *y = malloc((size_t)N * n_tok * sizeof *y), *y_ref = malloc((size_t)N * n_tok * sizeof *y_ref);
    for (int r = 0; r < N; r++) {
        qt_fill_gauss(xw, (size_t)K, 500 + (uint64_t)r, 0.5);
        ew_quantize_row_ref(t, xw, wdata + (size_t)r * row_bytes, K);
    }
    qt_fill_gauss(x, (size_t)K * n_tok, 77, 1.0);
    ew_tensor w = {"w", wdata, t, {K, N, 1, 1}, row_bytes};
    void *act = malloc(ew_matmul_act_bytes(&w, n_tok));
    ew_matmul_with(k, pool, &w, x, y, n_tok, act);
    ew_matmul_with(ref, pool, &w, x, y_ref, n_tok, act);
    int bad = 0;
    for (int i = 0; i < N * n_tok; i++) {
        const double tol = dot_is_exact(t) ? 0 : 1e-4 * (fabs(y_ref[i]) + 1.0);
        if (!(fabs((double)y[i] - y_ref[i]) <= tol)) bad++;
    }
    CHECKF(bad == 0, "%s matmul %s %dx%lld, n_tok %d: %d outputs differ from scalar",
           ew_cpu_level_str(k->level), ew_type_name(t), N, (long long)K, n_tok, bad);
    free(xw);
    free(x);
    free(wdata);
    free(y);
    free(y_ref);
    free(act);
}

/* ---- throughput (EW_BENCH=1) ------------------------------------------------------------- */

/* A weight matrix of `rows` rows of K elements of type t (random bytes with sane scales for
 * the quantized types, quantized gaussians for the float types) and one activation row of
 * its act_type. */
typedef struct bench_data {
    uint8_t *w, *a;
    size_t row_bytes;
    int rows;
} bench_data;

static bench_data bench_make(const ew_kernels *k, uint32_t t, int rows, int64_t K) {
    bench_data d = {NULL, NULL, ew_row_size(t, K), rows};
    const uint32_t at = k->type[t].act_type;
    d.w = malloc(d.row_bytes * (size_t)rows);
    d.a = malloc(ew_row_size(at, K));
    float *x = malloc((size_t)K * sizeof *x);
    qt_fill_gauss(x, (size_t)K, 3, 1.0);
    ew_quantize_row_ref(at, x, d.a, K);
    for (int r = 0; r < rows; r++) {
        if (is_float_type(t)) {
            qt_fill_gauss(x, (size_t)K, (uint64_t)r, 1.0);
            ew_quantize_row_ref(t, x, d.w + (size_t)r * d.row_bytes, K);
        } else {
            random_weights(t, d.w + (size_t)r * d.row_bytes, K, (uint64_t)r);
        }
    }
    free(x);
    return d;
}

/* Seconds per pass of table k's dot of type t over all rows of d: best of `reps` passes. */
static double bench_time(const ew_kernels *k, uint32_t t, const bench_data *d, int64_t K, int reps) {
    double best = 1e30;
    volatile float sink = 0;
    for (int rep = 0; rep < reps; rep++) {
        const double t0 = ew_time_s();
        for (int r = 0; r < d->rows; r++) sink += k->type[t].vec_dot(K, d->w + (size_t)r * d->row_bytes, d->a);
        const double dt = ew_time_s() - t0;
        if (dt < best) best = dt;
    }
    (void)sink;
    return best;
}

/* Per type and level, one thread: GMAC/s with the weights in L2 (64 x 4096), GB/s of
 * weights from a 4096 x 4096 matrix (in the last-level cache when it is large) and from a
 * >= 64 MiB matrix (DRAM). */
static void bench(void) {
    static const uint32_t types[] = {EW_TYPE_Q8_0, EW_TYPE_Q4_0, EW_TYPE_Q5_0, EW_TYPE_Q4_1, EW_TYPE_Q4_K,
                                     EW_TYPE_Q5_K, EW_TYPE_Q6_K, EW_TYPE_F16, EW_TYPE_BF16, EW_TYPE_F32};
    const int64_t K = 4096;
    const ew_kernels *scalar = ew_kernels_for_level(EW_CPU_SCALAR);
    printf("dot throughput, one thread: GMAC/s with weights in L2 (64 x 4096) | GB/s of weights from "
           "4096 x 4096 | GB/s from >= 64 MiB\n");
    for (size_t i = 0; i < EW_ARRAY_LEN(types); i++) {
        const uint32_t t = types[i];
        const size_t row_bytes = ew_row_size(t, K);
        const int big_rows = (int)((((size_t)64 << 20) + row_bytes - 1) / row_bytes);
        bench_data hot = bench_make(scalar, t, 64, K), mid = bench_make(scalar, t, 4096, K);
        bench_data big = bench_make(scalar, t, big_rows, K);
        printf("  %-5s", ew_type_name(t));
        for (int l = 0; l < 4; l++) {
            const ew_kernels *k = ew_kernels_for_level((ew_cpu_level)l);
            if (!k) continue;
            const double th = bench_time(k, t, &hot, K, 200), tm = bench_time(k, t, &mid, K, 5);
            const double tb = bench_time(k, t, &big, K, 3);
            printf("  %s %6.2f | %5.2f | %5.2f", ew_cpu_level_str((ew_cpu_level)l), 64.0 * K / th / 1e9,
                   (double)row_bytes * 4096 / tm / 1e9, (double)row_bytes * big_rows / tb / 1e9);
        }
        printf("\n");
        bench_data *all[] = {&hot, &mid, &big};
        for (int j = 0; j < 3; j++) {
            free(all[j]->w);
            free(all[j]->a);
        }
    }
}

int main(void) {
    const ew_kernels *scalar = ew_kernels_for_level(EW_CPU_SCALAR);
    CHECK(scalar != NULL);
    if (!scalar) return ew_test_end();
    CHECK(ew_kernels_get() != NULL);
    CHECK(ew_kernels_get() == ew_kernels_for_level(ew_kernels_get()->level));
    ew_pool *pool = NULL;
    CHECK_OK(ew_pool_new(2, &pool));
    for (int l = 0; l < 4; l++) {
        const ew_kernels *k = ew_kernels_for_level((ew_cpu_level)l);
        CHECK((k != NULL) == ew_cpu_level_supported((ew_cpu_level)l));
        if (!k) continue;
        printf("level %s\n", ew_cpu_level_str(k->level));
        CHECK(k->level == (ew_cpu_level)l);
        for (size_t i = 0; i < EW_ARRAY_LEN(k_types); i++) {
            const uint32_t t = k_types[i];
            CHECKF(k->type[t].quantize && k->type[t].vec_dot, "%s: no kernels for %s", ew_cpu_level_str(k->level),
                   ew_type_name(t));
            CHECK(k->type[t].act_type == ew_type_get(t)->vec_dot_type);
            if (!k->type[t].quantize || !k->type[t].vec_dot) continue;
            check_quantizer(k, t, false);
            check_quantizer(k, t, true);
            check_dot(k, t);
        }
        CHECK(k->type[EW_TYPE_Q2_K].vec_dot == NULL); /* known but unsupported */
        static const int rows[] = {1, 7, 33}, toks[] = {1, 3};
        static const uint32_t mm_types[] = {EW_TYPE_Q4_0, EW_TYPE_Q8_0, EW_TYPE_Q5_1, EW_TYPE_Q4_K,
                                            EW_TYPE_Q6_K, EW_TYPE_F16, EW_TYPE_F32, EW_TYPE_BF16};
        for (size_t ti = 0; ti < EW_ARRAY_LEN(mm_types); ti++)
            for (int r = 0; r < 3; r++)
                for (int tk = 0; tk < 2; tk++) check_matmul(k, scalar, pool, mm_types[ti], rows[r], toks[tk]);
    }
    printf("worst non-exact dot error: %.3g of sum|w*a| (limit %g)\n", g_worst_rel, DOT_RTOL);
    const char *b = getenv("EW_BENCH");
    if (b && *b && strcmp(b, "0") != 0) bench();
    ew_pool_free(pool);
    return ew_test_end();
}
