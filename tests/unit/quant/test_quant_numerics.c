/*
 * test_quant_numerics.c - accuracy of the quant references:
 *  - golden hashes: quantizing a fixed row gives exactly ggml's bytes (hashes derived from
 *    ggml's quantize_row_*_ref by tests/unit/quant/ggml_crosscheck.py);
 *  - quantize -> dequantize RMSE on gaussian data within a per-type limit;
 *  - vec_dot_ref against a double-precision dot of the dequantized rows, on awkward
 *    lengths, and against the dot of the original floats;
 *  - zero rows stay zero.
 */
#include "quant/quant_ref.h"
#include "test.h"
#include "quant_test_util.h"

/* ---- golden bytes ---------------------------------------------------------------------- */

#define GOLDEN_N 4096

/* The golden row: each x[i] is a sum of four draws of a 32-bit LCG mapped to -500..500,
 * divided by 512 (bell-shaped, in about -4..4, every value exact in float), then elements
 * 256..287 are zeroed (a zero sub-block), 512..767 set to 0.75 (a constant super-block) and
 * x[300] = 37.5 (an outlier). ggml_crosscheck.py builds the same row with integers. */
static void golden_row(float *x) {
    uint32_t s = 12345;
    for (int i = 0; i < GOLDEN_N; i++) {
        int k = 0;
        for (int r = 0; r < 4; r++) {
            s = s * 1664525u + 1013904223u;
            k += (int)((s >> 16) % 1001) - 500;
        }
        x[i] = (float)k / 512.0f;
    }
    for (int i = 256; i < 288; i++) x[i] = 0;
    for (int i = 512; i < 768; i++) x[i] = 0.75f;
    x[300] = 37.5f;
}

/* FNV-1a 64 of ggml's quantize_row_<type>_ref(golden row), bytes as in a GGUF file. */
static const struct { uint32_t type; uint64_t hash; } k_golden[] = {
    { EW_TYPE_Q4_0, 0x0DD23D9D0D5AAB97ULL }, { EW_TYPE_Q4_1, 0x74DAD73352CC2FC3ULL },
    { EW_TYPE_Q5_0, 0x31FF2DF66A223473ULL }, { EW_TYPE_Q5_1, 0xA06C357C8880AB7DULL },
    { EW_TYPE_Q8_0, 0xB64F84E77DDB98E8ULL }, { EW_TYPE_Q8_1, 0x856FF286BE8D8039ULL },
    { EW_TYPE_Q4_K, 0x4E12B6A9FBD1571AULL }, { EW_TYPE_Q5_K, 0x17A14943F01BCA32ULL },
    { EW_TYPE_Q6_K, 0xC201333E29A5E913ULL }, { EW_TYPE_Q8_K, 0x28881E523315BFFCULL },
};

static void test_golden(void) {
    static float x[GOLDEN_N];
    static uint8_t buf[GOLDEN_N * 2];
    golden_row(x);
    for (size_t i = 0; i < EW_ARRAY_LEN(k_golden); i++) {
        uint32_t t = k_golden[i].type;
        size_t size = ew_row_size(t, GOLDEN_N);
        memset(buf, 0, sizeof buf);
        ew_quantize_row_ref(t, x, buf, GOLDEN_N);
        uint64_t h = qt_fnv1a(buf, size);
        CHECKF(h == k_golden[i].hash, "%s: bytes differ from ggml's (hash 0x%016llX)",
               ew_type_name(t), (unsigned long long)h);
    }
}

/* ---- round-trip RMSE ---------------------------------------------------------------------- */

