/*
 * layer_avx2.c - AVX2 + FMA + F16C twins of the layer pieces in layer_ref.c (rmsnorm, add,
 * softmax, swiglu, rope, F32 -> F16 rows). Tails (n % 8) run the scalar formula; exp is
 * ew_exp_avx2 (vmath_x86.h). Results match the references up to float rounding (sums in
 * float lanes instead of double, fused multiply-adds, a 2-ulp exp); to_f16 is
 * bit-identical.
 */
#include "kernels/layer.h"
#include "kernels/vmath_x86.h"
#include <math.h>

/* Sum of the 8 lanes. */
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Largest of the 8 lanes. */
static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* Sum of squares of n floats (float lanes, two accumulators, scalar tail). */
static float sum_squares(const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        a0 = _mm256_fmadd_ps(v0, v0, a0);
        a1 = _mm256_fmadd_ps(v1, v1, a1);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        a0 = _mm256_fmadd_ps(v, v, a0);
    }
    float ss = hsum8(_mm256_add_ps(a0, a1));
    for (; i < n; i++) ss += x[i] * x[i];
    return ss;
}

/* out = x / rms(x) * w. */
void ew_rmsnorm_avx2(float *out, const float *x, const float *w, int n, float eps) {
    const float scale = 1.0f / sqrtf(sum_squares(x, n) / (float)n + eps);
    const __m256 s = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), _mm256_loadu_ps(w + i)));
    for (; i < n; i++) out[i] = x[i] * scale * w[i];
}

/* x += y. */
void ew_add_avx2(float *x, const float *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) x[i] += y[i];
}

/* Softmax in place: max, exp(x - max) with the sum in float lanes, scale. */
void ew_softmax_avx2(float *x, int n) {
    __m256 mv = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
    float max = hmax8(mv);
    for (; i < n; i++) max = fmaxf(max, x[i]);
    const __m256 m = _mm256_set1_ps(max);
    __m256 sv = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = ew_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        sv = _mm256_add_ps(sv, e);
        _mm256_storeu_ps(x + i, e);
    }
    float sum = hsum8(sv);
    for (; i < n; i++) { x[i] = expf(x[i] - max); sum += x[i]; }
    const float inv = 1.0f / sum;
    const __m256 iv = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), iv));
    for (; i < n; i++) x[i] *= inv;
}

/* out = gate / (1 + exp(-gate)) * up. */
void ew_swiglu_avx2(float *out, const float *gate, const float *up, int n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 e = ew_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* Adjacent pairs (2i, 2i+1) of one head: 4 pairs per vector (as layer_avx512.c). */
static void rope_adjacent(float *x, int half, const float *c, const float *s) {
    const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    int i = 0;
    for (; i + 4 <= half; i += 4) {
        const __m256 cv = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(c + i)), dup);
        const __m256 sv = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + i)), dup);
        const __m256 v = _mm256_loadu_ps(x + 2 * i);
        const __m256 sw = _mm256_permute_ps(v, 0xB1);
        _mm256_storeu_ps(x + 2 * i, _mm256_fmaddsub_ps(v, cv, _mm256_mul_ps(sw, sv)));
    }
    for (; i < half; i++) {
        const float x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * c[i] - x1 * s[i];
        x[2 * i + 1] = x0 * s[i] + x1 * c[i];
    }
}

/* NeoX pairs (i, i + half) of one head, 8 pairs per step. */
static void rope_neox(float *x, int half, const float *c, const float *s) {
    int i = 0;
    for (; i + 8 <= half; i += 8) {
        const __m256 cv = _mm256_loadu_ps(c + i), sv = _mm256_loadu_ps(s + i);
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + half + i);
        _mm256_storeu_ps(x + i, _mm256_fmsub_ps(a, cv, _mm256_mul_ps(b, sv)));
        _mm256_storeu_ps(x + half + i, _mm256_fmadd_ps(a, sv, _mm256_mul_ps(b, cv)));
    }
    for (; i < half; i++) {
        const float a = x[i], b = x[half + i];
        x[i] = a * c[i] - b * s[i];
        x[half + i] = a * s[i] + b * c[i];
    }
}

/* RoPE on n_heads heads with the cos/sin table of one position. */
void ew_rope_avx2(float *x, int n_heads, int D, int n_rot, const float *cs, bool neox) {
    const int half = n_rot / 2;
    for (int h = 0; h < n_heads; h++) {
        if (neox) rope_neox(x + (size_t)h * D, half, cs, cs + half);
        else rope_adjacent(x + (size_t)h * D, half, cs, cs + half);
    }
}

/* dst = binary16 of src, ties to even (bit-identical to ew_fp32_to_fp16). */
void ew_to_f16_avx2(uint16_t *dst, const float *src, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    for (; i < n; i++) dst[i] = (uint16_t)_cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}