/*
 * RMSE limits for quantize -> dequantize of N(0, 1) data (16384 values, seed 42), i.e.
 * relative to the data's standard deviation (also checked at x1000). Each limit is the
 * measured RMSE of this implementation (whose bytes equal ggml's) rounded up by ~15%: a
 * change that makes a quantizer worse fails, and a quantizer and dequantizer that disagree
 * on the layout (error ~1.0 or more) fail by far. The theory column is the uniform-error
 * estimate step/sqrt(12) with the step each type uses. For comparison, ggml's
 * test-quantize-fns allows 0.002 of sqrt(sum err^2)/n on 4096 values of a cosine of
 * amplitude 2 for every 4-8 bit type (~0.09 RMSE per unit of data), which is looser.
 *
 *   type   measured   limit    theory / why
 *   F32    0          0        a copy
 *   F16    0.000208   0.00025  11-bit significand: 2^-11 relative step
 *   BF16   0.00168    0.0020   8-bit significand: 2^-8 relative step
 *   Q8_0   0.00530    0.0062   step absmax(32)/127 ~ 0.018 -> 0.0053
 *   Q8_1   0.00530    0.0062   as Q8_0 (s does not enter the values)
 *   Q8_K   0.00693    0.0080   one step for 256 values: absmax(256) ~ 3 -> 0.0068
 *   Q6_K   0.0176     0.021    6 bits, int8 scale per 16, x^2-weighted scale search
 *   Q5_0   0.0423     0.049    step absmax(32)/16 ~ 0.14 -> 0.040
 *   Q5_1   0.0373     0.043    step range(32)/31 ~ 0.14 -> 0.039
 *   Q5_K   0.0355     0.041    5 bits, 6-bit scale + min per 32, searched
 *   Q4_0   0.0847     0.098    step absmax(32)/8 ~ 0.28 -> 0.081
 *   Q4_1   0.0776     0.090    step range(32)/15 ~ 0.29 -> 0.083
 *   Q4_K   0.0703     0.081    4 bits, 6-bit scale + min per 32, searched
 */
static const struct { uint32_t type; double limit; } k_rmse[] = {
    { EW_TYPE_F32, 0.0 },     { EW_TYPE_F16, 0.00025 }, { EW_TYPE_BF16, 0.0020 },
    { EW_TYPE_Q8_0, 0.0062 }, { EW_TYPE_Q8_1, 0.0062 }, { EW_TYPE_Q8_K, 0.0080 },
    { EW_TYPE_Q6_K, 0.021 },  { EW_TYPE_Q5_0, 0.049 },  { EW_TYPE_Q5_1, 0.043 },
    { EW_TYPE_Q5_K, 0.041 },  { EW_TYPE_Q4_0, 0.098 },  { EW_TYPE_Q4_1, 0.090 },
    { EW_TYPE_Q4_K, 0.081 },
};

#define RMSE_N 16384

/* RMSE of quantize -> dequantize of x[0..n) through `type`. */
static double round_trip_rmse(uint32_t type, const float *x, int64_t n) {
    void *q = malloc(ew_row_size(type, n));
    float *y = malloc((size_t)n * sizeof *y);
    ew_quantize_row_ref(type, x, q, n);
    ew_dequantize_row_ref(type, q, y, n);
    double se = 0;
    for (int64_t i = 0; i < n; i++) se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
    free(q);
    free(y);
    return sqrt(se / (double)n);
}

static void test_rmse(void) {
    float *x = malloc(RMSE_N * sizeof *x);
    qt_fill_gauss(x, RMSE_N, 42, 1.0);
    printf("%-6s %10s %8s\n", "type", "rmse", "limit");
    for (size_t i = 0; i < EW_ARRAY_LEN(k_rmse); i++) {
        double r = round_trip_rmse(k_rmse[i].type, x, RMSE_N);
        printf("%-6s %10.6f %8.5f\n", ew_type_name(k_rmse[i].type), r, k_rmse[i].limit);
        CHECKF(r <= k_rmse[i].limit, "%s: rmse %g > %g", ew_type_name(k_rmse[i].type), r, k_rmse[i].limit);
    }
    /* scale invariance: the same data times 1000 (still well inside fp16's range) */
    for (int64_t i = 0; i < RMSE_N; i++) x[i] *= 1000.0f;
    for (size_t i = 0; i < EW_ARRAY_LEN(k_rmse); i++) {
        double r = round_trip_rmse(k_rmse[i].type, x, RMSE_N) / 1000.0;
        CHECKF(r <= k_rmse[i].limit, "%s x1000: rmse %g > %g", ew_type_name(k_rmse[i].type), r, k_rmse[i].limit);
    }
    free(x);
}

/* All-zero rows quantize to blocks that dequantize to exact zeros (no NaN from 0/0). */
static void test_zeros(void) {
    for (size_t i = 0; i < EW_ARRAY_LEN(k_rmse); i++) {
        uint32_t t = k_rmse[i].type;
        const int64_t n = 512;
        float x[512] = { 0 }, y[512];
        uint8_t q[512 * 4];
        memset(q, 0x5A, sizeof q);
        ew_quantize_row_ref(t, x, q, n);
        ew_dequantize_row_ref(t, q, y, n);
        int bad = 0;
        for (int64_t j = 0; j < n; j++) bad += y[j] != 0;
        CHECKF(bad == 0, "%s: zeros come back as %d non-zeros", ew_type_name(t), bad);
        if (ew_type_get(t)->vec_dot_type == t) CHECKF(ew_vec_dot_ref(t, n, q, q) == 0, "%s", ew_type_name(t));
    }
}

/* A NaN and an infinity in the first super-block of a row: quantizing must not be undefined
 * behaviour (clang -fsanitize=float-cast-overflow) and must not disturb the next block. */
static void test_nonfinite(void) {
    float x[512], y[512], alone[256];
    uint8_t q[512 * 4], q2[256 * 4];
    qt_fill_gauss(x, 512, 9, 1.0);
    x[5] = NAN;
    x[40] = INFINITY;
    x[41] = -INFINITY;
    x[100] = 3e38f;
    for (size_t i = 0; i < EW_ARRAY_LEN(k_rmse); i++) {
        uint32_t t = k_rmse[i].type;
        ew_quantize_row_ref(t, x, q, 512);
        ew_dequantize_row_ref(t, q, y, 512);
        ew_quantize_row_ref(t, x + 256, q2, 256);
        ew_dequantize_row_ref(t, q2, alone, 256);
        CHECKF(memcmp(y + 256, alone, sizeof alone) == 0, "%s: a NaN leaks into the next block", ew_type_name(t));
    }
}

/* ---- dot products ---------------------------------------------------------------------------- */

/* Weight types and how far vec_dot_ref may be from the double dot of the dequantized rows,
 * relative to sum |w_i a_i|: float accumulation over <= 33 blocks. */
static const uint32_t k_dot_types[] = {
    EW_TYPE_F32, EW_TYPE_F16, EW_TYPE_BF16, EW_TYPE_Q4_0, EW_TYPE_Q4_1, EW_TYPE_Q5_0,
    EW_TYPE_Q5_1, EW_TYPE_Q8_0, EW_TYPE_Q8_1, EW_TYPE_Q4_K, EW_TYPE_Q5_K, EW_TYPE_Q6_K,
    EW_TYPE_Q8_K,
};
#define DOT_REL_TOL 1e-5

/* Extra allowance of the Q4_1/Q5_1 . Q8_1 dots: they use s = fp16(d * sum q) of each
 * activation block, so each block may be off by |m_w| * |s| * 2^-11 (half an fp16 ulp);
 * we allow one ulp. 0 for other types. */
static double q8_1_allowance(uint32_t type, const void *w, const void *a, int64_t n) {
    if (type != EW_TYPE_Q4_1 && type != EW_TYPE_Q5_1) return 0;
    const ew_block_q8_1 *ab = a;
    double sum = 0;
    for (int64_t b = 0; b < n / 32; b++) {
        ew_half m = type == EW_TYPE_Q4_1 ? ((const ew_block_q4_1 *)w)[b].m : ((const ew_block_q5_1 *)w)[b].m;
        sum += fabs(ew_fp16_to_fp32(m)) * fabs(ew_fp16_to_fp32(ab[b].s)) * 0x1p-10;
    }
    return sum;
}

/* RMSE limit of a type from the table above (for the dot-vs-float bound). */
static double rmse_limit(uint32_t type) {
    for (size_t i = 0; i < EW_ARRAY_LEN(k_rmse); i++) {
        if (k_rmse[i].type == type) return k_rmse[i].limit;
    }
    return 1.0;
}

/* One dot test of n elements: quantize gaussian w to `type` and a to its vec_dot_type. */
static void dot_case(uint32_t type, int64_t n, uint64_t seed) {
    const uint32_t at = ew_type_get(type)->vec_dot_type;
    float *w = malloc((size_t)n * sizeof *w), *a = malloc((size_t)n * sizeof *a);
    float *wd = malloc((size_t)n * sizeof *wd), *ad = malloc((size_t)n * sizeof *ad);
    void *wq = malloc(ew_row_size(type, n)), *aq = malloc(ew_row_size(at, n));
    qt_fill_gauss(w, (size_t)n, seed, 1.0);
    qt_fill_gauss(a, (size_t)n, seed ^ 0xABCDEFull, 2.0);
    ew_quantize_row_ref(type, w, wq, n);
    ew_quantize_row_ref(at, a, aq, n);
    ew_dequantize_row_ref(type, wq, wd, n);
    ew_dequantize_row_ref(at, aq, ad, n);

    double ref = 0, mag = 0, exact = 0, nw = 0, na = 0;
    for (int64_t i = 0; i < n; i++) {
        ref += (double)wd[i] * ad[i];
        mag += fabs((double)wd[i] * ad[i]);
        exact += (double)w[i] * a[i];
        nw += (double)w[i] * w[i];
        na += (double)a[i] * a[i];
    }
    const double got = ew_vec_dot_ref(type, n, wq, aq);
    const double tol = DOT_REL_TOL * mag + q8_1_allowance(type, wq, aq, n) + 1e-30;
    CHECKF(fabs(got - ref) <= tol, "%s . %s n=%lld: %.9g vs double %.9g (tol %.3g)", ew_type_name(type),
           ew_type_name(at), (long long)n, got, ref, tol);

    /* against the unquantized floats: error ~ (rmse_w + rmse_a) / sqrt(n) of |w||a| */
    const double bound = 4.0 * (rmse_limit(type) + rmse_limit(at)) / sqrt((double)n) + 1e-6;
    const double rel = fabs(got - exact) / sqrt(nw * na);
    CHECKF(rel <= bound, "%s n=%lld: |dot - float dot| / |w||a| = %.3g > %.3g", ew_type_name(type),
           (long long)n, rel, bound);
    free(w), free(a), free(wd), free(ad), free(wq), free(aq);
}

static void test_dots(void) {
    /* every multiple of the block size up to 8 blocks, then 16, 31 and 33 blocks */
    const int nblocks[] = { 1, 2, 3, 4, 5, 6, 7, 8, 16, 31, 33 };
    for (size_t t = 0; t < EW_ARRAY_LEN(k_dot_types); t++) {
        const uint32_t type = k_dot_types[t];
        const int64_t qk = ew_type_get(type)->blck_size;
        for (size_t k = 0; k < EW_ARRAY_LEN(nblocks); k++) {
            dot_case(type, nblocks[k] * qk, 1000 * t + k);
        }
        if (qk == 1) {
            dot_case(type, 1023, 77 + t);
            dot_case(type, 4096, 78 + t);
        }
    }
}

int main(void) {
    test_golden();
    test_rmse();
    test_zeros();
    test_nonfinite();
    test_dots();
    return ew_test_end();
}
